# Bash completion for wg(8) from wgtools.
#
# Installed as bash-completion/completions/wg. It needs only bash (no
# bash-completion helpers), so it can also be sourced directly.
#
# Interface names come from `wg show interfaces` and peer keys from
# `wg show IF peers`; both need root for most devices, so an unprivileged
# shell simply gets no names.

# _wgtools_words sets the arrays words and the index cword from COMP_WORDS,
# gluing back together what bash split at the `=` and `:` of
# COMP_WORDBREAKS: base64 keys end in `=` and endpoints contain `:`, and each
# must count as one word for wg's grammar. Glued words are those that touch
# in COMP_LINE with no blank between them.
_wgtools_words() {
	local rest=${COMP_LINE-} j tok glue
	words=() cword=$COMP_CWORD
	if [[ -z $rest ]]; then
		words=("${COMP_WORDS[@]}")
		return
	fi
	for ((j = 0; j < ${#COMP_WORDS[@]}; j++)); do
		tok=${COMP_WORDS[j]}
		glue=0
		if [[ $rest == [[:blank:]]* ]]; then
			rest=${rest#"${rest%%[![:blank:]]*}"}
		elif ((j > 0)); then
			glue=1
		fi
		if [[ $rest == "$tok"* ]]; then
			rest=${rest#"$tok"}
		else
			glue=0 # lost track of the line; stop gluing
			rest=
		fi
		if ((glue)) && [[ $tok == [=:]* || ${words[${#words[@]}-1]} == *[=:] ]]; then
			words[${#words[@]}-1]+=$tok
		else
			words+=("$tok")
		fi
		((j == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	# COMP_CWORD may point just past the last word (an empty word to complete).
	((COMP_CWORD >= ${#COMP_WORDS[@]})) && cword=${#words[@]}
	return 0
}

# _wgtools_reply adds each argument that starts with the word under the
# cursor to COMPREPLY. When that word was glued from several COMP_WORDS,
# bash replaces only the last piece, so the rest is cut off the candidates.
_wgtools_reply() {
	local cur=${words[cword]-} piece=${COMP_WORDS[COMP_CWORD]-} w
	local head=${cur%"$piece"}
	for w in "$@"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("${w#"$head"}")
	done
	return 0
}

# _wgtools_files completes file names, as wg reads keys and configurations
# from files.
_wgtools_files() {
	local f
	compopt -o filenames 2>/dev/null
	while IFS= read -r f; do
		COMPREPLY+=("$f")
	done < <(compgen -f -- "${words[cword]-}")
	return 0
}

_wg() {
	local words cword
	COMPREPLY=()
	_wgtools_words
	local sub=${words[1]-}

	if ((cword == 1)); then
		_wgtools_reply help show showconf set setconf addconf syncconf genkey genpsk pubkey
		return 0
	fi
	case $sub in
	show | showconf | set | setconf | addconf | syncconf) ;;
	*) return 0 ;;
	esac
	if ((cword == 2)); then
		local names
		names=$(command wg show interfaces 2>/dev/null)
		# shellcheck disable=SC2086 # names is a blank-separated list
		if [[ $sub == show ]]; then
			_wgtools_reply $names all interfaces
		else
			_wgtools_reply $names
		fi
		return 0
	fi
	case $sub in
	show)
		if ((cword == 3)) && [[ ${words[2]} != interfaces ]]; then
			_wgtools_reply public-key private-key listen-port fwmark peers \
				preshared-keys endpoints allowed-ips latest-handshakes \
				persistent-keepalive transfer dump json
		fi
		;;
	setconf | addconf | syncconf)
		((cword == 3)) && _wgtools_files
		;;
	set)
		_wg_set
		;;
	esac
	return 0
}

# _wg_set completes `wg set IF ...`. It walks the words before the cursor
# with wg's grammar: interface keywords until the first `peer`, then peer
# keywords, each value-taking keyword consuming the next word. A keyword is
# offered once per interface or peer block; after `remove` only a new `peer`
# makes sense.
_wg_set() {
	local i=3 w want='' in_peer=0 removed=0 used=' ' k
	local -a offer=()
	while ((i < cword)); do
		w=${words[i]}
		case $w in
		listen-port | fwmark | private-key | peer | preshared-key | endpoint | allowed-ips | persistent-keepalive)
			if [[ $w == peer ]]; then
				in_peer=1 removed=0 used=' '
			else
				used+="$w "
			fi
			if ((i + 1 == cword)); then
				want=$w
				break
			fi
			((i += 2))
			continue
			;;
		remove)
			removed=1
			;;
		esac
		((i++))
	done

	case $want in
	private-key | preshared-key)
		_wgtools_files
		return 0
		;;
	peer)
		local peers
		peers=$(command wg show "${words[2]}" peers 2>/dev/null)
		# shellcheck disable=SC2086 # one key per line
		_wgtools_reply $peers
		return 0
		;;
	?*)
		return 0 # a port, mark, endpoint, list or interval: nothing to offer
		;;
	esac

	if ((in_peer)); then
		if ((!removed)); then
			for k in preshared-key endpoint allowed-ips persistent-keepalive remove; do
				[[ $used == *" $k "* ]] || offer+=("$k")
			done
		fi
	else
		for k in listen-port fwmark private-key; do
			[[ $used == *" $k "* ]] || offer+=("$k")
		done
	fi
	offer+=(peer)
	_wgtools_reply "${offer[@]}"
}

complete -F _wg wg
