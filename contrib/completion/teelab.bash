# bash completion for teelab: commands, options, scenario, matrix, profile,
# kernel, ... names. The words come from the binary itself
# (`teelab __complete WORD... CURRENT`, from its option tables), so this
# file never goes stale. Installed by `make install` as
# $(PREFIX)/share/bash-completion/completions/teelab; in a checkout:
#   . contrib/completion/teelab.bash
_teelab()
{
	local line=${COMP_LINE:0:COMP_POINT} cur
	local -a words
	# our own split on blanks: COMP_WORDS splits --opt=value at '='
	read -r -a words <<<"$line"
	[[ $line == *[[:blank:]] ]] && words+=("")
	cur=${words[${#words[@]} - 1]}
	local IFS=$'\n'
	COMPREPLY=($("${words[0]}" __complete "${words[@]:1}" 2>/dev/null))
	# bash replaces only what follows the last COMP_WORDBREAKS character ('=', ':')
	if [[ $cur == *[=:]* ]]; then
		local lead=${cur%[=:]*}
		COMPREPLY=("${COMPREPLY[@]#"$lead"?}")
	fi
}
complete -o bashdefault -o default -F _teelab teelab
