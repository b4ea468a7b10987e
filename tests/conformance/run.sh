#!/usr/bin/env bash
# tests/conformance/run.sh IOMMUSIM SRCDIR WORKDIR [socket]
#
# Build the kernel's iommufd selftest from Debian's linux-source-6.12 and
# run it against iommusim: in each process through the preload (`iommusim
# run --abi 6.12`), or with `socket`, every process forwarding to one
# shared server (`iommusim serve --socket --abi 6.12` and `iommusim run
# --connect`), as the kernel shares its state between a process and its
# forks.  Prints TAP: one line per selftest case, exceptions from README
# reported as skipped with their reason, then (socket) one line for the
# server's clean exit, then the harness's own counts.  Exit 77 (skip) only
# when the source package cannot be installed.
set -uo pipefail
IOMMUSIM=$1
SRC=$2
WORK=$3
MODE=${4:-in-process}
case $MODE in
in-process|socket) ;;
*) echo "Bail out! unknown mode '$MODE' (in-process or socket)"; exit 1 ;;
esac
HERE="$SRC/tests/conformance"
TARBALL=/usr/src/linux-source-6.12.tar.xz
mkdir -p "$WORK"
# A sanitizer build hands us its runtime in LD_PRELOAD: it is meant for the
# selftest under iommusim, not for tar, gcc and the rest of this script.
RUNTIME_PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD

if [ ! -f "$TARBALL" ]; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
	if ! { $sudo apt-get install -y -qq linux-source-6.12 >"$WORK/apt.log" 2>&1 ||
		{ $sudo apt-get update -qq >>"$WORK/apt.log" 2>&1 &&
		  $sudo apt-get install -y -qq linux-source-6.12 >>"$WORK/apt.log" 2>&1; }; }; then
		# Meson 1.0 takes a TAP test that exits 77 for an ERROR: the plan
		# "1..0 # SKIP" with status 0 is what it counts as skipped.
		echo "1..0 # SKIP linux-source-6.12 is not installed and cannot be (see $WORK/apt.log)"
		exit 0
	fi
fi

# Extract only the selftest, its harness and the two uAPI headers, once.
KS="$WORK/linux-source-6.12"
ST="$KS/tools/testing/selftests/iommu"
if [ ! -f "$ST/iommufd.c" ]; then
	tar -xJf "$TARBALL" -C "$WORK" \
		linux-source-6.12/tools/testing/selftests/iommu \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/drivers/iommu/iommufd/iommufd_test.h \
		linux-source-6.12/include/uapi/linux/iommufd.h \
		linux-source-6.12/include/uapi/linux/vfio.h || { echo "Bail out! cannot extract $TARBALL"; exit 1; }
fi

# The raw uAPI headers carry one kernel-only annotation; drop it (what
# `make headers` does) into a private include directory.
HDR="$WORK/include"
mkdir -p "$HDR/linux"
for h in iommufd.h vfio.h; do
	sed 's/__user //g' "$KS/include/uapi/linux/$h" >"$HDR/linux/$h"
done

for prog in iommufd iommufd_fail_nth; do
	if [ ! -x "$WORK/$prog" ] || [ "$HERE/compat.h" -nt "$WORK/$prog" ]; then
		(cd "$ST" && gcc -D_GNU_SOURCE -Wall -O2 -Wno-unused-function \
			-include "$HERE/compat.h" -isystem "$HDR" "$prog.c" -o "$WORK/$prog") \
			>"$WORK/$prog.build.log" 2>&1 || { echo "Bail out! building $prog failed:"; sed 's/^/# /' "$WORK/$prog.build.log"; exit 1; }
	fi
done

# The hugepage variants need hugetlb pages; reserve some if we may.
hugepages=yes
if [ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)" -lt 64 ]; then
	echo 128 >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	[ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)" -ge 64 ] || hugepages=no
fi
# Does this process hold CAP_SYS_RESOURCE (bit 24 of CapEff)?
cap=no
capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
(( (16#$capeff >> 24) & 1 )) && cap=yes

# Under AddressSanitizer (a sanitizer build preloads its runtime), leak
# reports would be about the selftest harness itself (it never frees an
# opendir buffer), so only memory errors count.
case "$RUNTIME_PRELOAD" in
*libasan*) export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" ;;
esac

SOCK="$WORK/iommu.sock"
SERVER=""
if [ "$MODE" = socket ]; then
	rm -f "$SOCK"
	LD_PRELOAD=$RUNTIME_PRELOAD "$IOMMUSIM" serve --socket "$SOCK" --abi 6.12 --stats \
		2>"$WORK/server.log" &
	SERVER=$!
	trap 'kill -9 $SERVER 2>/dev/null' EXIT
	for _ in $(seq 200); do
		[ -S "$SOCK" ] && LD_PRELOAD=$RUNTIME_PRELOAD "$IOMMUSIM" run --connect "$SOCK" -- true \
			>/dev/null 2>&1 && break
		kill -0 "$SERVER" 2>/dev/null || break
		sleep 0.05
	done
	[ -S "$SOCK" ] || { echo "Bail out! the server did not start:"; sed 's/^/# /' "$WORK/server.log"; exit 1; }
	RUN_ARGS=(--connect "$SOCK")
else
	RUN_ARGS=(--abi 6.12)
fi

run_prog() { # program -> TAP lines in $WORK/<program>.tap
	(cd "$WORK" && LD_PRELOAD=$RUNTIME_PRELOAD "$IOMMUSIM" run "${RUN_ARGS[@]}" -- "./$1") \
		>"$WORK/$1.tap" 2>&1
}
run_prog iommufd
run_prog iommufd_fail_nth

# Is case $1 an exception here?  Prints the reason if so.
exception() {
	local name=$1 line pat cond reason
	while IFS= read -r line; do
		pat=${line%%: *}
		rest=${line#*: }
		cond=${rest%%: *}
		reason=${rest#*: }
		# shellcheck disable=SC2053
		[[ $name == $pat ]] || continue
		case $cond in
		always) echo "$reason"; return 0 ;;
		no-cap) [ $cap = no ] && { echo "$reason"; return 0; } ;;
		no-hugepages) [ $hugepages = no ] && { echo "$reason"; return 0; } ;;
		in-process) [ "$MODE" = in-process ] && { echo "$reason"; return 0; } ;;
		esac
	done < <(sed -n '/^Exceptions$/,/^Known differences/p' "$HERE/README" | grep -E '^[a-z_]+\.[^ ]*: ')
	return 1
}

n=0 failed=0
out=()
for prog in iommufd iommufd_fail_nth; do
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ ok|ok)\ [0-9]+\ ([^ ]+)(.*)$ ]]; then
			n=$((n + 1))
			status=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
			if [ "$status" = ok ]; then
				out+=("ok $n $prog:$name$rest")
			elif reason=$(exception "$name"); then
				out+=("ok $n $prog:$name # SKIP $reason")
			else
				out+=("not ok $n $prog:$name")
				failed=$((failed + 1))
			fi
		fi
	done <"$WORK/$prog.tap"
done
if [ -n "$SERVER" ]; then
	# Every process has exited: the server must be serving no context
	# any more, and stop cleanly.
	kill -TERM "$SERVER"
	wait "$SERVER"
	src=$?
	trap - EXIT
	n=$((n + 1))
	if [ $src -eq 0 ] && [ ! -e "$SOCK" ] && grep -q "still open: 0;" "$WORK/server.log"; then
		out+=("ok $n server: exit 0 on SIGTERM, socket removed, no context left open")
	else
		out+=("not ok $n server: exit 0 on SIGTERM, socket removed, no context left open")
		failed=$((failed + 1))
		while IFS= read -r line; do out+=("# server: $line"); done <"$WORK/server.log"
	fi
fi
echo "1..$n"
printf '%s\n' "${out[@]}"
for prog in iommufd iommufd_fail_nth; do
	echo "# $prog: $(grep -E '^# Totals:' "$WORK/$prog.tap" | sed 's/^# //')"
done
echo "# mode: $MODE; hugetlb pages reserved: $hugepages; CAP_SYS_RESOURCE: $cap"
[ "$n" -gt 0 ] || { echo "Bail out! no selftest output (see $WORK/*.tap)"; exit 1; }
[ "$failed" -eq 0 ]
