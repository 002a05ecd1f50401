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
complete -c ksec -n "__fish_ksec_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c ksec -n "__fish_ksec_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l output -d 'Write the result to this file instead of stdout' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l input-type -d 'Format of the input: yaml or json (default: from the file name, else from the content)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l output-type -d 'Format of the output: yaml or json (default: the input\'s format)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l filename-override -d 'Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -l indent -d 'Indentation of YAML that ksec writes from scratch (the input\'s own layout is kept)' -r
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s a -l age -d 'age recipients (age1…, ssh-ed25519 …, ssh-rsa …), comma separated' -r
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
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand encrypt" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l output -d 'Write the result to this file instead of stdout' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l input-type -d 'Format of the input: yaml or json (default: from the file name, else from the content)' -r
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l output-type -d 'Format of the output: yaml or json (default: the input\'s format)' -r
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l filename-override -d 'Use this name to pick the format and the .sops.yaml creation rule (useful with stdin)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l indent -d 'Indentation of YAML that ksec writes from scratch (the input\'s own layout is kept)' -r
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s R -l recursive -d 'Read directories recursively (`*.yaml`, `*.yml`, `*.json`)'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s i -l in-place -d 'Replace FILE with the result (atomically; the original is untouched on any error)'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -l ignore-mac -d 'Decrypt even when the file\'s MAC does not match its content'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand decrypt" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s f -l filename -d 'Files or directories to apply (also accepted as positional arguments)' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand apply" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s R -l recursive -d 'Read directories recursively'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -l ignore-mac -d 'Apply even when the MAC of a file does not match'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand apply" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand completions" -l config -d 'Use this .sops.yaml instead of searching upward from the current directory' -r -F
complete -c ksec -n "__fish_ksec_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ksec -n "__fish_ksec_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply completions help" -f -a "encrypt" -d 'Encrypt a file (or stdin) for the given recipients'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply completions help" -f -a "decrypt" -d 'Decrypt a file (or stdin) to stdout, a file, or in place'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply completions help" -f -a "apply" -d 'Decrypt manifests in memory and stream them to `kubectl apply -f -`'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c ksec -n "__fish_ksec_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt apply completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
