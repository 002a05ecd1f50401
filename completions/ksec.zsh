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
'--input-type=[Format of the input\: yaml or json (default\: from the file name, else from the content)]:TYPE:_default' \
'--output-type=[Format of the output\: yaml or json (default\: the input'\''s format)]:TYPE:_default' \
'--filename-override=[Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)]:NAME:_files' \
'--indent=[Indentation of YAML that ksec writes from scratch (the input'\''s own layout is kept)]:N:_default' \
'-a+[age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated]:RECIPIENTS:_default' \
'--age=[age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated]:RECIPIENTS:_default' \
'-p+[OpenPGP recipients, comma separated\: fingerprints (encrypted with \`gpg\` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)]:RECIPIENTS:_default' \
'--pgp=[OpenPGP recipients, comma separated\: fingerprints (encrypted with \`gpg\` from your keyring) or paths to armored public key files (encrypted natively, no gpg needed)]:RECIPIENTS:_default' \
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
'--input-type=[Format of the input\: yaml or json (default\: from the file name, else from the content)]:TYPE:_default' \
'--output-type=[Format of the output\: yaml or json (default\: the input'\''s format)]:TYPE:_default' \
'--filename-override=[Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)]:NAME:_files' \
'--indent=[Indentation of YAML that ksec writes from scratch (the input'\''s own layout is kept)]:N:_default' \
'--decryption-order=[Order in which key types are tried within a key group, e.g. \`pgp,age\` (default \`age,pgp\`)]:TYPES:_default' \
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
'--decryption-order=[Order in which key types are tried within a key group, e.g. \`pgp,age\` (default \`age,pgp\`)]:TYPES:_default' \
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
'--output=[Write the result to this file instead of stdout]:FILE:_files' \
'--input-type=[Format of the input\: yaml or json (default\: from the file name, else from the content)]:TYPE:_default' \
'--output-type=[Format of the output\: yaml or json (default\: the input'\''s format)]:TYPE:_default' \
'--filename-override=[Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)]:NAME:_files' \
'--indent=[Indentation of YAML that ksec writes from scratch (the input'\''s own layout is kept)]:N:_default' \
'--decryption-order=[Order in which key types are tried within a key group, e.g. \`pgp,age\` (default \`age,pgp\`)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
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
'--input-type=[Format of the files\: yaml or json (default\: from the file name)]:TYPE:_default' \
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key]:N:_default' \
'--decryption-order=[Order in which key types are tried within a key group, e.g. \`pgp,age\` (default \`age,pgp\`)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-y[Do not ask before writing]' \
'--yes[Do not ask before writing]' \
'--dry-run[Show what would change; write nothing]' \
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
'--shamir-secret-sharing-threshold=[Key groups needed to rebuild the data key]:N:_default' \
'--decryption-order=[Order in which key types are tried within a key group, e.g. \`pgp,age\` (default \`age,pgp\`)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-i[Replace the file instead of printing the result]' \
'--in-place[Replace the file instead of printing the result]' \
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
'--decryption-order=[Order in which key types are tried within a key group, e.g. \`pgp,age\` (default \`age,pgp\`)]:TYPES:_default' \
'--config=[Use this .sops.yaml instead of searching upward from the current directory]:FILE:_files' \
'-i[Replace the file instead of printing the result]' \
'--in-place[Replace the file instead of printing the result]' \
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
(completions)
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
(completions)
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
'completions:Print a shell completion script' \
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
(( $+functions[_ksec__subcmd__completions_commands] )) ||
_ksec__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'ksec completions commands' commands "$@"
}
(( $+functions[_ksec__subcmd__decrypt_commands] )) ||
_ksec__subcmd__decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec decrypt commands' commands "$@"
}
(( $+functions[_ksec__subcmd__encrypt_commands] )) ||
_ksec__subcmd__encrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec encrypt commands' commands "$@"
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
'completions:Print a shell completion script' \
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
(( $+functions[_ksec__subcmd__help__subcmd__completions_commands] )) ||
_ksec__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help completions commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__decrypt_commands] )) ||
_ksec__subcmd__help__subcmd__decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help decrypt commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__encrypt_commands] )) ||
_ksec__subcmd__help__subcmd__encrypt_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help encrypt commands' commands "$@"
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
(( $+functions[_ksec__subcmd__help__subcmd__rotate_commands] )) ||
_ksec__subcmd__help__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help rotate commands' commands "$@"
}
(( $+functions[_ksec__subcmd__help__subcmd__updatekeys_commands] )) ||
_ksec__subcmd__help__subcmd__updatekeys_commands() {
    local commands; commands=()
    _describe -t commands 'ksec help updatekeys commands' commands "$@"
}
(( $+functions[_ksec__subcmd__rotate_commands] )) ||
_ksec__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'ksec rotate commands' commands "$@"
}
(( $+functions[_ksec__subcmd__updatekeys_commands] )) ||
_ksec__subcmd__updatekeys_commands() {
    local commands; commands=()
    _describe -t commands 'ksec updatekeys commands' commands "$@"
}

if [ "$funcstack[1]" = "_ksec" ]; then
    _ksec "$@"
else
    compdef _ksec ksec
fi
