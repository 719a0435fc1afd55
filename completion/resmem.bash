# bash completion for resmem(1)                           -*- shell-script -*-
#
# Commands and options come from the CLI's own --help, which is generated
# from each command's option table (userspace/cli/options.c): this file
# names no option itself, so it cannot drift from the binary.
# shellcheck shell=bash disable=SC2207
# (SC2207: COMPREPLY=($(compgen ...)) is how completions split words.)

# Print "NAME ARG" (ARG "-" when none) for each option of: resmem WORDS...
_resmem_options()
{
	local line re='^  (-h, )?(--[a-z0-9-]+)(\[=([^] ]+)\]| ([^ ]+))?(  |$)'

	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		printf '%s %s\n' "${BASH_REMATCH[2]}" \
			"${BASH_REMATCH[4]:-${BASH_REMATCH[5]:--}}"
	done < <("$@" --help 2>/dev/null)
}

# The commands: the "  name  summary" lines of resmem --help.
_resmem_commands()
{
	"$1" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'
}

_resmem()
{
	local bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]} cmd name arg words=
	local -a opts

	COMPREPLY=()
	# The command's word: after the global options (-q, --quiet, -v, --verbose).
	local c=1
	while ((c < COMP_CWORD)) && [[ ${COMP_WORDS[c]} == @(-q|--quiet|-v|--verbose) ]]; do
		((c++))
	done
	if ((COMP_CWORD == c)); then
		COMPREPLY=($(compgen -W "$(_resmem_commands "$bin") help --help --version -q --quiet -v --verbose" -- "$cur"))
		return
	fi
	cmd=("${COMP_WORDS[c]}")
	case ${COMP_WORDS[c]} in
	help)
		((COMP_CWORD == c + 1)) &&
			COMPREPLY=($(compgen -W "$(_resmem_commands "$bin")" -- "$cur"))
		return
		;;
	dt)
		if ((COMP_CWORD == c + 1)); then
			COMPREPLY=($(compgen -W "add list" -- "$cur"))
			return
		fi
		cmd=(dt "${COMP_WORDS[c + 1]}")
		;;
	esac

	mapfile -t opts < <(_resmem_options "$bin" "${cmd[@]}")
	# The value of an option: its alternatives (mmap|read), files, or nothing.
	for name in "${opts[@]}"; do
		[[ ${name%% *} == "$prev" ]] || continue
		arg=${name#* }
		[[ $arg == - ]] && break
		if [[ $arg == *DIR* ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		elif [[ $arg == *FILE* ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $arg == *'|'* && $arg =~ ^[a-z|]+$ ]]; then
			COMPREPLY=($(compgen -W "${arg//|/ }" -- "$cur"))
		fi
		[[ $arg == *FILE* || $arg == *DIR* ]] && compopt -o filenames 2>/dev/null
		return
	done
	if [[ $cur == -* ]]; then
		for name in "${opts[@]}"; do
			words+=" ${name%% *}"
		done
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	# Operands: region names, and files (device paths, saved images, trees).
	if [[ -d /sys/class/resmem ]]; then
		words=$(ls /sys/class/resmem 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur"))
	compopt -o filenames 2>/dev/null
}
complete -F _resmem resmem
