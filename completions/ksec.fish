# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ksec_global_optspecs
    string join \n config= h/help V/version
end

function __fish_ksec_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ksec_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ksec_using_subcommand
    set -l cmd (__fish_ksec_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ksec -n "__fish_ksec_needs_command" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ksec -n "__fish_ksec_needs_command" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "encrypt" -d 'Encrypt a file (or stdin) for the given recipients'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "decrypt" -d 'Decrypt a file (or stdin) to stdout, a file, or in place'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "apply" -d 'Decrypt manifests in memory and stream them to `kubectl apply -f -`'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "rotate" -d 'New data key: every value re-encrypted; add or remove recipients on the way'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "updatekeys" -d 'Make files\' recipients match their .sops.yaml creation rule (same data key)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "groups" -d 'Add or delete key groups (Shamir shares of the data key)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "check" -d 'Find Secrets in clear, invalid Secrets and malformed sops metadata (CI, pre-commit)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "edit" -d 'Edit an encrypted file in your editor (a new file starts from a template)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "set" -d 'Set one value (in place), keeping every other ciphertext as it is'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "unset" -d 'Remove one key or list item (in place)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "exec-env" -d 'Run a command with the file\'s values as environment variables'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "exec-file" -d 'Run a command with `{}` replaced by the path of the decrypted file (a FIFO by default)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "filestatus" -d 'Print whether a file is encrypted, as sops does: {"encrypted":true}'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "diff" -d 'Print a file decrypted for `git diff` (a textconv driver); files ksec cannot decrypt are printed as they are'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "merge" -d 'Git merge driver: merge three versions of an encrypted file by their plaintext'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "git-setup" -d 'Print (or write) the Git configuration for `ksec diff` and `ksec merge`'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "doctor" -d 'Show where ksec looks for keys and what it found there; with FILE, which of its recipients this machine can open, and the .sops.yaml rule that applies to it'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "version" -d 'Print ksec\'s version (under the name `sops`, the sops version it implements first)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "kustomize-generator" -d 'Kustomize generator plugin: print the files a KsecGenerator manifest names, decrypted'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l output -d 'Write the result to this file instead of stdout' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l input-type -d 'Format of the input: yaml, json, dotenv, ini or binary (default: from the file name, else from the content)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l output-type -d 'Format of the output: yaml, json, dotenv, ini or binary (default: the input\'s format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l filename-override -d 'Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l indent -d 'Indentation of YAML that ksec writes from scratch (the input\'s own layout is kept)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s a -l age -d 'age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s p -l pgp -d 'OpenPGP recipients, comma separated: fingerprints (encrypted with `gpg` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l hc-vault-transit -d 'HashiCorp Vault or OpenBao transit keys, comma separated URIs (https://vault.example.com:8200/v1/transit/keys/NAME). The token is VAULT_TOKEN, else ~/.vault-token' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s k -l kms -d 'AWS KMS keys, comma separated ARNs (ARN+arn:aws:iam::…:role/… to assume a role)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l aws-profile -d 'AWS profile of the --kms keys' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l encryption-context -d 'KMS encryption context of the --kms keys: key:value pairs, comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l gcp-kms -d 'GCP KMS keys, comma separated resource IDs (projects/P/locations/L/keyRings/R/cryptoKeys/K)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l azure-kv -d 'Azure Key Vault keys, comma separated key URLs (https://VAULT.vault.azure.net/keys/NAME/VERSION)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l encrypted-regex -d 'Encrypt only values under keys matching this regex (e.g. \'^(data|stringData)$\')' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l unencrypted-regex -d 'Leave values under keys matching this regex in clear' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l encrypted-suffix -d 'Encrypt only values under keys ending with this suffix' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l unencrypted-suffix -d 'Leave values under keys ending with this suffix in clear (default: _unencrypted)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l encrypted-comment-regex -d 'Encrypt only values after a comment matching this regex' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l unencrypted-comment-regex -d 'Leave values after a comment matching this regex in clear' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l shamir-secret-sharing-threshold -d 'Key groups needed to rebuild the data key (Shamir threshold)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s i -l in-place -d 'Replace FILE with the result (atomically; the original is untouched on any error)'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so unencrypted ones may be edited'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l no-validate -d 'Skip the Kubernetes Secret checks (required keys per type, base64 data, unknown fields, the 1 MiB limit). Secrets are still never written with a value in clear'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l strip-server-fields -d 'Leave out the fields the API server sets in manifests taken from a live cluster (`kubectl get -o yaml`): metadata.resourceVersion, uid, creationTimestamp, managedFields, selfLink and the kubectl last-applied annotation'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l output -d 'Write the result to this file instead of stdout' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l input-type -d 'Format of the input: yaml, json, dotenv, ini or binary (default: from the file name, else from the content)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l output-type -d 'Format of the output: yaml, json, dotenv, ini or binary (default: the input\'s format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l filename-override -d 'Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l indent -d 'Indentation of YAML that ksec writes from scratch (the input\'s own layout is kept)' -r
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l extract -d 'Print only the value at this path (\'["data"]["password"]\'): a string raw, without a line break; a mapping as a document' -r
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s R -l recursive -d 'Read directories recursively (`*.yaml`, `*.yml`, `*.json`)'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s i -l in-place -d 'Replace FILE with the result (atomically; the original is untouched on any error)'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l ignore-mac -d 'Decrypt even when the file\'s MAC does not match its content'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s f -l filename -d 'Files or directories to apply (also accepted as positional arguments)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand apply" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand apply" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s R -l recursive -d 'Read directories recursively'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -l ignore-mac -d 'Apply even when the MAC of a file does not match'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l add-age -d 'Add age recipients (to the first key group), comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l rm-age -d 'Remove age recipients (from every group), comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l add-pgp -d 'Add OpenPGP recipients (to the first key group), comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l rm-pgp -d 'Remove OpenPGP fingerprints (from every group), comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l add-hc-vault-transit -d 'Add Vault transit keys (to the first key group), comma separated URIs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l rm-hc-vault-transit -d 'Remove Vault transit keys (from every group), comma separated URIs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l add-kms -d 'Add AWS KMS keys (to the first key group), comma separated ARNs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l rm-kms -d 'Remove AWS KMS keys (from every group), comma separated ARNs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l aws-profile -d 'AWS profile of the keys --add-kms and --rm-kms name' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l encryption-context -d 'KMS encryption context of the keys --add-kms and --rm-kms name: key:value pairs, comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l add-gcp-kms -d 'Add GCP KMS keys (to the first key group), comma separated resource IDs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l rm-gcp-kms -d 'Remove GCP KMS keys (from every group), comma separated resource IDs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l add-azure-kv -d 'Add Azure Key Vault keys (to the first key group), comma separated key URLs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l rm-azure-kv -d 'Remove Azure Key Vault keys (from every group), comma separated key URLs' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l output -d 'Write the result to this file instead of stdout' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l input-type -d 'Format of the input: yaml, json, dotenv, ini or binary (default: from the file name, else from the content)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l output-type -d 'Format of the output: yaml, json, dotenv, ini or binary (default: the input\'s format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l filename-override -d 'Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l indent -d 'Indentation of YAML that ksec writes from scratch (the input\'s own layout is kept)' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -l ignore-mac -d 'Rotate even when the MAC does not match; the new MAC then vouches for the values as they are'
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -s i -l in-place -d 'Replace FILE with the result (atomically; the original is untouched on any error)'
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -l input-type -d 'Format of the files: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -l shamir-secret-sharing-threshold -d 'Key groups needed to rebuild the data key' -r
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -s y -l yes -d 'Do not ask before writing'
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -l dry-run -d 'Show what would change; write nothing'
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -l ignore-mac -d 'Change the keys even when the MAC does not match (the values are not read, but a file whose MAC fails is refused so that new keys never vouch for tampered values)'
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand updatekeys" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -f -a "add" -d 'Add a key group'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -f -a "delete" -d 'Delete the key group at INDEX (0-based, as sops counts)'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -s f -l file -d 'The encrypted file' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l age -d 'age recipients of the new group (repeatable, or comma separated)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l pgp -d 'OpenPGP recipients of the new group (repeatable, or comma separated)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l hc-vault-transit -d 'Vault transit key URIs of the new group (repeatable, or comma separated)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l kms -d 'AWS KMS key ARNs of the new group (repeatable, or comma separated)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l aws-profile -d 'AWS profile of the --kms keys' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l encryption-context -d 'KMS encryption context of the --kms keys: key:value pairs, comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l gcp-kms -d 'GCP KMS key resource IDs of the new group (repeatable, or comma separated)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l azure-kv -d 'Azure Key Vault key URLs of the new group (repeatable, or comma separated)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l shamir-secret-sharing-threshold -d 'Key groups needed to rebuild the data key' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -s i -l in-place -d 'Replace the file instead of printing the result'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -l ignore-mac -d 'Change the keys even when the MAC does not match (the values are not read, but a file whose MAC fails is refused so that new keys never vouch for tampered values)'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -s f -l file -d 'The encrypted file' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -l shamir-secret-sharing-threshold -d 'Key groups needed to rebuild the data key' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -s i -l in-place -d 'Replace the file instead of printing the result'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -l ignore-mac -d 'Change the keys even when the MAC does not match (the values are not read, but a file whose MAC fails is refused so that new keys never vouch for tampered values)'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a key group'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete the key group at INDEX (0-based, as sops counts)'
complete -c ksec -n "__fish_ksec_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ksec -n "__fish_ksec_using_subcommand check" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand check" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand check" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l output-type -d 'Format of the text in the editor and of the file written: the file\'s own format (as sops, a different one is refused: ksec edits a file in place, in its format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l indent -d 'Indentation of YAML that ksec writes from scratch' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -s a -l age -d 'age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -s p -l pgp -d 'OpenPGP recipients, comma separated: fingerprints (encrypted with `gpg` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l hc-vault-transit -d 'HashiCorp Vault or OpenBao transit keys, comma separated URIs (https://vault.example.com:8200/v1/transit/keys/NAME). The token is VAULT_TOKEN, else ~/.vault-token' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -s k -l kms -d 'AWS KMS keys, comma separated ARNs (ARN+arn:aws:iam::…:role/… to assume a role)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l aws-profile -d 'AWS profile of the --kms keys' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l encryption-context -d 'KMS encryption context of the --kms keys: key:value pairs, comma separated' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l gcp-kms -d 'GCP KMS keys, comma separated resource IDs (projects/P/locations/L/keyRings/R/cryptoKeys/K)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l azure-kv -d 'Azure Key Vault keys, comma separated key URLs (https://VAULT.vault.azure.net/keys/NAME/VERSION)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l encrypted-regex -d 'Encrypt only values under keys matching this regex (e.g. \'^(data|stringData)$\')' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l unencrypted-regex -d 'Leave values under keys matching this regex in clear' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l encrypted-suffix -d 'Encrypt only values under keys ending with this suffix' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l unencrypted-suffix -d 'Leave values under keys ending with this suffix in clear (default: _unencrypted)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l encrypted-comment-regex -d 'Encrypt only values after a comment matching this regex' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l unencrypted-comment-regex -d 'Leave values after a comment matching this regex in clear' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l shamir-secret-sharing-threshold -d 'Key groups needed to rebuild the data key (Shamir threshold)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l raw -d 'Show Secret `data` values as stored (base64) instead of decoded'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l ignore-mac -d 'Open the file even when its MAC does not match (the MAC is computed anew on save)'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l no-validate -d 'Skip the Kubernetes Secret checks on save (values are still never left in clear)'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -s s -l show-master-keys -d 'Show the sops metadata below the values (read only: changes to it are refused; use rotate, updatekeys or groups to change keys)'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so unencrypted ones may be edited'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand edit" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand set" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand set" -l output-type -d 'Format the file is written in: its own (a different one is refused, as the file is changed in place)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand set" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand set" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand set" -l value-file -d 'VALUE is a file to read the JSON value from (keeps it out of the process list)'
complete -c ksec -n "__fish_ksec_using_subcommand set" -l value-stdin -d 'Read the JSON value from stdin (keeps it out of the process list)'
complete -c ksec -n "__fish_ksec_using_subcommand set" -l base64 -d 'Take the value as it is (text or bytes, not JSON) and store it base64-encoded: a Secret\'s `data` value given as the text `ksec edit` shows'
complete -c ksec -n "__fish_ksec_using_subcommand set" -l idempotent -d 'Write nothing when the path already holds this value'
complete -c ksec -n "__fish_ksec_using_subcommand set" -l ignore-mac -d 'Change the file even when its MAC does not match'
complete -c ksec -n "__fish_ksec_using_subcommand set" -l no-validate -d 'Skip the Kubernetes Secret checks (values are still never left in clear)'
complete -c ksec -n "__fish_ksec_using_subcommand set" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand set" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l output-type -d 'Format the file is written in: its own (a different one is refused, as the file is changed in place)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l idempotent -d 'Succeed without writing when there is nothing at PATH'
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l ignore-mac -d 'Change the file even when its MAC does not match'
complete -c ksec -n "__fish_ksec_using_subcommand unset" -l no-validate -d 'Skip the Kubernetes Secret checks (values are still never left in clear)'
complete -c ksec -n "__fish_ksec_using_subcommand unset" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand unset" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l user -d 'Run the command as this user (needs the privilege to switch; sets HOME, USER, LOGNAME)' -r
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l pristine -d 'Pass only the file\'s values, not ksec\'s own environment'
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l same-process -d 'Replace ksec with the command (exec) instead of running it as a child: signals and the exit status are the command\'s own'
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -l ignore-mac -d 'Run even when the file\'s MAC does not match'
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand exec-env" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l user -d 'Run the command as this user (needs the privilege to switch); the file is made theirs' -r
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l filename -d 'Name of the decrypted file (default: the encrypted file\'s name, with characters a shell treats specially made `_`)' -r
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l output-type -d 'Format of the decrypted file: yaml, json, dotenv, ini or binary (default: the input\'s)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l no-fifo -d 'Write a regular 0600 file (readable more than once) instead of a FIFO'
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -l ignore-mac -d 'Run even when the file\'s MAC does not match'
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand exec-file" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand filestatus" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand filestatus" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand filestatus" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand filestatus" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand diff" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand diff" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand diff" -l raw -d 'Show Secret `data` values as stored (base64) instead of decoded'
complete -c ksec -n "__fish_ksec_using_subcommand diff" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand diff" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand merge" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand merge" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand merge" -l raw -d 'Merge Secret `data` values as stored (base64) instead of decoded'
complete -c ksec -n "__fish_ksec_using_subcommand merge" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand merge" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand git-setup" -l pattern -d 'Files the drivers apply to (default: *.enc.yaml, *.enc.yml, *.enc.json)' -r
complete -c ksec -n "__fish_ksec_using_subcommand git-setup" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand git-setup" -l write -d 'Add the lines to .gitattributes and the repository\'s Git config instead of printing them'
complete -c ksec -n "__fish_ksec_using_subcommand git-setup" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand git-setup" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand doctor" -l input-type -d 'Format of the file: yaml, json, dotenv, ini or binary (default: from the file name)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
binary\t''"
complete -c ksec -n "__fish_ksec_using_subcommand doctor" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand doctor" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand version" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand version" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand version" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand kustomize-generator" -l decryption-order -d 'Order in which key types are tried, e.g. `pgp,age` or `hc_vault,age` (default `age,pgp`; types not named follow in sops\'s order: kms, gcp_kms, azure_kv, hc_vault, pgp, age)' -r
complete -c ksec -n "__fish_ksec_using_subcommand kustomize-generator" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand kustomize-generator" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand completion" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand completion" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand completion" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "encrypt" -d 'Encrypt a file (or stdin) for the given recipients'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "decrypt" -d 'Decrypt a file (or stdin) to stdout, a file, or in place'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "apply" -d 'Decrypt manifests in memory and stream them to `kubectl apply -f -`'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "rotate" -d 'New data key: every value re-encrypted; add or remove recipients on the way'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "updatekeys" -d 'Make files\' recipients match their .sops.yaml creation rule (same data key)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "groups" -d 'Add or delete key groups (Shamir shares of the data key)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "check" -d 'Find Secrets in clear, invalid Secrets and malformed sops metadata (CI, pre-commit)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "edit" -d 'Edit an encrypted file in your editor (a new file starts from a template)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "set" -d 'Set one value (in place), keeping every other ciphertext as it is'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "unset" -d 'Remove one key or list item (in place)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "exec-env" -d 'Run a command with the file\'s values as environment variables'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "exec-file" -d 'Run a command with `{}` replaced by the path of the decrypted file (a FIFO by default)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "filestatus" -d 'Print whether a file is encrypted, as sops does: {"encrypted":true}'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "diff" -d 'Print a file decrypted for `git diff` (a textconv driver); files ksec cannot decrypt are printed as they are'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "merge" -d 'Git merge driver: merge three versions of an encrypted file by their plaintext'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "git-setup" -d 'Print (or write) the Git configuration for `ksec diff` and `ksec merge`'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "doctor" -d 'Show where ksec looks for keys and what it found there; with FILE, which of its recipients this machine can open, and the .sops.yaml rule that applies to it'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "version" -d 'Print ksec\'s version (under the name `sops`, the sops version it implements first)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "kustomize-generator" -d 'Kustomize generator plugin: print the files a KsecGenerator manifest names, decrypted'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply rotate updatekeys groups check edit set unset exec-env exec-file filestatus diff merge git-setup doctor version kustomize-generator completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ksec -n "__fish_ksec_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "add" -d 'Add a key group'
complete -c ksec -n "__fish_ksec_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "delete" -d 'Delete the key group at INDEX (0-based, as sops counts)'
