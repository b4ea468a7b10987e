#!/bin/sh
# Command-line tests of gen, convert, replay and study (TAP).  Expected
# facts come from the trace format's definition (lossless conversion),
# determinism (same trace, model, driver and seed -> identical output) and
# the documented messages, not from earlier output.
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
n=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; sed 's/^/# /' "$tmp/out" | head -30; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else notok "$desc"; fi; }

"$exe" gen nic-rx -a vtd -p '{"duration_us": 500}' -o "$tmp/a.jsonl" >"$tmp/out" 2>&1
check "gen writes JSON Lines" test $? -eq 0
check "the first line is the header" \
	grep -q '^{"iommusim-trace": 1, "arch": "vtd"' "$tmp/a.jsonl"
"$exe" convert "$tmp/a.jsonl" "$tmp/a.bin" >"$tmp/out" 2>&1 &&
	"$exe" convert "$tmp/a.bin" "$tmp/b.jsonl" >>"$tmp/out" 2>&1
check "JSON Lines -> binary -> JSON Lines is lossless" cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl"
check "binary is smaller than JSON Lines" \
	test "$(wc -c <"$tmp/a.bin")" -lt "$(wc -c <"$tmp/a.jsonl")"

"$exe" replay "$tmp/a.jsonl" --no-progress >"$tmp/r1" 2>"$tmp/out"
check "replay of JSON Lines" test $? -eq 0
"$exe" replay "$tmp/a.bin" --no-progress >"$tmp/r2" 2>>"$tmp/out"
sed 's|a.bin|a.jsonl|' "$tmp/r2" >"$tmp/r2s"
check "both encodings replay to identical statistics" cmp -s "$tmp/r1" "$tmp/r2s"
"$exe" replay "$tmp/a.bin" --no-progress -f json -s 7 >"$tmp/j1" 2>>"$tmp/out"
"$exe" replay "$tmp/a.bin" --no-progress -f json -s 7 >"$tmp/j2" 2>>"$tmp/out"
check "replay is deterministic (byte-identical JSON)" cmp -s "$tmp/j1" "$tmp/j2"
check "JSON statistics parse" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/j1"
"$exe" replay "$tmp/a.bin" --no-progress -f csv -d fq >"$tmp/c1" 2>>"$tmp/out"
check "CSV has a header and one row" test "$(wc -l <"$tmp/c1")" -eq 2
check "the strict replay issued invalidations" grep -q "invalidation commands [1-9]" "$tmp/r1"
check "no DMA faulted under strict" grep -q "faults 0" "$tmp/r1"

# Bad input: line and field named, non-zero exit.
{ head -2 "$tmp/a.jsonl"; echo '{"t": 5, "ev": "map", "domain": 1, "iova": "nope", "size": 4096, "pa": "0x1000", "perm": "rw"}'; } >"$tmp/bad.jsonl"
"$exe" replay "$tmp/bad.jsonl" --no-progress >"$tmp/out" 2>&1
st=$?
check "a bad trace line is refused" test $st -eq 1
check "the message names the line and the field" grep -q 'bad.jsonl:3: field "iova"' "$tmp/out"
"$exe" replay "$tmp/a.bin" -d nosuchdriver --no-progress >"$tmp/out" 2>&1
check "an unknown driver model is refused" grep -q 'neither a built-in model' "$tmp/out"

# A small study: every output, plots included.
cat >"$tmp/study.json" <<EOS
{ "name": "tiny", "model": "$src/models/vtd-default.json", "seed": 3,
  "workload": { "name": "nic-rx", "params": { "duration_us": 200 } },
  "drivers": [ "strict", "fq" ], "iotlb_entries": [ 16, 64 ],
  "unmap_sweep": { "workload": "inv-micro", "params": { "iterations": 2 },
                   "pages": [ 1, 64 ],
                   "drivers": [ "strict", { "driver": "strict", "label": "SMMUv3.1",
                                "model": "$src/models/smmuv3-v3.1-no-ril.json" } ] } }
EOS
"$exe" study "$tmp/study.json" -o "$tmp/st" >"$tmp/out" 2>&1
check "study runs" test $? -eq 0
check "study says where the report is" grep -q "Report: $tmp/st/report.md" "$tmp/out"
for f in report.md results.csv cycles_per_dma.png iotlb_miss_rate.png inv_cost.png \
	over_invalidation.png; do
	check "study wrote $f" test -s "$tmp/st/$f"
done
check "results.csv has a row per run (2x2 + 2x2) and a header" \
	test "$(wc -l <"$tmp/st/results.csv")" -eq 9
echo '{ "name": "bad", "model": "x.json", "colour": 1 }' >"$tmp/bad-study.json"
"$exe" study "$tmp/bad-study.json" -o "$tmp/st2" >"$tmp/out" 2>&1
check "a bad study field is named" grep -q 'field "colour": unknown field' "$tmp/out"

for c in replay study gen convert import; do
	"$exe" $c --help >"$tmp/out" 2>&1
	check "$c --help exits 0" test $? -eq 0
	check "$c --help" grep -q "Usage: iommusim $c" "$tmp/out"
done

echo "1..$n"
exit $fail
