#!/bin/sh
# The CUSE transport end to end (TAP), in the test VM: `iommusim serve
# --cuse iommu` creates /dev/iommu, a client that knows only the C library
# and the uAPI (tests/preload/client.c) talks to it through the kernel, and
# SIGTERM shuts the server down cleanly.
#   test_cuse.sh IOMMUSIM CLIENT          boot the VM, run the checks in it
#   test_cuse.sh --in-vm IOMMUSIM CLIENT  the checks (run by the VM's /init)
# The binaries keep their host paths inside the VM.  The VM's TAP lines
# carry no numbers; vmtest.sh numbers them.

if [ "${1:-}" = --in-vm ]; then
	iommusim=$2
	client=$3
	fail=0
	result() { # ok|bad, description
		if [ "$1" = ok ]; then
			echo "ok - $2"
		else
			fail=1
			echo "not ok - $2"
		fi
	}
	comment() { # file, prefix: the file's lines as TAP comments
		[ -s "$1" ] && sed "s/^/# $2/" "$1"
	}
	# Waits are slow under TCG, slower still with sanitizers: generous
	# but bounded, and timed by the clock, not by counting sleeps.
	now() { # tenths of a second since boot
		awk '{ printf "%d", $1 * 10 }' /proc/uptime
	}
	since() { # start -> "S.T s" elapsed
		t=$(($(now) - $1))
		echo "$((t / 10)).$((t % 10)) s"
	}
	# alive PID: running (not gone, not a zombie waiting to be reaped).
	alive() {
		[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
	}

	[ ! -e /dev/iommu ] || {
		result bad "no /dev/iommu before the server starts"
		exit 1
	}

	# info: one line at start and one at stop, for the log below.
	"$iommusim" serve --cuse iommu --log-level info >/tmp/serve.out 2>/tmp/serve.err &
	pid=$!
	t0=$(now)
	while [ ! -c /dev/iommu ] && alive $pid && [ $(($(now) - t0)) -lt 600 ]; do
		sleep 0.1
	done
	if [ -c /dev/iommu ]; then
		result ok "serve --cuse iommu: /dev/iommu appears, a character device ($(since $t0))"
	else
		alive $pid && state="still running" || state="exited"
		result bad "serve --cuse iommu: /dev/iommu appears within 60 s (server $state)"
	fi
	# The kernel's CUSE registers each device in its "cuse" class.
	[ -e /sys/class/cuse/iommu ] && r=ok || r=bad
	result $r "the device is CUSE's (/sys/class/cuse/iommu)"

	# The clients: bounded, so a server that never answers cannot hang us.
	timeout -s KILL 120 "$client" probe /dev/iommu >/tmp/probe.out 2>/tmp/probe.err
	rc=$?
	[ $rc -eq 0 ] && grep -q '^client probe: ok' /tmp/probe.out && r=ok || r=bad
	result $r "preload-client probe /dev/iommu: open, IOAS alloc, map, unmap, destroy answer as Linux (status $rc)"
	[ $r = ok ] || { comment /tmp/probe.out "probe: "; comment /tmp/probe.err "probe: "; }

	# The scripted transport sequence prints TAP of its own: each of its
	# results becomes one of ours, then one for its plan and status.
	timeout -s KILL 300 "$client" transport /dev/iommu >/tmp/tr.out 2>/tmp/tr.err
	rc=$?
	if [ $rc -eq 2 ] && grep -qi usage /tmp/tr.out /tmp/tr.err; then
		result bad "preload-client transport: the client has this mode (it printed its usage)"
	else
		plan=""
		count=0
		while IFS= read -r line; do
			case $line in
			"ok"*) ok=ok rest=${line#ok} ;;
			"not ok"*) ok=bad rest=${line#not ok} ;;
			1..*) plan=${line#1..}; plan=${plan%% *}; continue ;;
			*) echo "# transport: $line"; continue ;;
			esac
			count=$((count + 1))
			rest=$(echo "$rest" | sed 's/^ *[0-9]* *//; s/^- *//')
			result $ok "transport: $rest"
		done </tmp/tr.out
		[ $rc -eq 0 ] && [ -n "$plan" ] && [ "$plan" -eq $count ] && [ $count -gt 0 ] && r=ok || r=bad
		result $r "preload-client transport: status 0, all $count of ${plan:-?} planned checks reported (status $rc)"
	fi
	comment /tmp/tr.err "transport: "

	# Clean shutdown: SIGTERM, exit status 0, the device goes away.
	if ! alive $pid; then
		wait $pid
		result bad "SIGTERM: the server was still running to get it (it had exited, status $?)"
	else
		kill -TERM $pid
		t0=$(now)
		while alive $pid && [ $(($(now) - t0)) -lt 300 ]; do
			sleep 0.1
		done
		if alive $pid; then
			kill -KILL $pid
			wait $pid
			result bad "SIGTERM: the server exits within 30 s (it had to be killed)"
		else
			wait $pid
			rc=$?
			[ $rc -eq 0 ] && r=ok || r=bad
			result $r "SIGTERM: the server exits with status 0 (status $rc, $(since $t0))"
		fi
	fi
	t0=$(now)
	while [ -e /dev/iommu ] && [ $(($(now) - t0)) -lt 100 ]; do
		sleep 0.1
	done
	[ ! -e /dev/iommu ] && [ ! -e /sys/class/cuse/iommu ] && r=ok || r=bad
	result $r "after shutdown /dev/iommu is gone"
	if grep -qE 'Sanitizer|runtime error:' /tmp/serve.err; then
		result bad "the server's stderr has no sanitizer report"
	else
		result ok "the server's stderr has no sanitizer report"
	fi
	comment /tmp/serve.err "serve: "
	comment /tmp/serve.out "serve: "
	exit $fail
fi

if [ $# -ne 2 ]; then
	echo "usage: test_cuse.sh IOMMUSIM CLIENT" >&2
	exit 2
fi
. "$(dirname "$0")/vmtest.sh"
# The sanitizers' settings (meson's test setups) hold inside the VM too.
# The time limit covers the bounded waits above (60 + 120 + 300 + 30 + 10 s).
vm_tap --module cuse --binary "$1" --binary "$2" --timeout 600 \
	--env ASAN_OPTIONS --env UBSAN_OPTIONS --env LSAN_OPTIONS \
	-- "$0" --in-vm "$1" "$2"
tap_finish
