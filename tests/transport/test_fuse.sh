#!/bin/sh
# `iommusim serve --fuse PATH` (transport/fuse/, TAP): the client's
# transport sequence through the FUSE file; the EOPNOTSUPP of ioctls that
# would create a descriptor; a client killed while holding objects; clean
# shutdown on SIGTERM and SIGINT (no mount left, the file it made removed,
# one it was given kept); --stats, --log-level; bad usage; and --cuse on a
# kernel without CUSE.
#   test_fuse.sh IOMMUSIM CLIENT [STATIC_CLIENT]
# STATIC_CLIENT: the client linked statically, to show that the kernel
# serves programs a preload cannot reach.
# Needs root and /dev/fuse; otherwise the whole test is skipped (TAP
# "1..0 # SKIP", which meson reports as SKIP).
iommusim=$1
client=$2
static_client=${3:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP mounting a FUSE file needs root"
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
srv_pid=
hold_pid=
cleanup() {
	[ -n "$hold_pid" ] && kill -KILL "$hold_pid" 2>/dev/null
	[ -n "$srv_pid" ] && kill -KILL "$srv_pid" 2>/dev/null
	umount -l "$tmp/iommu" 2>/dev/null
	umount -l "$tmp/given" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/tap.sh"

mounted() { grep -q " $1 fuse" /proc/self/mounts; }

# start PATH ARGS...: iommusim serve --fuse PATH ARGS in the background,
# its stderr in $tmp/srv; waits until PATH is mounted (status 1 if never).
start() {
	path=$1
	shift
	"$iommusim" serve --fuse "$path" "$@" 2>"$tmp/srv" &
	srv_pid=$!
	i=0
	while ! mounted "$path"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
}

# stop SIGNAL: send it to the server; its status in $rc.
stop() {
	kill -"$1" "$srv_pid"
	wait "$srv_pid"
	rc=$?
	srv_pid=
}

start "$tmp/iommu" --stats --log-level debug
started=$?
result "serve --fuse: mounted on a path it creates" '[ $started -eq 0 ] && [ -f "$tmp/iommu" ]'

"$client" transport "$tmp/iommu" >"$tmp/out" 2>"$tmp/err"
rc=$?
result "the client's transport sequence through the FUSE file" \
	'[ $rc -eq 0 ] && grep -q "^1\.\.14$" "$tmp/out" && ! grep -q "^not ok" "$tmp/out" &&
	 grep -q "^# $tmp/iommu: a regular file (FUSE)$" "$tmp/out"'
result "ioctls that would create a descriptor: EOPNOTSUPP, nothing allocated" \
	'grep -q "^# IOMMU_FAULT_QUEUE_ALLOC: EOPNOTSUPP, nothing allocated$" "$tmp/out" &&
	 grep -q "^# IOMMU_TEST_OP_CREATE_ACCESS: EOPNOTSUPP, nothing allocated$" "$tmp/out"'
result "fork shares the context (one open file, one server)" \
	'grep -q "^ok [0-9]* - fork shares the context: " "$tmp/out"'

# A client killed (SIGKILL) while holding an IOAS, a mock device, HWPTs and
# a map of its own memory: the kernel releases its file, the server closes
# the context, and serves the next client.
"$client" hold "$tmp/iommu" >"$tmp/out" 2>"$tmp/err" &
hold_pid=$!
i=0
while ! grep -q holding "$tmp/out" && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
kill -KILL "$hold_pid"
wait "$hold_pid" 2>/dev/null
hold_pid=
# Its IOAS, mock device (selftest object, device, automatic HWPT) and two
# HWPTs: six objects, destroyed when the kernel releases the file.
i=0
while ! grep -q "close: 6 objects destroyed" "$tmp/srv" && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
result "a client killed while holding objects: its context is closed" \
	'grep -q "^iommusim serve: debug: close: 6 objects destroyed, 0 contexts open$" "$tmp/srv"'
"$client" probe "$tmp/iommu" >"$tmp/out" 2>"$tmp/err"
rc=$?
result "... and the server goes on serving" \
	'[ $rc -eq 0 ] && grep -q "client probe: ok" "$tmp/out"'

if [ -n "$static_client" ]; then
	"$static_client" probe "$tmp/iommu" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	result "a statically linked client is served" \
		'[ $rc -eq 0 ] && grep -q "client probe: ok" "$tmp/out"'
else
	n=$((n + 1))
	echo "ok $n - a statically linked client is served # SKIP no static client in this build"
fi

stop TERM
result "SIGTERM: exit 0, unmounted, the file it made removed" \
	'[ $rc -eq 0 ] && ! mounted "$tmp/iommu" && [ ! -e "$tmp/iommu" ]'
result "--stats at exit: counts per request" \
	'grep -q "^iommusim serve: [0-9]* ioctls served, [0-9]* failed$" "$tmp/srv" &&
	 grep -Eq "^  IOMMU_HWPT_INVALIDATE +[0-9]+  \([0-9]+ failed\)$" "$tmp/srv" &&
	 grep -q "^  opens of /dev/iommu: [0-9]* (0 failed); still open: [0-9]*;" "$tmp/srv"'
result "--log-level debug: each failed ioctl, with its errno; start and stop" \
	'grep -q "^iommusim serve: debug: thread [0-9]*: IOMMU_DESTROY (0x3b80): ENOENT" "$tmp/srv" &&
	 grep -q "^iommusim serve: info: serving $tmp/iommu (FUSE file)$" "$tmp/srv" &&
	 grep -q "^iommusim serve: info: Terminated: shutting down$" "$tmp/srv"'

# A file that exists is mounted over and kept; SIGINT stops as SIGTERM does.
echo keep >"$tmp/given"
start "$tmp/given"
rc=$?
"$client" probe "$tmp/given" >"$tmp/out" 2>"$tmp/err"
result "an existing file: mounted over, served" \
	'[ $rc -eq 0 ] && grep -q "client probe: ok" "$tmp/out"'
stop INT
result "SIGINT: exit 0, unmounted, the given file kept as it was; quiet by default" \
	'[ $rc -eq 0 ] && ! mounted "$tmp/given" && [ "$(cat "$tmp/given")" = keep ] &&
	 [ ! -s "$tmp/srv" ]'

"$iommusim" serve --help >"$tmp/out" 2>"$tmp/err"
rc=$?
result "serve --help: usage on stdout, status 0" \
	'[ $rc -eq 0 ] && grep -q "^Usage: iommusim serve" "$tmp/out" && [ ! -s "$tmp/err" ]'
"$iommusim" --help >"$tmp/out" 2>"$tmp/err"
rc=$?
result "iommusim --help lists serve" '[ $rc -eq 0 ] && grep -q "^  serve " "$tmp/out"'

# Bad usage: status 2 and a reason; a path it cannot mount on: status 1.
"$iommusim" serve >"$tmp/out" 2>"$tmp/err"
rc=$?
result "serve without --cuse or --fuse: status 2" \
	'[ $rc -eq 2 ] && grep -q "give one of --cuse" "$tmp/err"'
"$iommusim" serve --fuse "$tmp/x" --cuse >"$tmp/out" 2>"$tmp/err"
rc=$?
result "serve with both: status 2" '[ $rc -eq 2 ] && grep -q "give one of" "$tmp/err"'
"$iommusim" serve --fuse "$tmp/x" --log-level loud >"$tmp/out" 2>"$tmp/err"
rc=$?
result "a bad --log-level: status 2, says what it wants" \
	'[ $rc -eq 2 ] && grep -q -- "--log-level wants error, warn, info or debug" "$tmp/err"'
"$iommusim" serve --fuse "$tmp/x" --abi 5.0 >"$tmp/out" 2>"$tmp/err"
rc=$?
result "a bad --abi: status 2" '[ $rc -eq 2 ] && grep -q -- "--abi wants" "$tmp/err"'
mkdir "$tmp/dir"
"$iommusim" serve --fuse "$tmp/dir" >"$tmp/out" 2>"$tmp/err"
rc=$?
result "--fuse on a directory: status 1, says it wants a file; nothing mounted" \
	'[ $rc -eq 1 ] && grep -q "is not a regular file" "$tmp/err" && ! mounted "$tmp/dir"'
"$iommusim" serve --fuse "$tmp/no/such/dir/iommu" >"$tmp/out" 2>"$tmp/err"
rc=$?
result "--fuse in a missing directory: status 1, names it" \
	'[ $rc -eq 1 ] && grep -q "cannot create $tmp/no/such/dir/iommu" "$tmp/err"'
if command -v setpriv >/dev/null; then
	# A directory the unprivileged user may create the file in.
	chmod 711 "$tmp"
	mkdir -m 1777 "$tmp/pub"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$iommusim" serve --fuse "$tmp/pub/iommu" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	result "not root: status 1, says mounting needs root; nothing left behind" \
		'[ $rc -eq 1 ] && grep -q "mounting needs root" "$tmp/err" && [ ! -e "$tmp/pub/iommu" ]'
else
	n=$((n + 1))
	echo "ok $n - not root # SKIP no setpriv to drop root with"
fi
if [ -e /dev/cuse ]; then
	n=$((n + 1))
	echo "ok $n - --cuse without CUSE # SKIP this kernel has CUSE (the VM test covers it)"
else
	"$iommusim" serve --cuse iommu-test >"$tmp/out" 2>"$tmp/err"
	rc=$?
	result "--cuse on a kernel without CUSE: status 1, says so" \
		'[ $rc -eq 1 ] && grep -q "this kernel has no CUSE" "$tmp/err" &&
		 [ ! -e /dev/iommu-test ]'
fi

echo "1..$n"
exit $fail
