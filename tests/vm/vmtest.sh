# vmtest.sh - the host side of a TAP test that runs its checks in the VM.
# Sourced (POSIX sh) by tests/vm/test_*.sh.  Such a test is one file: run
# with --in-vm it is the VM's script and prints unnumbered TAP lines
# ("ok - what", "not ok - what", anything else is a comment); run on the
# host it calls vm_tap, which boots the VM through vm.sh, numbers those
# lines, and says what went wrong when the VM itself failed.
#
#   vm_tap VM_SH_ARGS... -- SCRIPT ARGS...   run and print the VM's results
#   tap_result ok|bad DESCRIPTION            one host-side result
#   tap_finish                               the plan, then exit 0 or 1
#
# When vm.sh cannot set up the VM here (status 77) the whole test is
# skipped: "1..0 # SKIP why", status 0, which is what meson takes as a
# skip from a TAP test.  So vm_tap must come before any tap_result.

vm_sh=$(dirname "$0")/vm.sh
tap_n=0
tap_fail=0
vm_tmp=$(mktemp -d)
trap 'rm -rf "$vm_tmp"' EXIT

tap_result() {
	tap_n=$((tap_n + 1))
	if [ "$1" = ok ]; then
		echo "ok $tap_n - $2"
	else
		tap_fail=1
		echo "not ok $tap_n - $2"
	fi
}

tap_finish() {
	echo "1..$tap_n"
	exit $tap_fail
}

vm_tap() {
	vm_start=$(date +%s)
	"$vm_sh" "$@" >"$vm_tmp/out" 2>"$vm_tmp/err"
	vm_rc=$?
	vm_took=$(($(date +%s) - vm_start))
	# vm.sh's own messages and the script's stderr, for meson's log.
	cat "$vm_tmp/err" >&2
	if [ $vm_rc -eq 77 ]; then
		echo "1..0 # SKIP $(sed -n 's/^vm.sh: cannot set up the VM: //p' "$vm_tmp/err" | tail -n 1)"
		exit 0
	fi
	vm_checks=0
	vm_failed=0
	while IFS= read -r line; do
		case $line in
		"ok - "*)
			vm_checks=$((vm_checks + 1))
			tap_result ok "${line#ok - }"
			;;
		"not ok - "*)
			vm_checks=$((vm_checks + 1))
			vm_failed=1
			tap_result bad "${line#not ok - }"
			;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$vm_tmp/out"
	if [ $vm_checks -eq 0 ]; then
		tap_result bad "the VM booted and ran the checks (vm.sh status $vm_rc)"
		sed -n 's/^vm.sh: /# /p' "$vm_tmp/err"
	elif [ $vm_rc -ne 0 ] && [ $vm_failed -eq 0 ]; then
		tap_result bad "the VM's checks ended with status 0 (vm.sh status $vm_rc)"
		sed -n 's/^vm.sh: /# /p' "$vm_tmp/err"
	fi
	echo "# the VM ran for $vm_took s, boot included"
}
