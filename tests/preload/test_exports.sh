#!/bin/sh
# libiommusim-preload.so defines, for other objects, exactly the C library
# names its version script lists: none of the core's (TAP).
#   test_exports.sh MODULE preload.map
module=$1
map=$2
nm=${NM:-nm}
if ! command -v "$nm" >/dev/null 2>&1; then
	echo "1..0 # SKIP no nm"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The names between "global:" and "local:".
sed -n '/global:/,/local:/p' "$map" | tr ' ;' '\n\n' |
	grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | sort -u >"$tmp/want"
"$nm" -D --defined-only "$module" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' |
	sort -u >"$tmp/have"
fail=0
if cmp -s "$tmp/want" "$tmp/have"; then
	echo "ok 1 - the module exports exactly the interposed names"
else
	fail=1
	echo "not ok 1 - the module exports exactly the interposed names"
	diff "$tmp/want" "$tmp/have" | sed 's/^/# /'
fi
if grep -q -e '^iofd_' -e '^ims_' -e '^vtd_' -e '^smmu_' -e '^iotlb_' "$tmp/have"; then
	fail=1
	echo "not ok 2 - no core symbol is exported"
else
	echo "ok 2 - no core symbol is exported"
fi
echo "1..2"
exit $fail
