#!/bin/sh
# Every public header compiles on its own as strict C11 and as C++ (TAP).
cc=${CC:-cc}
cxx=${CXX:-c++}
src=$1
n=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in "$src"/include/iommusim/*.h; do
	name=iommusim/$(basename "$h")
	printf '#include <%s>\nint main(void) { return 0; }\n' "$name" >"$tmp/t.c"
	n=$((n + 1))
	if $cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$src/include" -c "$tmp/t.c" \
		-o "$tmp/t.o" 2>"$tmp/err"; then
		echo "ok $n - $name compiles alone under -std=c11 -pedantic"
	else
		fail=1
		echo "not ok $n - $name compiles alone under -std=c11 -pedantic"
		sed 's/^/# /' "$tmp/err"
	fi
	if command -v "$cxx" >/dev/null 2>&1; then
		cp "$tmp/t.c" "$tmp/t.cc"
		n=$((n + 1))
		if $cxx -std=c++17 -Wall -Werror -I"$src/include" -c "$tmp/t.cc" \
			-o "$tmp/t.o" 2>"$tmp/err"; then
			echo "ok $n - $name compiles alone as C++"
		else
			fail=1
			echo "not ok $n - $name compiles alone as C++"
			sed 's/^/# /' "$tmp/err"
		fi
	fi
done
echo "1..$n"
exit $fail
