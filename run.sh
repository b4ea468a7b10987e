#!/usr/bin/env bash
# run.sh - set up, build and run iommusim on a fresh Debian 12 machine.
#
#   ./run.sh          install packages, build, run the bundled invalidation
#                     study (iommusim study studies/invalidation-study.json)
#                     and say where its report is
#   ./run.sh walk     explain the bundled nested VT-d translation read by read
#                     (iommusim walk scenarios/vtd-nested.json)
#   ./run.sh test     install packages, build, run every test: a -Werror
#                     build, an ASan+UBSan build, and a coverage build that
#                     reports line coverage of engine/ and formats/
#   ./run.sh bench    install packages, build, run the benchmarks
#
# Packages come from Debian (apt-get); run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(meson ninja-build pkg-config gcc g++ libjansson-dev uthash-dev
	  libcmocka-dev libbenchmark-dev libglib2.0-dev libbsd-dev libfuse3-dev gcovr python3
	  gnuplot-nox)

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	echo "Installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

setup() { # dir, extra meson options...
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

# Count TAP subtests (or whole tests without TAP) from meson's test logs.
count() {
	python3 - "$@" <<'PY'
import json, re, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    for line in open(log):
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        skip = len(re.findall(r"^ok \d+.*# ?SKIP", out, re.M | re.I))
        if oks + bad:
            passed += oks - skip; failed += bad; skipped += skip
            if t["result"] not in ("OK", "EXPECTEDFAIL") and bad == 0:
                failed += 1
        elif t["result"] == "SKIP":
            skipped += 1
        elif t["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
PY
}

cmd=${1:-study}
install_packages
case "$cmd" in
study)
	setup build
	./build/tools/iommusim study studies/invalidation-study.json -o study-report
	echo "Open study-report/report.md (plots beside it) to read the study."
	;;
walk)
	setup build
	./build/tools/iommusim walk scenarios/vtd-nested.json
	;;
test)
	status=0
	setup build -Dwerror=true
	meson test -C build --print-errorlogs --no-rebuild >/dev/null || status=1
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
		-Dbenchmarks=disabled
	meson test -C build-asan --setup sanitize --print-errorlogs --no-rebuild >/dev/null ||
		status=1
	setup build-cov -Db_coverage=true -Db_lto=false -Dbenchmarks=disabled
	meson test -C build-cov --no-rebuild >/dev/null || status=1
	echo "Line coverage:"
	for d in engine formats/vtd formats/smmuv3 formats/mock iotlb traces iommufd vfio transport; do
		printf '  %-16s' "$d/"
		gcovr -r . --object-directory build-cov --filter "$d/" --print-summary \
			-o /dev/null 2>/dev/null | grep -E '^lines' || echo
	done
	for d in build build-asan; do
		grep -h '"result": "FAIL\|"result": "TIMEOUT\|"result": "ERROR' \
			"$d/meson-logs/testlog"*.json >/dev/null 2>&1 &&
			echo "Failures in $d: see $d/meson-logs/testlog*.txt"
	done
	count build/meson-logs/testlog.json build-asan/meson-logs/testlog-sanitize.json
	exit $status
	;;
bench)
	setup build
	meson test -C build --benchmark --verbose
	;;
*)
	echo "usage: ./run.sh [study|walk|test|bench]" >&2
	exit 2
	;;
esac
