#!/bin/sh
# The socket transport (TAP): `iommusim serve --socket` and programs run
# with `iommusim run --connect` forwarding to it (transport/socket/,
# transport/preload/).  Usage errors, the client's whole suite and the
# transport sequence through one server, contexts per open across
# processes, the connection kept from the program, exec, clients killed
# mid-ioctl, and a clean shutdown.
#   test_socket.sh IOMMUSIM CLIENT PEER MODULE VFIO_CLIENT MODEL [RUNTIME]
# RUNTIME: a library to keep first in LD_PRELOAD (the ASan runtime in a
# sanitizer build), given to iommusim itself too.
iommusim=$1
client=$2
peer=$3
module=$4
vfio_client=$5
model=$6
first=${7:-}
unset IOMMUSIM_ABI IOMMUSIM_MODEL IOMMUSIM_STATS IOMMUSIM_DEVICE IOMMUSIM_CONNECT
export IOMMUSIM_PRELOAD=$module
n=0
fail=0
tmp=$(mktemp -d)
servers=""
cleanup() {
	for p in $servers; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib/tap.sh"

ims() { # iommusim ARGS: status in $rc, output in $tmp/out, $tmp/err
	LD_PRELOAD=$first "$iommusim" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# serve SOCKET LOG ARGS...: start a server in the background ($spid);
# wait until it answers.
serve() {
	sock=$1 log=$2
	shift 2
	LD_PRELOAD=$first "$iommusim" serve --socket "$sock" "$@" 2>"$log" &
	spid=$!
	servers="$servers $spid"
	i=0
	while [ $i -lt 100 ]; do
		if [ -S "$sock" ] && LD_PRELOAD=$first "$iommusim" run --connect "$sock" -- true \
			>/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# stop PID: SIGTERM, wait; its exit status in $rc.
stop() {
	kill -TERM "$1"
	wait "$1"
	rc=$?
}

# --- usage ------------------------------------------------------------
ims serve
result "serve without a front end: status 2, names --socket" \
	'[ $rc -eq 2 ] && grep -q -- "--socket PATH" "$tmp/err"'
ims serve --socket ""
result "serve --socket with an empty path: status 2" '[ $rc -eq 2 ]'
ims serve --socket "$tmp/x" --fuse "$tmp/y"
result "serve with two front ends: status 2" '[ $rc -eq 2 ]'
long=$tmp/$(printf '%0120d' 0)
ims serve --socket "$long"
result "serve on a path too long for a Unix socket: status 1, says so" \
	'[ $rc -eq 1 ] && grep -q "path must have 1 to 107 characters" "$tmp/err"'
echo keep >"$tmp/file"
ims serve --socket "$tmp/file"
result "serve on an existing regular file: status 1, the file untouched" \
	'[ $rc -eq 1 ] && grep -q "not a socket" "$tmp/err" && [ "$(cat "$tmp/file")" = keep ]'
ims serve --help
result "serve --help documents --socket" '[ $rc -eq 0 ] && grep -q -- "--socket PATH" "$tmp/out"'

ims run --connect "$tmp/file" -- true
result "run --connect to a regular file: status 2" \
	'[ $rc -eq 2 ] && grep -q "is not a socket" "$tmp/err"'
ims run --connect "$tmp/none" -- true
result "run --connect to a missing path: status 2" \
	'[ $rc -eq 2 ] && grep -q "does not exist" "$tmp/err"'

# --- one server for the client suites ------------------------------------
# The client's IOMMUSIM_ABI test opens with 6.12: the server answers as 6.12.
S=$tmp/a.sock
if ! serve "$S" "$tmp/a.log" --abi 6.12 --stats; then
	echo "Bail out! iommusim serve --socket did not start:"
	sed 's/^/# /' "$tmp/a.log"
	exit 1
fi
sa=$spid
ims serve --socket "$S"
result "a second server on a live socket: status 1, the first keeps it" \
	'[ $rc -eq 1 ] && grep -q "in use by another server" "$tmp/err" && [ -S "$S" ]'
ims run --connect "$S" --abi 6.12 -- true
result "run --connect with --abi: status 2 (the server's ABI applies)" \
	'[ $rc -eq 2 ] && grep -q "does not go with --abi" "$tmp/err"'
ims run --connect "$S" --model "$model" -- true
result "run --connect with --model: status 2 (the server's model applies)" \
	'[ $rc -eq 2 ] && grep -q "does not go with --model" "$tmp/err"'
(cd "$tmp" && LD_PRELOAD=$first "$iommusim" run --connect a.sock -- env) >"$tmp/out" 2>"$tmp/err"
rc=$?
result "run --connect: IOMMUSIM_CONNECT is the absolute path, the module preloaded" \
	'[ $rc -eq 0 ] && grep -qx "IOMMUSIM_CONNECT=$(cd "$tmp" && pwd -P)/a.sock" "$tmp/out" &&
	 grep -qx "LD_PRELOAD=${first:+$first:}$module" "$tmp/out"'

ims run --connect "$S" -- "$client"
result "the client's suite through the server (fork shares the context)" \
	'[ $rc -eq 0 ] && grep -q "^ok .* fork: the child uses its inherited descriptor on the same context" "$tmp/out" &&
	 ! grep -q "^not ok" "$tmp/out"'

ims run --connect "$S" -- "$peer" fresh
result "a new process gets a fresh context (IDs from 1)" '[ $rc -eq 0 ]'

# Two processes at once: contexts are per open, not per server.
mkfifo "$tmp/go"
LD_PRELOAD=$first "$iommusim" run --connect "$S" -- "$peer" hold <"$tmp/go" >"$tmp/hold.out" 2>&1 &
hp=$!
exec 3>"$tmp/go"
i=0
while [ $i -lt 100 ] && ! grep -q ready "$tmp/hold.out"; do sleep 0.05; i=$((i + 1)); done
ims run --connect "$S" -- "$peer" fresh
fresh_rc=$rc
exec 3>&-
wait $hp
rc=$?
result "two processes: each open its own context; neither sees the other's IOAS" \
	'[ $fresh_rc -eq 0 ] && [ $rc -eq 0 ] && grep -q ready "$tmp/hold.out"'

ims run --connect "$S" -- "$peer" guard
result "the connection's descriptor: close EBADF, close_range/closefrom/dup2 step around it" \
	'[ $rc -eq 0 ]'

ims run --connect "$S" -- "$peer" exec "$peer" fresh
result "exec: the new image starts with no contexts; the old one is released" '[ $rc -eq 0 ]'

# Clients killed with SIGKILL in the middle of their requests (maps of
# 32 MiB with a device attached take milliseconds each).
killed=0
for d in 1 3 5 7 9 2 4 6; do
	LD_PRELOAD=$first "$iommusim" run --connect "$S" -- "$peer" hammer >"$tmp/h.out" 2>&1 &
	p=$!
	i=0
	while [ $i -lt 200 ] && ! grep -q ready "$tmp/h.out"; do sleep 0.02; i=$((i + 1)); done
	sleep 0.0$d
	kill -9 $p 2>/dev/null && killed=$((killed + 1))
	wait $p 2>/dev/null
done
ims run --connect "$S" -- "$client" probe
result "after $killed clients killed mid-ioctl the server still serves" \
	'[ $killed -eq 8 ] && [ $rc -eq 0 ] && kill -0 $sa'

stop $sa
result "SIGTERM: exit 0, socket file removed, every context closed" \
	'[ $rc -eq 0 ] && [ ! -e "$S" ] && grep -q "still open: 0;" "$tmp/a.log" &&
	 ! grep -q "error:" "$tmp/a.log"'

# --- the transport sequence, on a server answering as the newest kernel ---
S=$tmp/b.sock
serve "$S" "$tmp/b.log"
sb=$spid
ims run --connect "$S" -- "$client" transport
result "the transport sequence through the server (descriptors from ioctls, fork shared)" \
	'[ $rc -eq 0 ] && ! grep -q "^not ok" "$tmp/out" &&
	 grep -q "IOMMU_FAULT_QUEUE_ALLOC: a new descriptor" "$tmp/out" &&
	 grep -q "IOMMU_TEST_OP_CREATE_ACCESS: a new descriptor" "$tmp/out" &&
	 grep -q "^ok .* fork shares the context: the child" "$tmp/out"'

# --- emulated VFIO devices, driven by the server's model ---------------
# Without a model the device cannot open (ENODEV); with one, the VMM's
# passthrough sequence (bind, map, stage 2, a first stage in guest memory,
# DMA through it) passes as it does in-process.
ims run --connect "$S" -- "$vfio_client"
result "VFIO device through a server without --model: the open fails" \
	'[ $rc -ne 0 ] && grep -q "^not ok 1 - /dev/iommu and the VFIO cdev open" "$tmp/out"'
S2=$tmp/v.sock
serve "$S2" "$tmp/v.log" --model "$model"
sv=$spid
ims run --connect "$S2" -- "$vfio_client"
result "VFIO device through a server with --model: the passthrough sequence passes" \
	'[ $rc -eq 0 ] && ! grep -q "^not ok" "$tmp/out" && grep -q "^ok .* the device copies through the guest" "$tmp/out"'
stop $sv
result "the VFIO server stops cleanly (status 0)" '[ $rc -eq 0 ]'

# A server that is gone: a stale socket file is replaced by the next one,
# and until then opens fail with ENXIO.
kill -9 $sb
wait $sb 2>/dev/null
LD_PRELOAD=${first:+$first:}$module IOMMUSIM_CONNECT=$S "$client" probe >"$tmp/out" 2>"$tmp/err"
rc=$?
result "server gone: open fails (ENXIO), said once" \
	'[ $rc -ne 0 ] && grep -q "cannot reach the server" "$tmp/err" &&
	 grep -q "No such device or address" "$tmp/err"'
serve "$S" "$tmp/c.log"
sc=$spid
ims run --connect "$S" -- "$client" probe
result "a new server replaces the stale socket and serves" '[ $rc -eq 0 ]'
stop $sc

echo "1..$n"
exit $fail
