# tests/lib/tap.sh - TAP output for the shell tests (sourced, not run).
#
# The sourcing script keeps its counters and scratch files in n, fail, rc
# and $tmp:
#   result "what is checked" 'shell condition'
# prints "ok N - ..." or "not ok N - ...", sets fail=1 on failure and then
# shows the condition, the last status ($rc) and whichever of $tmp/out,
# $tmp/err and $tmp/srv exist, each line prefixed "# out: " and so on.
n=${n:-0}
fail=${fail:-0}

result() { # description, then a shell condition
	n=$((n + 1))
	desc=$1
	shift
	if eval "$*"; then
		echo "ok $n - $desc"
	else
		fail=1
		echo "not ok $n - $desc"
		echo "# condition: $* (status ${rc:-?})"
		for f in out err srv; do
			[ -f "$tmp/$f" ] && sed "s/^/# $f: /" "$tmp/$f"
		done
	fi
	return 0
}
