#compdef ksec

autoload -U is-at-least

_ksec() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_ksec_commands" \
"*::: :->ksec" \
&& ret=0
    case $state in
    (ksec)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ksec-command-$line[1]:"
        case $line[1] in
            (encrypt)
_arguments "${_arguments_options[@]}" : \
'--output=[Write the result to this file instead of stdout]:FILE:_files' \
'--input-type=[Format of the input\: yaml, json, dotenv, ini or binary (default\: from the file name, else from the content)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format of the output\: yaml, json, dotenv, ini or binary (default\: the input'\''s format)]:TYPE:(yaml json dotenv ini binary)' \
'--filename-override=[Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)]:NAME:_files' \
'--indent=[Indentation of YAML that ksec writes from scratch (the input'\''s own layout is kept)]:N:_default' \
'-a+[age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated]:RECIPIENTS:_default' \
'--age=[age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated]:RECIPIENTS:_default' \
'-p+[OpenPGP recipients, comma separated\: fingerprints (encrypted with \`gpg\` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)]:RECIPIENTS:_default' \
'--pgp=[OpenPGP recipients, comma separated\: fingerprints (encrypted with \`gpg\` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)]:RECIPIENTS:_default' \
'--hc-vault-transit=[HashiCorp Vault or OpenBao transit keys, comma separated URIs (https\://vault.example.com\:8200/v1/transit/keys/NAME). The token is VAULT_TOKEN, else ~/.vault-token]:URIS:_default' \
'-k+[AWS KMS keys, comma separated ARNs (ARN+arn\:aws\:iam\:\:…\:role/… to assume a role)]:ARNS:_default' \
'--kms=[AWS KMS keys, comma separated ARNs (ARN+arn\:aws\:iam\:\:…\:role/… to assume a role)]:ARNS:_default' \
'--aws-profile=[AWS profile of the --kms keys]:PROFILE:_default' \
'--encryption-context=[KMS encryption context of the --kms keys\: key\:value pairs, comma separated]:CONTEXT:_default' \
'--gcp-kms=[GCP KMS keys, comma separated resource IDs (projects/P/locations/L/keyRings/R/cryptoKeys/K)]:IDS:_default' \
'--azure-kv=[Azure Key Vault keys, comma separated key URLs (https\://VAULT.vault.azure.net/keys/NAME/VERSION)]:URLS:_default' \
'--encrypted-regex=[Encrypt only values under keys matching this regex (e.g. '\''^(data|stringData)\$'\'')]:REGEX:_default' \
'--unencrypted-regex=[Leave values under keys matching this regex in clear]:REGEX:_default' \
'--encrypted-suffix=[Encrypt only values under keys ending with this suffix]:SUFFIX:_default' \
'--unencrypted-suffix=[Leave values under keys ending with this suffix in clear (default\: _unencrypted)]:SUFFIX:_default' \
'--encrypted-comment-regex=[Encrypt only values after a comment matching this regex]:REGEX:_default' \
'--unencrypted-comment-regex=[Leave values after a comment matching this regex in clear]:REGEX:_default' \
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key (Shamir threshold)]:N:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-i[Replace FILE with the result (atomically; the original is untouched on any error)]' \
'--in-place[Replace FILE with the result (atomically; the original is untouched on any error)]' \
'--mac-only-encrypted[Compute the MAC over encrypted values only, so unencrypted ones may be edited]' \
'--no-validate[Skip the Kubernetes Secret checks (required keys per type, base64 data, unknown fields, the 1 MiB limit). Secrets are still never written with a value in clear]' \
'--strip-server-fields[Leave out the fields the API server sets in manifests taken from a live cluster (\`kubectl get -o yaml\`)\: metadata.resourceVersion, uid, creationTimestamp, managedFields, selfLink and the kubectl last-applied annotation]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::file -- The file to read; `-` or nothing reads stdin:_files' \
&& ret=0
;;
(decrypt)
_arguments "${_arguments_options[@]}" : \
'--output=[Write the result to this file instead of stdout]:FILE:_files' \
'--input-type=[Format of the input\: yaml, json, dotenv, ini or binary (default\: from the file name, else from the content)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format of the output\: yaml, json, dotenv, ini or binary (default\: the input'\''s format)]:TYPE:(yaml json dotenv ini binary)' \
'--filename-override=[Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)]:NAME:_files' \
'--indent=[Indentation of YAML that ksec writes from scratch (the input'\''s own layout is kept)]:N:_default' \
'--extract=[Print only the value at this path ('\''\["data"\]\["password"\]'\'')\: a string raw, without a line break; a mapping as a document]:PATH:_default' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-R[Read directories recursively (\`*.yaml\`, \`*.yml\`, \`*.json\`)]' \
'--recursive[Read directories recursively (\`*.yaml\`, \`*.yml\`, \`*.json\`)]' \
'-i[Replace FILE with the result (atomically; the original is untouched on any error)]' \
'--in-place[Replace FILE with the result (atomically; the original is untouched on any error)]' \
'--ignore-mac[Decrypt even when the file'\''s MAC does not match its content]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::files -- The file to read; `-` or nothing reads stdin. With several files or directories, the result is one YAML stream (files in path order; plaintext manifests pass through), ready for `kubectl apply -f -`:_files' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'*-f+[Files or directories to apply (also accepted as positional arguments)]:PATH:_files' \
'*--filename=[Files or directories to apply (also accepted as positional arguments)]:PATH:_files' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-R[Read directories recursively]' \
'--recursive[Read directories recursively]' \
'--ignore-mac[Apply even when the MAC of a file does not match]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::paths -- Files or directories to apply:_files' \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
'--add-age=[Add age recipients (to the first key group), comma separated]:RECIPIENTS:_default' \
'--rm-age=[Remove age recipients (from every group), comma separated]:RECIPIENTS:_default' \
'--add-pgp=[Add OpenPGP recipients (to the first key group), comma separated]:RECIPIENTS:_default' \
'--rm-pgp=[Remove OpenPGP fingerprints (from every group), comma separated]:FINGERPRINTS:_default' \
'--add-hc-vault-transit=[Add Vault transit keys (to the first key group), comma separated URIs]:URIS:_default' \
'--rm-hc-vault-transit=[Remove Vault transit keys (from every group), comma separated URIs]:URIS:_default' \
'--add-kms=[Add AWS KMS keys (to the first key group), comma separated ARNs]:ARNS:_default' \
'--rm-kms=[Remove AWS KMS keys (from every group), comma separated ARNs]:ARNS:_default' \
'--aws-profile=[AWS profile of the keys --add-kms and --rm-kms name]:PROFILE:_default' \
'--encryption-context=[KMS encryption context of the keys --add-kms and --rm-kms name\: key\:value pairs, comma separated]:CONTEXT:_default' \
'--add-gcp-kms=[Add GCP KMS keys (to the first key group), comma separated resource IDs]:IDS:_default' \
'--rm-gcp-kms=[Remove GCP KMS keys (from every group), comma separated resource IDs]:IDS:_default' \
'--add-azure-kv=[Add Azure Key Vault keys (to the first key group), comma separated key URLs]:URLS:_default' \
'--rm-azure-kv=[Remove Azure Key Vault keys (from every group), comma separated key URLs]:URLS:_default' \
'--output=[Write the result to this file instead of stdout]:FILE:_files' \
'--input-type=[Format of the input\: yaml, json, dotenv, ini or binary (default\: from the file name, else from the content)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format of the output\: yaml, json, dotenv, ini or binary (default\: the input'\''s format)]:TYPE:(yaml json dotenv ini binary)' \
'--filename-override=[Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)]:NAME:_files' \
'--indent=[Indentation of YAML that ksec writes from scratch (the input'\''s own layout is kept)]:N:_default' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--ignore-mac[Rotate even when the MAC does not match; the new MAC then vouches for the values as they are]' \
'-i[Replace FILE with the result (atomically; the original is untouched on any error)]' \
'--in-place[Replace FILE with the result (atomically; the original is untouched on any error)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The encrypted file:_files' \
&& ret=0
;;
(updatekeys)
_arguments "${_arguments_options[@]}" : \
'--input-type=[Format of the files\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key]:N:_default' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-y[Do not ask before writing]' \
'--yes[Do not ask before writing]' \
'--dry-run[Show what would change; write nothing]' \
'--ignore-mac[Change the keys even when the MAC does not match (the values are not read, but a file whose MAC fails is refused so that new keys never vouch for tampered values)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::paths -- Encrypted files, or directories (read recursively):_files' \
&& ret=0
;;
(groups)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_ksec__subcmd__groups_commands" \
"*::: :->groups" \
&& ret=0

    case $state in
    (groups)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ksec-groups-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
'-f+[The encrypted file]:FILE:_files' \
'--file=[The encrypted file]:FILE:_files' \
'*--age=[age recipients of the new group (repeatable, or comma separated)]:RECIPIENTS:_default' \
'*--pgp=[OpenPGP recipients of the new group (repeatable, or comma separated)]:RECIPIENTS:_default' \
'*--hc-vault-transit=[Vault transit key URIs of the new group (repeatable, or comma separated)]:URIS:_default' \
'*--kms=[AWS KMS key ARNs of the new group (repeatable, or comma separated)]:ARNS:_default' \
'--aws-profile=[AWS profile of the --kms keys]:PROFILE:_default' \
'--encryption-context=[KMS encryption context of the --kms keys\: key\:value pairs, comma separated]:CONTEXT:_default' \
'*--gcp-kms=[GCP KMS key resource IDs of the new group (repeatable, or comma separated)]:IDS:_default' \
'*--azure-kv=[Azure Key Vault key URLs of the new group (repeatable, or comma separated)]:URLS:_default' \
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key]:N:_default' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-i[Replace the file instead of printing the result]' \
'--in-place[Replace the file instead of printing the result]' \
'--ignore-mac[Change the keys even when the MAC does not match (the values are not read, but a file whose MAC fails is refused so that new keys never vouch for tampered values)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
'-f+[The encrypted file]:FILE:_files' \
'--file=[The encrypted file]:FILE:_files' \
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key]:N:_default' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-i[Replace the file instead of printing the result]' \
'--in-place[Replace the file instead of printing the result]' \
'--ignore-mac[Change the keys even when the MAC does not match (the values are not read, but a file whose MAC fails is refused so that new keys never vouch for tampered values)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':index -- The group to delete (0-based):_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_ksec__subcmd__groups__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ksec-groups-help-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(check)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::paths -- Files or directories (directories are read recursively):_files' \
&& ret=0
;;
(edit)
_arguments "${_arguments_options[@]}" : \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format of the text in the editor and of the file written\: the file'\''s own format (as sops, a different one is refused\: ksec edits a file in place, in its format)]:TYPE:(yaml json dotenv ini binary)' \
'--indent=[Indentation of YAML that ksec writes from scratch]:N:_default' \
'-a+[age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated]:RECIPIENTS:_default' \
'--age=[age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated]:RECIPIENTS:_default' \
'-p+[OpenPGP recipients, comma separated\: fingerprints (encrypted with \`gpg\` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)]:RECIPIENTS:_default' \
'--pgp=[OpenPGP recipients, comma separated\: fingerprints (encrypted with \`gpg\` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)]:RECIPIENTS:_default' \
'--hc-vault-transit=[HashiCorp Vault or OpenBao transit keys, comma separated URIs (https\://vault.example.com\:8200/v1/transit/keys/NAME). The token is VAULT_TOKEN, else ~/.vault-token]:URIS:_default' \
'-k+[AWS KMS keys, comma separated ARNs (ARN+arn\:aws\:iam\:\:…\:role/… to assume a role)]:ARNS:_default' \
'--kms=[AWS KMS keys, comma separated ARNs (ARN+arn\:aws\:iam\:\:…\:role/… to assume a role)]:ARNS:_default' \
'--aws-profile=[AWS profile of the --kms keys]:PROFILE:_default' \
'--encryption-context=[KMS encryption context of the --kms keys\: key\:value pairs, comma separated]:CONTEXT:_default' \
'--gcp-kms=[GCP KMS keys, comma separated resource IDs (projects/P/locations/L/keyRings/R/cryptoKeys/K)]:IDS:_default' \
'--azure-kv=[Azure Key Vault keys, comma separated key URLs (https\://VAULT.vault.azure.net/keys/NAME/VERSION)]:URLS:_default' \
'--encrypted-regex=[Encrypt only values under keys matching this regex (e.g. '\''^(data|stringData)\$'\'')]:REGEX:_default' \
'--unencrypted-regex=[Leave values under keys matching this regex in clear]:REGEX:_default' \
'--encrypted-suffix=[Encrypt only values under keys ending with this suffix]:SUFFIX:_default' \
'--unencrypted-suffix=[Leave values under keys ending with this suffix in clear (default\: _unencrypted)]:SUFFIX:_default' \
'--encrypted-comment-regex=[Encrypt only values after a comment matching this regex]:REGEX:_default' \
'--unencrypted-comment-regex=[Leave values after a comment matching this regex in clear]:REGEX:_default' \
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key (Shamir threshold)]:N:_default' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--raw[Show Secret \`data\` values as stored (base64) instead of decoded]' \
'--ignore-mac[Open the file even when its MAC does not match (the MAC is computed anew on save)]' \
'--no-validate[Skip the Kubernetes Secret checks on save (values are still never left in clear)]' \
'-s[Show the sops metadata below the values (read only\: changes to it are refused; use rotate, updatekeys or groups to change keys)]' \
'--show-master-keys[Show the sops metadata below the values (read only\: changes to it are refused; use rotate, updatekeys or groups to change keys)]' \
'--mac-only-encrypted[Compute the MAC over encrypted values only, so unencrypted ones may be edited]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The encrypted file (created when it does not exist):_files' \
&& ret=0
;;
(set)
_arguments "${_arguments_options[@]}" : \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format the file is written in\: its own (a different one is refused, as the file is changed in place)]:TYPE:(yaml json dotenv ini binary)' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'(--value-stdin)--value-file[VALUE is a file to read the JSON value from (keeps it out of the process list)]' \
'--value-stdin[Read the JSON value from stdin (keeps it out of the process list)]' \
'--base64[Take the value as it is (text or bytes, not JSON) and store it base64-encoded\: a Secret'\''s \`data\` value given as the text \`ksec edit\` shows]' \
'--idempotent[Write nothing when the path already holds this value]' \
'--ignore-mac[Change the file even when its MAC does not match]' \
'--no-validate[Skip the Kubernetes Secret checks (values are still never left in clear)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The encrypted file (changed in place):_files' \
':path -- Where to set, in sops'\''s syntax\: '\''\["data"\]\["password"\]'\'', '\''\["list"\]\[0\]'\''. As with sops, missing keys and lists are created and an index past the end of a list appends:_default' \
'::value -- The value, as JSON ('\''"text"'\'', '\''5'\'', '\''{"k"\: true}'\''); with --value-file, a file holding it:_default' \
&& ret=0
;;
(unset)
_arguments "${_arguments_options[@]}" : \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format the file is written in\: its own (a different one is refused, as the file is changed in place)]:TYPE:(yaml json dotenv ini binary)' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--idempotent[Succeed without writing when there is nothing at PATH]' \
'--ignore-mac[Change the file even when its MAC does not match]' \
'--no-validate[Skip the Kubernetes Secret checks (values are still never left in clear)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The encrypted file (changed in place):_files' \
':path -- What to remove, in sops'\''s syntax\: '\''\["data"\]\["password"\]'\'', '\''\["list"\]\[0\]'\'':_default' \
&& ret=0
;;
(exec-env)
_arguments "${_arguments_options[@]}" : \
'--user=[Run the command as this user (needs the privilege to switch; sets HOME, USER, LOGNAME)]:USER:_default' \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--pristine[Pass only the file'\''s values, not ksec'\''s own environment]' \
'--same-process[Replace ksec with the command (exec) instead of running it as a child\: signals and the exit status are the command'\''s own]' \
'--ignore-mac[Run even when the file'\''s MAC does not match]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The encrypted file:_files' \
':command -- The command, run with `sh -c`:_default' \
&& ret=0
;;
(exec-file)
_arguments "${_arguments_options[@]}" : \
'--user=[Run the command as this user (needs the privilege to switch); the file is made theirs]:USER:_default' \
'--filename=[Name of the decrypted file (default\: the encrypted file'\''s name, with characters a shell treats specially made \`_\`)]:NAME:_default' \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--output-type=[Format of the decrypted file\: yaml, json, dotenv, ini or binary (default\: the input'\''s)]:TYPE:(yaml json dotenv ini binary)' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--no-fifo[Write a regular 0600 file (readable more than once) instead of a FIFO]' \
'--ignore-mac[Run even when the file'\''s MAC does not match]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The encrypted file:_files' \
':command -- The command, run with `sh -c`; `{}` is replaced by the decrypted file'\''s path, quoted for the shell (write it bare\: `cat {}`):_default' \
&& ret=0
;;
(filestatus)
_arguments "${_arguments_options[@]}" : \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The file to look at:_files' \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--raw[Show Secret \`data\` values as stored (base64) instead of decoded]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':file -- The file Git hands over:_files' \
&& ret=0
;;
(merge)
_arguments "${_arguments_options[@]}" : \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--raw[Merge Secret \`data\` values as stored (base64) instead of decoded]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':base -- The common ancestor'\''s version (%O):_files' \
':ours -- Our version (%A); the result is written here:_files' \
':theirs -- Their version (%B):_files' \
'::path -- The file'\''s path in the repository (%P), for its format and for messages:_files' \
&& ret=0
;;
(git-setup)
_arguments "${_arguments_options[@]}" : \
'*--pattern=[Files the drivers apply to (default\: *.enc.yaml, *.enc.yml, *.enc.json)]:GLOB:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'--write[Add the lines to .gitattributes and the repository'\''s Git config instead of printing them]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
'--input-type=[Format of the file\: yaml, json, dotenv, ini or binary (default\: from the file name)]:TYPE:(yaml json dotenv ini binary)' \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::file -- An encrypted file to check against the keys found (its values are not decrypted):_files' \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(kustomize-generator)
_arguments "${_arguments_options[@]}" : \
'--decryption-order=[Order in which key types are tried, e.g. \`pgp,age\` or \`hc_vault,age\` (default \`age,pgp\`; types not named follow in sops'\''s order\: kms, gcp_kms, azure_kv, hc_vault, pgp, age)]:TYPES:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':config -- The generator manifest (kustomize passes a copy of it):_files' \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_ksec__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ksec-help-command-$line[1]:"
        case $line[1] in
            (encrypt)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(decrypt)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(updatekeys)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(groups)
_arguments "${_arguments_options[@]}" : \
":: :_ksec__subcmd__help__subcmd__groups_commands" \
"*::: :->groups" \
&& ret=0

    case $state in
    (groups)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ksec-help-groups-command-$line[1]:"
        case $line[1] in
            (add)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(delete)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(check)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(edit)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(set)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unset)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(exec-env)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(exec-file)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(filestatus)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(merge)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(git-setup)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(kustomize-generator)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_ksec_commands] )) ||
_ksec_commands() {
    local commands; commands=(
'encrypt:Encrypt a file (or stdin) for the given recipients' \
'decrypt:Decrypt a file (or stdin) to stdout, a file, or in place' \
'apply:Decrypt manifests in memory and stream them to \`kubectl apply -f -\`' \
'rotate:New data key\: every value re-encrypted; add or remove recipients on the way' \
'updatekeys:Make files'\'' recipients match their .sops.yaml creation rule (same data key)' \
'groups:Add or delete key groups (Shamir shares of the data key)' \
'check:Find Secrets in clear, invalid Secrets and malformed sops metadata (CI, pre-commit)' \
'edit:Edit an encrypted file in your editor (a new file starts from a template)' \
'set:Set one value (in place), keeping every other ciphertext as it is' \
'unset:Remove one key or list item (in place)' \
'exec-env:Run a command with the file'\''s values as environment variables' \
'exec-file:Run a command with \`{}\` replaced by the path of the decrypted file (a FIFO by default)' \
'filestatus:Print whether a file is encrypted, as sops does\: {"encrypted"\:true}' \
'diff:Print a file decrypted for \`git diff\` (a textconv driver); files ksec cannot decrypt are printed as they are' \
'merge:Git merge driver\: merge three versions of an encrypted file by their plaintext' \
'git-setup:Print (or write) the Git configuration for \`ksec diff\` and \`ksec merge\`' \
'doctor:Show where ksec looks for keys and what it found there; with FILE, which of its recipients this machine can open, and the .sops.yaml rule that applies to it' \
'version:Print ksec'\''s version (under the name \`sops\`, the sops version it implements first)' \
'kustomize-generator:Kustomize generator plugin\: print the files a KsecGenerator manifest names, decrypted' \
'completion:Print a shell completion script (bash, zsh, fish, elvish, powershell)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'ksec commands' commands "$@"
}
(( $+functions[_ksec__subcmd__apply_commands] )) ||
_ksec__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'ksec apply commands' commands "$@"
}
(( $+functions[_ksec__subcmd__check_commands] )) ||
_ksec__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'ksec check commands' commands "$@"
}
(( $+functions[_ksec__subcmd__completion_commands] )) ||
_ksec__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'ksec completion commands' commands "$@"
}
(( $+functions[_ksec__subcmd__decrypt_commands] )) ||
_ksec__subcmd__decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec decrypt commands' commands "$@"
}
(( $+functions[_ksec__subcmd__diff_commands] )) ||
_ksec__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'ksec diff commands' commands "$@"
}
(( $+functions[_ksec__subcmd__doctor_commands] )) ||
_ksec__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'ksec doctor commands' commands "$@"
}
(( $+functions[_ksec__subcmd__edit_commands] )) ||
_ksec__subcmd__edit_commands() {
    local commands; commands=()
    _describe -t commands 'ksec edit commands' commands "$@"
}
(( $+functions[_ksec__subcmd__encrypt_commands] )) ||
_ksec__subcmd__encrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec encrypt commands' commands "$@"
}
(( $+functions[_ksec__subcmd__exec-env_commands] )) ||
_ksec__subcmd__exec-env_commands() {
    local commands; commands=()
    _describe -t commands 'ksec exec-env commands' commands "$@"
}
(( $+functions[_ksec__subcmd__exec-file_commands] )) ||
_ksec__subcmd__exec-file_commands() {
    local commands; commands=()
    _describe -t commands 'ksec exec-file commands' commands "$@"
}
(( $+functions[_ksec__subcmd__filestatus_commands] )) ||
_ksec__subcmd__filestatus_commands() {
    local commands; commands=()
    _describe -t commands 'ksec filestatus commands' commands "$@"
}
(( $+functions[_ksec__subcmd__git-setup_commands] )) ||
_ksec__subcmd__git-setup_commands() {
    local commands; commands=()
    _describe -t commands 'ksec git-setup commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups_commands] )) ||
_ksec__subcmd__groups_commands() {
    local commands; commands=(
'add:Add a key group' \
'delete:Delete the key group at INDEX (0-based, as sops counts)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'ksec groups commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups__subcmd__add_commands] )) ||
_ksec__subcmd__groups__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'ksec groups add commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups__subcmd__delete_commands] )) ||
_ksec__subcmd__groups__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'ksec groups delete commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups__subcmd__help_commands] )) ||
_ksec__subcmd__groups__subcmd__help_commands() {
    local commands; commands=(
'add:Add a key group' \
'delete:Delete the key group at INDEX (0-based, as sops counts)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'ksec groups help commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups__subcmd__help__subcmd__add_commands] )) ||
_ksec__subcmd__groups__subcmd__help__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'ksec groups help add commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups__subcmd__help__subcmd__delete_commands] )) ||
_ksec__subcmd__groups__subcmd__help__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'ksec groups help delete commands' commands "$@"
}
(( $+functions[_ksec__subcmd__groups__subcmd__help__subcmd__help_commands] )) ||
_ksec__subcmd__groups__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'ksec groups help help commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help_commands] )) ||
_ksec__subcmd__help_commands() {
    local commands; commands=(
'encrypt:Encrypt a file (or stdin) for the given recipients' \
'decrypt:Decrypt a file (or stdin) to stdout, a file, or in place' \
'apply:Decrypt manifests in memory and stream them to \`kubectl apply -f -\`' \
'rotate:New data key\: every value re-encrypted; add or remove recipients on the way' \
'updatekeys:Make files'\'' recipients match their .sops.yaml creation rule (same data key)' \
'groups:Add or delete key groups (Shamir shares of the data key)' \
'check:Find Secrets in clear, invalid Secrets and malformed sops metadata (CI, pre-commit)' \
'edit:Edit an encrypted file in your editor (a new file starts from a template)' \
'set:Set one value (in place), keeping every other ciphertext as it is' \
'unset:Remove one key or list item (in place)' \
'exec-env:Run a command with the file'\''s values as environment variables' \
'exec-file:Run a command with \`{}\` replaced by the path of the decrypted file (a FIFO by default)' \
'filestatus:Print whether a file is encrypted, as sops does\: {"encrypted"\:true}' \
'diff:Print a file decrypted for \`git diff\` (a textconv driver); files ksec cannot decrypt are printed as they are' \
'merge:Git merge driver\: merge three versions of an encrypted file by their plaintext' \
'git-setup:Print (or write) the Git configuration for \`ksec diff\` and \`ksec merge\`' \
'doctor:Show where ksec looks for keys and what it found there; with FILE, which of its recipients this machine can open, and the .sops.yaml rule that applies to it' \
'version:Print ksec'\''s version (under the name \`sops\`, the sops version it implements first)' \
'kustomize-generator:Kustomize generator plugin\: print the files a KsecGenerator manifest names, decrypted' \
'completion:Print a shell completion script (bash, zsh, fish, elvish, powershell)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'ksec help commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__apply_commands] )) ||
_ksec__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help apply commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__check_commands] )) ||
_ksec__subcmd__help__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help check commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__completion_commands] )) ||
_ksec__subcmd__help__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help completion commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__decrypt_commands] )) ||
_ksec__subcmd__help__subcmd__decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help decrypt commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__diff_commands] )) ||
_ksec__subcmd__help__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help diff commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__doctor_commands] )) ||
_ksec__subcmd__help__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help doctor commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__edit_commands] )) ||
_ksec__subcmd__help__subcmd__edit_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help edit commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__encrypt_commands] )) ||
_ksec__subcmd__help__subcmd__encrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help encrypt commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__exec-env_commands] )) ||
_ksec__subcmd__help__subcmd__exec-env_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help exec-env commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__exec-file_commands] )) ||
_ksec__subcmd__help__subcmd__exec-file_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help exec-file commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__filestatus_commands] )) ||
_ksec__subcmd__help__subcmd__filestatus_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help filestatus commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__git-setup_commands] )) ||
_ksec__subcmd__help__subcmd__git-setup_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help git-setup commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__groups_commands] )) ||
_ksec__subcmd__help__subcmd__groups_commands() {
    local commands; commands=(
'add:Add a key group' \
'delete:Delete the key group at INDEX (0-based, as sops counts)' \
    )
    _describe -t commands 'ksec help groups commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__groups__subcmd__add_commands] )) ||
_ksec__subcmd__help__subcmd__groups__subcmd__add_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help groups add commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__groups__subcmd__delete_commands] )) ||
_ksec__subcmd__help__subcmd__groups__subcmd__delete_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help groups delete commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__help_commands] )) ||
_ksec__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help help commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__kustomize-generator_commands] )) ||
_ksec__subcmd__help__subcmd__kustomize-generator_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help kustomize-generator commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__merge_commands] )) ||
_ksec__subcmd__help__subcmd__merge_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help merge commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__rotate_commands] )) ||
_ksec__subcmd__help__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help rotate commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__set_commands] )) ||
_ksec__subcmd__help__subcmd__set_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help set commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__unset_commands] )) ||
_ksec__subcmd__help__subcmd__unset_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help unset commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__updatekeys_commands] )) ||
_ksec__subcmd__help__subcmd__updatekeys_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help updatekeys commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__version_commands] )) ||
_ksec__subcmd__help__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help version commands' commands "$@"
}
(( $+functions[_ksec__subcmd__kustomize-generator_commands] )) ||
_ksec__subcmd__kustomize-generator_commands() {
    local commands; commands=()
    _describe -t commands 'ksec kustomize-generator commands' commands "$@"
}
(( $+functions[_ksec__subcmd__merge_commands] )) ||
_ksec__subcmd__merge_commands() {
    local commands; commands=()
    _describe -t commands 'ksec merge commands' commands "$@"
}
(( $+functions[_ksec__subcmd__rotate_commands] )) ||
_ksec__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'ksec rotate commands' commands "$@"
}
(( $+functions[_ksec__subcmd__set_commands] )) ||
_ksec__subcmd__set_commands() {
    local commands; commands=()
    _describe -t commands 'ksec set commands' commands "$@"
}
(( $+functions[_ksec__subcmd__unset_commands] )) ||
_ksec__subcmd__unset_commands() {
    local commands; commands=()
    _describe -t commands 'ksec unset commands' commands "$@"
}
(( $+functions[_ksec__subcmd__updatekeys_commands] )) ||
_ksec__subcmd__updatekeys_commands() {
    local commands; commands=()
    _describe -t commands 'ksec updatekeys commands' commands "$@"
}
(( $+functions[_ksec__subcmd__version_commands] )) ||
_ksec__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'ksec version commands' commands "$@"
}

if [ "$funcstack[1]" = "_ksec" ]; then
    _ksec "$@"
else
    compdef _ksec ksec
fi
