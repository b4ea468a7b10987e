#!/bin/sh
# Command-line tests of `iommusim walk` (TAP).  The expected values come from
# the scenarios' own set-up (guest-physical 0-4 MiB is host 0x40000000 + GPA;
# the guest maps 0x7f0000000000 -> GPA 0x100000) and from the VT-d spec's
# fault reasons, not from earlier output.
exe=$1
src=$2
data=$src/tests/tools/data
n=0
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; sed 's/^/# /' "$out" | head -40; }
check() { # description, then a command whose status decides
	desc=$1; shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}

"$exe" walk --no-caches "$src/scenarios/vtd-nested.json" >"$out" 2>&1
check "bundled nested scenario runs without caches" test $? -eq 0
# Transaction 1: 4 config reads + 24 page-table reads (4x4 nested walk).
check "uncached nested walk makes 24 page-table reads" \
	grep -q "28 reads: 4 configuration, 24 page-table" "$out"

"$exe" walk "$src/scenarios/vtd-nested.json" >"$out" 2>&1
check "bundled nested scenario runs" test $? -eq 0
# Transaction 2 repeats transaction 1's page: context, PASID and IOTLB hits,
# each costing the model's 2-cycle lookup, and no memory read.
check "second access to the page is an IOTLB hit with no read" \
	grep -q "0 reads: 0 configuration, 0 page-table; IOTLB hit; 6 cycles" "$out"
check "cache lookups are listed with hit or miss" grep -q "IOTLB lookup .* miss" "$out"
check "nested walk lands on HPA 0x40100123" \
	grep -q "result: physical 0x0000000040100123, 4 KiB page (GPA 0x100123" "$out"
check "write to read-only page: SM reason 0x85" grep -q "fault: reason 0x85" "$out"
check "unmapped GPA: stage-2 reason 0x79" grep -q "fault: reason 0x79" "$out"
check "user request to supervisor page: 0x81" grep -q "fault: reason 0x81" "$out"
check "stage-1 root outside stage 2: 0x75" grep -q "fault: reason 0x75" "$out"
check "PASID entry not present: 0x59" grep -q "fault: reason 0x59" "$out"
check "request without PASID goes second stage only" \
	grep -q "result: physical 0x0000000040100040" "$out"

"$exe" walk "$src/scenarios/vtd-nested.json" --rid 00:02.0 --pasid 5 \
	--addr 0x7f000000f008 --access w -q >"$out" 2>&1
check "command-line request" grep -q "0x7f000000f008 -> 0x4010f008" "$out"

"$exe" --help >"$out" 2>&1
check "--help" grep -q "walk SCENARIO.json" "$out"
"$exe" walk --help >"$out" 2>&1
check "walk --help documents the scenario format" grep -q '"transactions"' "$out"

# Bad input: non-zero exit and a message naming file, field and expectation.
bad() { # file, expected message fragment[, file the message must name]
	"$exe" walk "$data/$1" >"$out" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -qF -- "$2" "$out" && grep -qF "${3:-$1}" "$out"; then
		ok "bad input $1 rejected naming the field"
	else
		notok "bad input $1 rejected naming the field (status $st)"
	fi
}
bad bad-size.json 'steps[0].map.size: expected a size'
bad bad-field.json 'transactions[0].colour: unknown field'
bad bad-struct-field.json 'steps[0].fields.PGTTX: not a field of vtd.pasid_entry'
bad bad-model.json 'field "vtd.cap.SAGAW" must be an integer from 0 to 31' bad-model-model.json
bad bad-json.json 'bad-json.json:3'
bad bad-register.json 'registers.RTADDRX: not a register'
bad bad-txn-cross.json 'crosses a 4 KiB boundary'

echo "1..$n"
exit $fail
