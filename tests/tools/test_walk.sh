#!/bin/sh
# Command-line tests of `iommusim walk` (TAP).  The expected values come from
# the scenarios' own set-up (guest-physical 0-4 MiB is host 0x40000000 + GPA;
# the guest maps 0x7f0000000000 -> GPA 0x100000) and from the VT-d spec's
# fault reasons and the SMMUv3 spec's event types, not from earlier output.
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

# Arm SMMUv3.  Expected values from scenarios/smmuv3-nested.json's own set-up
# (IPA 0-4 MiB is PA 0x40000000 + IPA; the guest maps 0x7f0000000000 to IPA
# 0x100000) and from IHI 0070 7.3's event types and record fields.
"$exe" walk "$src/scenarios/smmuv3-nested.json" >"$out" 2>&1
check "bundled SMMUv3 nested scenario runs" test $? -eq 0
# Transaction 2 repeats transaction 1's page: STE (4 cycles), CD (4) and
# IOTLB (3) hits in the default model, no memory read.
check "SMMUv3 second access: STE, CD and IOTLB hits, 11 cycles" \
	grep -q "0 reads: 0 configuration, 0 page-table; IOTLB hit; 11 cycles" "$out"
"$exe" walk --no-caches "$src/scenarios/smmuv3-nested.json" >"$out" 2>&1
# Transaction 1: L1STD + STE + CD (3 config) and 4 S2 reads for the CD's IPA
# + 4 x (4 + 1) for stage 1 + 4 for the final IPA (28 page-table reads).
check "SMMUv3 2-D walk: 3 configuration and 28 page-table reads" \
	grep -q "31 reads: 3 configuration, 28 page-table" "$out"
check "SMMUv3 nested walk lands on PA 0x40100123" \
	grep -q "result: physical 0x0000000040100123, 4 KiB page (IPA 0x100123" "$out"
check "SMMUv3 tags: VMID 5, ASID 3" grep -q "mode nested, VMID 5, ASID 3" "$out"
check "write to a read-only page: F_PERMISSION (0x13)" grep -q "fault: event 0x13: F_PERMISSION" "$out"
check "AF = 0 without HA: F_ACCESS (0x12)" grep -q "fault: event 0x12: F_ACCESS" "$out"
check "final IPA outside stage 2: S2=1 CLASS=IN IPA=0x800000" \
	grep -q "S2=1 CLASS=IN IPA=0x800000" "$out"
check "stage-1 root outside stage 2: S2=1 CLASS=TTD IPA=0x900000" \
	grep -q "S2=1 CLASS=TTD IPA=0x900000" "$out"
check "CD outside stage 2: S2=1 CLASS=CD IPA=0x800000" \
	grep -q "S2=1 CLASS=CD IPA=0x800000" "$out"
check "SSID beyond S1CDMax: C_BAD_SUBSTREAMID (0x08)" \
	grep -q "fault: event 0x08: C_BAD_SUBSTREAMID" "$out"
check "StreamID out of range: C_BAD_STREAMID (0x02), twice" \
	test "$(grep -c 'fault: event 0x02: C_BAD_STREAMID' "$out")" -eq 2
check "events are written to the event queue" grep -q "written to the event queue" "$out"
"$exe" walk "$src/scenarios/smmuv3-nested.json" --sid 0x10 \
	--addr 0x7f000000f008 --access w -q >"$out" 2>&1
check "SMMUv3 command-line request (--sid)" grep -q "0x7f000000f008 -> 0x4010f008" "$out"
"$exe" walk "$src/scenarios/smmuv3-nested.json" --sid 0x10 --ssid 1 \
	--addr 0x7f0000000000 -q >"$out" 2>&1
check "SMMUv3 command-line request (--ssid)" grep -q "fault 0x10 F_TRANSLATION" "$out"

"$exe" --help >"$out" 2>&1
check "--help" grep -q "walk SCENARIO.json" "$out"
"$exe" walk --help >"$out" 2>&1
check "walk --help documents the scenario format" grep -q '"transactions"' "$out"
check "walk --help names the SMMUv3 registers and structures" \
	sh -c "grep -q STRTAB_BASE_CFG '$out' && grep -q smmu.ste '$out'"

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
bad smmu-bad-model.json '"smmuv3.idr1.SIDSIZE" is 40' smmu-bad-model-model.json
bad smmu-bad-register.json 'registers.STRTAB_BASE_CFG: value 0x20000 is not valid'
bad smmu-bad-struct-field.json 'steps[0].fields.S2TTBX: not a field of smmu.ste'
bad smmu-bad-ssid.json 'give "pasid" or "ssid", not both'

echo "1..$n"
exit $fail
