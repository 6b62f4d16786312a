# Fish completion for wg(8) from wgtools.
# Installed as fish/vendor_completions.d/wg.fish.
#
# Interface names come from `wg show interfaces` and peer keys from
# `wg show IF peers`; both need root for most devices, so an unprivileged
# shell simply gets no names.

function __wg_args --description 'words of the wg command line before the cursor, without wg'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    string join \n -- $tokens; or true
end

function __wg_at --description 'true when the cursor is on argument N of subcommand SUB...'
    set -l n $argv[1]
    set -l args (__wg_args)
    test (count $args) -eq (math $n - 1); or return 1
    test (count $argv) -eq 1; or contains -- "$args[1]" $argv[2..-1]
end

function __wg_show_field --description 'true when the cursor is on the field of wg show IF'
    set -l args (__wg_args)
    test (count $args) -eq 2; and test "$args[1]" = show; and test "$args[2]" != interfaces
end

function __wg_interfaces
    command wg show interfaces 2>/dev/null | string split ' ' | string match -v ''
end

# __wg_set_state walks the words of `wg set IF ...` before the cursor with
# wg's grammar and prints what the cursor expects: "value KEYWORD" when it is
# on the value of KEYWORD, otherwise "keywords" followed by the keywords
# still allowed (each once per interface or peer block; only peer after
# remove).
function __wg_set_state
    set -l args (__wg_args)
    test (count $args) -ge 2; and test "$args[1]" = set; or return 1
    set -l words $args[3..-1]
    set -l n (count $words)
    set -l i 1
    set -l in_peer 0
    set -l removed 0
    set -l used
    while test $i -le $n
        set -l w $words[$i]
        switch $w
            case listen-port fwmark private-key peer preshared-key endpoint allowed-ips persistent-keepalive
                if test $w = peer
                    set in_peer 1
                    set removed 0
                    set used
                else
                    set -a used $w
                end
                if test $i -eq $n
                    echo value $w
                    return 0
                end
                set i (math $i + 2)
                continue
            case remove
                set removed 1
        end
        set i (math $i + 1)
    end
    set -l offer
    if test $in_peer -eq 1
        if test $removed -eq 0
            for k in preshared-key endpoint allowed-ips persistent-keepalive remove
                contains -- $k $used; or set -a offer $k
            end
        end
    else
        for k in listen-port fwmark private-key
            contains -- $k $used; or set -a offer $k
        end
    end
    echo keywords $offer peer
end

function __wg_set_keywords
    set -l state (__wg_set_state | string split ' ')
    test "$state[1]" = keywords; and printf '%s\n' $state[2..-1]
end

function __wg_set_wants
    set -l state (__wg_set_state | string split ' ')
    test "$state[1]" = value; and contains -- "$state[2]" $argv
end

function __wg_set_peers
    set -l args (__wg_args)
    command wg show $args[2] peers 2>/dev/null
end

complete -c wg -f

# Subcommands.
complete -c wg -n '__wg_at 1' -a help -d 'Show the usage text'
complete -c wg -n '__wg_at 1' -a show -d 'Show interfaces, peers and runtime state'
complete -c wg -n '__wg_at 1' -a showconf -d 'Print the configuration of an interface'
complete -c wg -n '__wg_at 1' -a set -d 'Change settings of an interface and its peers'
complete -c wg -n '__wg_at 1' -a setconf -d 'Replace the configuration of an interface with a file'
complete -c wg -n '__wg_at 1' -a addconf -d 'Add the contents of a file to an interface'
complete -c wg -n '__wg_at 1' -a syncconf -d 'Make an interface match a file, keeping sessions'
complete -c wg -n '__wg_at 1' -a genkey -d 'Generate a private key'
complete -c wg -n '__wg_at 1' -a genpsk -d 'Generate a preshared key'
complete -c wg -n '__wg_at 1' -a pubkey -d 'Derive a public key from a private key on stdin'

# Interfaces.
complete -c wg -n '__wg_at 2 show showconf set setconf addconf syncconf' -a '(__wg_interfaces)' -d Interface
complete -c wg -n '__wg_at 2 show' -a 'all interfaces'

# wg show IF FIELD.
complete -c wg -n '__wg_show_field' \
    -a 'public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips latest-handshakes persistent-keepalive transfer dump json'

# wg setconf|addconf|syncconf IF FILE.
complete -c wg -n '__wg_at 3 setconf addconf syncconf' -F

# wg set IF ...
complete -c wg -n '__wg_set_keywords >/dev/null' -a '(__wg_set_keywords)'
complete -c wg -n '__wg_set_wants private-key preshared-key' -F
complete -c wg -n '__wg_set_wants peer' -a '(__wg_set_peers)' -d 'Peer'
