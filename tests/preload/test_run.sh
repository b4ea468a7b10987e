#!/bin/sh
# `iommusim run` (tools/run.c) and the preload module under it (TAP):
# help, bad usage, exit status, the environment it gives, --stats, and
# the client's whole suite run through it.
#   test_run.sh IOMMUSIM CLIENT MODULE SOURCE_ROOT [RUNTIME]
# RUNTIME: a library to keep first in LD_PRELOAD (the ASan runtime in a
# sanitizer build), given to iommusim itself too.
iommusim=$1
client=$2
module=$3
src=$4
first=${5:-}
unset IOMMUSIM_ABI IOMMUSIM_MODEL IOMMUSIM_STATS IOMMUSIM_DEVICE IOMMUSIM_PRELOAD
n=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# irun ARGS...: iommusim run ARGS; status in $rc, output in $tmp/out, $tmp/err.
irun() {
	LD_PRELOAD=$first "$iommusim" run "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

. "$(dirname "$0")/../lib/tap.sh"

irun --help
result "run --help: usage on stdout, status 0" \
	'[ $rc -eq 0 ] && grep -q "^Usage: iommusim run" "$tmp/out" && [ ! -s "$tmp/err" ]'

LD_PRELOAD=$first "$iommusim" help run >"$tmp/out" 2>"$tmp/err"
rc=$?
result "help run: the same usage" \
	'[ $rc -eq 0 ] && grep -q "^Usage: iommusim run" "$tmp/out"'

LD_PRELOAD=$first "$iommusim" --help >"$tmp/out" 2>"$tmp/err"
rc=$?
result "iommusim --help lists run" '[ $rc -eq 0 ] && grep -q "^  run " "$tmp/out"'

irun
result "run without a command: usage on stderr, status 2" \
	'[ $rc -eq 2 ] && grep -q "Usage: iommusim run" "$tmp/err" && [ ! -s "$tmp/out" ]'

irun --bogus -- "$client" exit 0
result "unknown option: status 2" '[ $rc -eq 2 ] && grep -q "iommusim run --help" "$tmp/err"'

irun --abi 5.0 -- "$client" exit 0
result "bad --abi: status 2, says what it wants" \
	'[ $rc -eq 2 ] && grep -q -- "--abi wants 6.12 or newest" "$tmp/err"'

irun --model "$tmp/no-such-model.json" -- "$client" exit 0
result "missing --model file: status 2, names it" \
	'[ $rc -eq 2 ] && grep -q "no-such-model.json. does not exist" "$tmp/err"'

irun -- "$client" exit 7
result "the command's exit status is run's" '[ $rc -eq 7 ]'

irun -- "$tmp/no-such-command"
result "a command that cannot be found: status 127" \
	'[ $rc -eq 127 ] && grep -q "cannot run" "$tmp/err"'

irun --abi 6.12 --model "$src/models/vtd-default.json" -- "$client" env
result "environment: IOMMUSIM_ABI, absolute IOMMUSIM_MODEL, LD_PRELOAD, no stats" \
	'[ $rc -eq 0 ] && grep -qx "IOMMUSIM_ABI=6.12" "$tmp/out" &&
	 grep -qx "IOMMUSIM_MODEL=$(cd "$src/models" && pwd -P)/vtd-default.json" "$tmp/out" &&
	 grep -qx "LD_PRELOAD=${first:+$first:}$module" "$tmp/out" &&
	 grep -qx "IOMMUSIM_STATS=(unset)" "$tmp/out"'

# An LD_PRELOAD already set is kept, after the module (ld.so complains
# about the missing library and goes on).
LD_PRELOAD="${first:+$first:}$tmp/libnone.so" "$iommusim" run -- "$client" env \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
result "an existing LD_PRELOAD is kept after the module" \
	'[ $rc -eq 0 ] && grep -qx "LD_PRELOAD=${first:+$first:}$module:$tmp/libnone.so" "$tmp/out"'

irun -- "$client"
result "the client's suite under iommusim run" \
	'[ $rc -eq 0 ] && grep -q "^1\.\." "$tmp/out" && ! grep -q "^not ok" "$tmp/out"'

irun --stats -- "$client" probe
result "--stats: ioctls per request, failures, objects alive" \
	'[ $rc -eq 0 ] && grep -q "iommusim preload: pid [0-9]*: 6 ioctls served, 1 failed" "$tmp/err" &&
	 grep -Eq "^  IOMMU_IOAS_ALLOC +2$" "$tmp/err" &&
	 grep -Eq "^  IOMMU_DESTROY +2  \(1 failed\)$" "$tmp/err" &&
	 grep -Eq "^  IOMMU_IOAS_MAP +1$" "$tmp/err" &&
	 grep -q "objects alive in them: 1$" "$tmp/err"'

IOMMUSIM_STATS=$tmp/stats.txt LD_PRELOAD=$first "$iommusim" run -- "$client" probe \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
result "IOMMUSIM_STATS=FILE appends the summary to FILE" \
	'[ $rc -eq 0 ] && grep -Eq "^  IOMMU_IOAS_UNMAP +1$" "$tmp/stats.txt" && [ ! -s "$tmp/err" ]'

IOMMUSIM_DEVICE=/nonexistent/a:$tmp/iommu LD_PRELOAD=$first "$iommusim" run -- \
	"$client" probe "$tmp/iommu" >"$tmp/out" 2>"$tmp/err"
rc=$?
result "IOMMUSIM_DEVICE serves the paths it lists" '[ $rc -eq 0 ]'

if [ -e /dev/iommu ]; then
	n=$((n + 1))
	echo "ok $n - IOMMUSIM_DEVICE replaces /dev/iommu # SKIP this machine has a /dev/iommu"
else
	IOMMUSIM_DEVICE=$tmp/iommu LD_PRELOAD=$first "$iommusim" run -- "$client" probe \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	result "IOMMUSIM_DEVICE replaces /dev/iommu" \
		'[ $rc -eq 1 ] && grep -q "No such file" "$tmp/err"'
fi

echo "1..$n"
exit $fail
