# Fish completion for wg-quick(8) from wgtools.
# Installed as fish/vendor_completions.d/wg-quick.fish.
#
# For up, down, save and strip it offers the configurations in
# /etc/wireguard (NAME for /etc/wireguard/NAME.conf; readable by root only
# on most systems) and files for a path. WGTOOLS_CONFIG_DIR replaces
# /etc/wireguard for the tests of this script; wg-quick does not read it.

function __wg_quick_args --description 'words of the wg-quick command line before the cursor, without wg-quick'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    string join \n -- $tokens; or true
end

function __wg_quick_at --description 'true when the cursor is on argument N of verb VERB...'
    set -l args (__wg_quick_args)
    test (count $args) -eq (math $argv[1] - 1); or return 1
    test (count $argv) -eq 1; or contains -- "$args[1]" $argv[2..-1]
end

function __wg_quick_configs
    set -l dir /etc/wireguard
    set -q WGTOOLS_CONFIG_DIR; and set dir $WGTOOLS_CONFIG_DIR
    for f in $dir/*.conf
        test -f $f; or continue
        # Only a valid interface name is looked up in the directory.
        string match -qr '^[a-zA-Z0-9_=+.-]{1,15}$' -- (basename $f .conf); and basename $f .conf
    end
end

complete -c wg-quick -f
complete -c wg-quick -n '__wg_quick_at 1' -a up -d 'Create and configure the interface of a configuration'
complete -c wg-quick -n '__wg_quick_at 1' -a down -d 'Remove the interface and undo what up did'
complete -c wg-quick -n '__wg_quick_at 1' -a save -d 'Write the running configuration back to the file'
complete -c wg-quick -n '__wg_quick_at 1' -a strip -d 'Print only the wg(8) part of a configuration'
complete -c wg-quick -n '__wg_quick_at 1' -a reload -d 'Bring a running interface to the file with the fewest changes'
complete -c wg-quick -n '__wg_quick_at 1' -a syncconf -d 'The same as reload'
complete -c wg-quick -n '__wg_quick_at 1' -a check -d 'Report errors and likely mistakes without changing anything'
complete -c wg-quick -n '__wg_quick_at 1' -a reresolve -d 'Resolve stale peers endpoint names again'
complete -c wg-quick -n '__wg_quick_at 1' -a userspace -d 'Run the embedded userspace WireGuard device'
complete -c wg-quick -n '__wg_quick_at 2 up down save strip reload syncconf check reresolve' -a '(__wg_quick_configs)' -d Configuration
complete -c wg-quick -n '__wg_quick_at 2 up down save strip reload syncconf check reresolve' -a '(__fish_complete_suffix .conf)'
complete -c wg-quick -n '__wg_quick_at 2 reload syncconf' -l dry-run -d 'Print the plan, change nothing'
complete -c wg-quick -n '__wg_quick_at 2 check' -l json -d 'Print the findings as JSON'
complete -c wg-quick -n '__wg_quick_at 2 save' -l dry-run -d 'Print the diff, write nothing'
complete -c wg-quick -n '__wg_quick_at 2 save' -l force -d 'Save over a file edited since up'
complete -c wg-quick -n '__wg_quick_at 2 save' -l canonical -d 'Write the file as wireguard-tools does'
complete -c wg-quick -n '__wg_quick_at 2 userspace' -s f -l foreground -d 'Stay in the foreground, logging to stderr'
