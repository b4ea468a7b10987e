#!/bin/sh
# The test VM itself (TAP): Debian's 6.12 kernel boots under vm.sh, FUSE is
# there, the CUSE module loads and /dev/cuse appears, so the VM can host
# a CUSE /dev/iommu.  Every fact checked is the kernel's, not ours.
#   test_vm_cuse_smoke.sh            boot the VM and run the checks in it
#   test_vm_cuse_smoke.sh --in-vm    the checks (run by the VM's /init)
# The VM's TAP lines carry no numbers; vmtest.sh numbers them.

if [ "${1:-}" = --in-vm ]; then
	fail=0
	check() { # description, then a command
		desc=$1
		shift
		if "$@"; then
			echo "ok - $desc"
		else
			fail=1
			echo "not ok - $desc"
		fi
	}
	# The device numbers are Linux's: FUSE_MINOR 229 and CUSE_MINOR 203
	# on the misc major 10 (include/linux/miscdevice.h).
	devno() { # path -> "major,minor" of a character device
		[ -c "$1" ] && stat -c '%t,%T' "$1" |
			awk -F, '{ printf "%d,%d", ("0x" $1) + 0, ("0x" $2) + 0 }'
	}
	is_devno() { [ "$(devno "$1")" = "$2" ]; }
	kernel=$(uname -r)
	check "the kernel is Linux 6.12 ($kernel)" \
		sh -c 'case $(uname -r) in 6.12.*) true ;; *) false ;; esac'
	check "FUSE is in the kernel (fuse in /proc/filesystems)" \
		grep -qw fuse /proc/filesystems
	check "/dev/fuse is character device 10,229" is_devno /dev/fuse 10,229
	check "the cuse module is loaded and live (/proc/modules)" \
		grep -q '^cuse .* Live ' /proc/modules
	check "/dev/cuse is character device 10,203" is_devno /dev/cuse 10,203
	check "/dev/cuse opens for reading and writing" \
		sh -c '[ -c /dev/cuse ] && exec 3<>/dev/cuse'
	check "/tmp is a writable tmpfs" \
		sh -c 'grep -q "^tmpfs /tmp " /proc/mounts && : >/tmp/probe'
	exit $fail
fi

. "$(dirname "$0")/vmtest.sh"

vm_tap --module cuse -- "$0" --in-vm

# The runner's own command line, no VM needed.
"$vm_sh" --help >"$vm_tmp/help" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^Usage: vm.sh' "$vm_tmp/help" && r=ok || r=bad
tap_result $r "vm.sh --help: usage, status 0"
"$vm_sh" --bogus >/dev/null 2>"$vm_tmp/bogus"
rc=$?
[ $rc -eq 2 ] && grep -q 'unknown option --bogus' "$vm_tmp/bogus" && r=ok || r=bad
tap_result $r "vm.sh --bogus: an error, status 2"
"$vm_sh" --timeout 0 -- "$0" >/dev/null 2>"$vm_tmp/zero"
rc=$?
[ $rc -eq 2 ] && grep -q 'timeout' "$vm_tmp/zero" && r=ok || r=bad
tap_result $r "vm.sh --timeout 0: an error, status 2"
tap_finish
