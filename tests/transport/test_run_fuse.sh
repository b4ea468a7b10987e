#!/bin/sh
# `iommusim run --transport fuse` (tools/serve.c, TAP): the client's
# transport sequence through /dev/iommu in the private mount namespace;
# the host's /dev untouched; the rest of /dev still there for the
# command; the command's exit status; --stats; bad usage.
#   test_run_fuse.sh IOMMUSIM CLIENT [RUNTIME]
# RUNTIME: a library to keep first in LD_PRELOAD (the ASan runtime in a
# sanitizer build).  Needs root and /dev/fuse; otherwise skipped (TAP
# "1..0 # SKIP", which meson reports as SKIP).
iommusim=$1
client=$2
first=${3:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP a mount namespace and a FUSE mount need root"
	exit 0
fi
if [ ! -c /dev/fuse ]; then
	echo "1..0 # SKIP this machine has no /dev/fuse"
	exit 0
fi
unset IOMMUSIM_ABI IOMMUSIM_MODEL IOMMUSIM_STATS IOMMUSIM_DEVICE IOMMUSIM_PRELOAD
n=0
fail=0
rc=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# frun ARGS...: iommusim run --transport fuse ARGS; status in $rc.
frun() {
	LD_PRELOAD=$first "$iommusim" run --transport fuse "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

. "$(dirname "$0")/../lib/tap.sh"

host_iommu=$(ls -l /dev/iommu 2>&1)

frun -- "$client" transport
result "the client's transport sequence through /dev/iommu (a FUSE file)" \
	'[ $rc -eq 0 ] && grep -q "^1\.\.14$" "$tmp/out" && ! grep -q "^not ok" "$tmp/out" &&
	 grep -q "^# /dev/iommu: a regular file (FUSE)$" "$tmp/out" &&
	 grep -q "^# IOMMU_FAULT_QUEUE_ALLOC: EOPNOTSUPP" "$tmp/out"'

# (Other tests may mount FUSE files of their own meanwhile, elsewhere.)
result "the host's /dev/iommu is as it was, and nothing of ours is mounted on /dev" \
	'[ "$(ls -l /dev/iommu 2>&1)" = "$host_iommu" ] &&
	 ! grep -q "^iommusim /dev[ /]" /proc/self/mounts'

# Inside: the host's /dev entries (working) plus iommu.  Other programs
# on the machine may add or drop entries meanwhile: every entry there
# both before and after must be inside, and nothing that was never there
# but iommu.  This script's own process stays outside the namespace.
ls -A /dev | sort >"$tmp/dev.before"
frun -- sh -c 'ls -A /dev; echo x >/dev/null && head -c 4 /dev/zero | wc -c >"$1/zero";
	[ -d /dev/pts ] && [ -d /dev/shm ] && echo pts+shm >"$1/dirs";
	grep " /dev/iommu " /proc/self/mounts >"$1/inside-mounts";
	grep -c "^iommusim /dev" /proc/$2/mounts >"$1/outside-mounts"; true' sh "$tmp" $$
ls -A /dev | sort >"$tmp/dev.after"
sort "$tmp/out" >"$tmp/dev.inside"
comm -12 "$tmp/dev.before" "$tmp/dev.after" >"$tmp/dev.stable"
(cat "$tmp/dev.before" "$tmp/dev.after"; echo iommu) | sort -u >"$tmp/dev.any"
result "inside: every host /dev entry (working) plus iommu, a FUSE mount" \
	'[ $rc -eq 0 ] && [ -z "$(comm -23 "$tmp/dev.stable" "$tmp/dev.inside")" ] &&
	 [ -z "$(comm -23 "$tmp/dev.inside" "$tmp/dev.any")" ] && grep -qx iommu "$tmp/dev.inside" &&
	 [ "$(cat "$tmp/zero")" = 4 ] && [ "$(cat "$tmp/dirs")" = pts+shm ] &&
	 grep -q " /dev/iommu fuse.iommusim " "$tmp/inside-mounts"'
result "... while it runs, the rest of the machine sees none of it" \
	'[ "$(cat "$tmp/outside-mounts")" = 0 ]'

frun -- "$client" exit 7
result "the command's exit status is run's" '[ $rc -eq 7 ]'

frun -- sh -c 'kill -KILL $$'
result "a command killed by a signal: 128 + the signal" '[ $rc -eq 137 ]'

frun -- "$tmp/no-such-command"
result "a command that cannot be found: status 127" \
	'[ $rc -eq 127 ] && grep -q "cannot run" "$tmp/err"'

frun --stats -- "$client" probe
result "--stats: the server's counts after the command" \
	'[ $rc -eq 0 ] && grep -q "^iommusim serve: 6 ioctls served, 1 failed$" "$tmp/err" &&
	 grep -Eq "^  IOMMU_DESTROY +2  \(1 failed\)$" "$tmp/err" &&
	 grep -Eq "^  IOMMU_IOAS_MAP +1$" "$tmp/err"'

frun --abi 6.12 -- "$client" abi
result "--abi 6.12 reaches the server (HWPT_INVALIDATE of a paging HWPT: ENOENT)" '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = 6.12 ]'
frun -- "$client" abi
result "... and without it, the newest kernel's answer (EINVAL)" '[ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = newest ]'
frun --abi 6.12 -- "$client" transport
result "the transport sequence passes as 6.12 too" \
	'[ $rc -eq 0 ] && grep -q "^1\.\.14$" "$tmp/out" && ! grep -q "^not ok" "$tmp/out"'

LD_PRELOAD=$first "$iommusim" run --transport socks -- "$client" exit 0 >"$tmp/out" 2>"$tmp/err"
rc=$?
result "an unknown transport: status 2, says which it knows" \
	'[ $rc -eq 2 ] && grep -q -- "--transport wants preload or fuse" "$tmp/err"'

if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$iommusim" run --transport fuse -- "$client" exit 0 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	result "not root: status 1, says it needs root" \
		'[ $rc -eq 1 ] && grep -q -- "--transport fuse needs root" "$tmp/err"'
else
	n=$((n + 1))
	echo "ok $n - not root # SKIP no setpriv to drop root with"
fi

# Processes of the command share the one server: a child it forks and
# an unrelated process it starts both reach it.
frun -- sh -c '"$0" probe && "$0" probe' "$client"
result "several processes of the command are served by one server" \
	'[ $rc -eq 0 ] && [ "$(grep -c "client probe: ok" "$tmp/out")" -eq 2 ]'

echo "1..$n"
exit $fail
