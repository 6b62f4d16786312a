# Bash completion for wg-quick(8) from wgtools.
#
# Installed as bash-completion/completions/wg-quick. It needs only bash, so
# it can also be sourced directly.
#
# For up, down, save and strip it offers the configurations in
# /etc/wireguard (the names wg-quick accepts without a path: NAME for
# /etc/wireguard/NAME.conf), then *.conf files and directories for a path.
# /etc/wireguard is normally readable by root only, so an unprivileged shell
# gets paths but no names. WGTOOLS_CONFIG_DIR replaces /etc/wireguard; it
# exists for the tests of this script, wg-quick itself does not read it.

_wg_quick() {
	local cur=${COMP_WORDS[COMP_CWORD]-} verb=${COMP_WORDS[1]-} f name
	COMPREPLY=()

	if ((COMP_CWORD == 1)); then
		for f in up down save strip reload syncconf check reresolve userspace; do
			[[ $f == "$cur"* ]] && COMPREPLY+=("$f")
		done
		return 0
	fi

	case $verb in
	up | down | save | strip | reload | syncconf | check | reresolve)
		if ((COMP_CWORD == 2)) && [[ $cur == -* ]]; then
			case $verb in
			reload | syncconf) [[ --dry-run == "$cur"* ]] && COMPREPLY+=(--dry-run) ;;
			check) [[ --json == "$cur"* ]] && COMPREPLY+=(--json) ;;
			save) COMPREPLY+=($(compgen -W "--dry-run --force --canonical" -- "$cur")) ;;
			esac
			return 0
		fi
		((COMP_CWORD == 2)) || [[ ${COMP_WORDS[2]-} == --* && COMP_CWORD == 3 ]] || return 0
		for f in "${WGTOOLS_CONFIG_DIR:-/etc/wireguard}"/*.conf; do
			[[ -f $f ]] || continue
			name=${f##*/}
			name=${name%.conf}
			# Only a valid interface name is looked up in the directory;
			# anything else would be taken as a path.
			[[ $name =~ ^[a-zA-Z0-9_=+.-]{1,15}$ ]] || continue
			[[ $name == "$cur"* ]] && COMPREPLY+=("$name")
		done
		compopt -o filenames 2>/dev/null
		while IFS= read -r f; do
			COMPREPLY+=("$f")
		done < <(compgen -f -X '!*.conf' -- "$cur"; compgen -d -- "$cur")
		;;
	userspace)
		# wg-quick userspace [-f|--foreground] INTERFACE: the name is new.
		if ((COMP_CWORD == 2)) && [[ $cur == -* ]]; then
			for f in -f --foreground; do
				[[ $f == "$cur"* ]] && COMPREPLY+=("$f")
			done
		fi
		;;
	esac
	return 0
}

complete -F _wg_quick wg-quick
