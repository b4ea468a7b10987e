#!/usr/bin/env bash
# vm.sh - run a test script inside a small QEMU virtual machine.
#
# Some things cannot be tested on the build machine itself: its kernel may
# lack CUSE and be unable to load modules.  This runner boots Debian's own
# 6.12 kernel under QEMU (TCG, no KVM needed) with an initramfs made on the
# spot from busybox, the given binaries, their shared libraries and the
# kernel modules asked for, runs one script inside, and returns that
# script's exit status.  Run `vm.sh --help` for the options.
#
# Exit status: the script's own; 1 when the VM did not boot, did not report
# the script's status or ran out of time; 2 for bad usage; 77 when the VM
# cannot be set up at all for a reason outside the project (no package
# registry reachable, not root and packages missing, QEMU refuses to start).
set -u

prog=${0##*/}

usage() {
	cat <<EOF
Usage: $prog [OPTION]... -- SCRIPT [ARG]...

Boot Debian's 6.12 kernel under qemu-system-x86_64 (TCG) with a generated
initramfs, run SCRIPT (a busybox sh script) inside with ARGs, print what it
wrote to stdout and stderr, and exit with its exit status.

Inside the VM: busybox and its applets, each --binary at its own absolute
path together with every shared library ldd lists for it, each --file, the
modules asked for (already loaded), /proc, /sys, devtmpfs on /dev, a tmpfs
on /tmp (the working directory).  Paths of binaries are the same as on the
host, so host paths can be passed to SCRIPT as ARGs.

Options:
  --binary PATH       put PATH and its shared libraries in the VM (repeatable)
  --file SRC[:DEST]   put the file or directory SRC in the VM at DEST
                      (default: the same absolute path) (repeatable)
  --module NAME       load kernel module NAME and what it depends on before
                      SCRIPT runs; a module built into the kernel needs no
                      loading (repeatable; default: cuse)
  --no-modules        load no module
  --env NAME[=VALUE]  set NAME for SCRIPT; without a value, pass the host's
                      value of NAME if it is set (repeatable)
  --memory MIB        guest memory (default: $mem_mib)
  --timeout SECONDS   stop the VM and fail after this long (default: $timeout)
  --append ARGS       more kernel command-line arguments
  --cache DIR         where the kernel is kept (default: \$IOMMUSIM_VM_CACHE,
                      else /var/cache/iommusim-vm when writable, else
                      \${XDG_CACHE_HOME:-~/.cache}/iommusim-vm)
  --update-kernel     ask the package registry for a newer kernel even when
                      one is cached
  --prepare           install the packages and fetch the kernel, then exit
  --log FILE          also save the VM's serial console to FILE
  --keep              keep the working directory (initramfs, logs) and say
                      where it is
  --verbose           print the console log and timings on stderr
  -h, --help          show this help and exit

Exit status: SCRIPT's; 1 if the VM did not boot, did not report SCRIPT's
status or timed out; 2 for bad usage; 77 if the VM cannot be set up here
(packages or kernel cannot be had, QEMU cannot start).
EOF
}

# ------------------------------------------------------------------------
# Options.

mem_mib=1024
timeout=240
binaries=()
files=()
modules=()
modules_given=0
envs=()
append=""
cache=""
update_kernel=0
prepare_only=0
log_copy=""
keep=0
verbose=0

die_usage() {
	echo "$prog: $*" >&2
	echo "Try '$prog --help'." >&2
	exit 2
}

need_arg() { # option, number of arguments left
	[ "$2" -ge 2 ] || die_usage "option $1 needs an argument"
}

while [ $# -gt 0 ]; do
	case $1 in
	--binary) need_arg "$1" $#; binaries+=("$2"); shift 2 ;;
	--file) need_arg "$1" $#; files+=("$2"); shift 2 ;;
	--module) need_arg "$1" $#; modules+=("$2"); modules_given=1; shift 2 ;;
	--no-modules) modules=(); modules_given=1; shift ;;
	--env) need_arg "$1" $#; envs+=("$2"); shift 2 ;;
	--memory) need_arg "$1" $#; mem_mib=$2; shift 2 ;;
	--timeout) need_arg "$1" $#; timeout=$2; shift 2 ;;
	--append) need_arg "$1" $#; append="$append $2"; shift 2 ;;
	--cache) need_arg "$1" $#; cache=$2; shift 2 ;;
	--update-kernel) update_kernel=1; shift ;;
	--prepare) prepare_only=1; shift ;;
	--log) need_arg "$1" $#; log_copy=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--verbose) verbose=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die_usage "unknown option $1" ;;
	*) break ;;
	esac
done

case $mem_mib in '' | *[!0-9]*) die_usage "--memory wants a number of MiB, not '$mem_mib'" ;; esac
case $timeout in '' | *[!0-9]* | 0) die_usage "--timeout wants a positive number of seconds, not '$timeout'" ;; esac
[ "$mem_mib" -ge 128 ] || die_usage "--memory $mem_mib is too small (at least 128)"
[ $modules_given -eq 1 ] || modules=(cuse)

script=""
if [ $prepare_only -eq 0 ]; then
	[ $# -ge 1 ] || die_usage "no SCRIPT to run"
	script=$1
	shift
	[ -f "$script" ] || die_usage "SCRIPT '$script' is not a file"
fi
script_args=("$@")

for b in "${binaries[@]}"; do
	[ -f "$b" ] || die_usage "--binary '$b' is not a file"
done
for f in "${files[@]}"; do
	[ -e "${f%%:*}" ] || die_usage "--file '${f%%:*}' does not exist"
done
for e in "${envs[@]}"; do
	case ${e%%=*} in
	'' | [0-9]* | *[!A-Za-z0-9_]*) die_usage "--env '$e': not a variable name" ;;
	esac
done

say() { echo "$prog: $*" >&2; }
# unavailable REASON: the VM cannot be had here; not the project's fault.
unavailable() {
	say "cannot set up the VM: $*"
	exit 77
}

t_start=$(date +%s.%N)
elapsed() { # seconds since start, one decimal
	awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# ------------------------------------------------------------------------
# The cache: one kernel shared by every build directory (werror, asan,
# coverage), every checkout (CI works in a fresh clone) and every run.  It
# does not depend on anything the project builds, so a build directory is
# the wrong home for it.

if [ -z "$cache" ]; then
	if [ -n "${IOMMUSIM_VM_CACHE:-}" ]; then
		cache=$IOMMUSIM_VM_CACHE
	elif mkdir -p /var/cache/iommusim-vm 2>/dev/null && [ -w /var/cache/iommusim-vm ]; then
		cache=/var/cache/iommusim-vm
	else
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/iommusim-vm
	fi
fi
mkdir -p "$cache" 2>/dev/null || unavailable "cannot create the cache directory $cache"

# Two VM tests may start at once (meson runs tests in parallel): one
# prepares the cache, the other waits for it.
exec 9>"$cache/lock" || unavailable "cannot write $cache/lock"
flock -w 900 9 || unavailable "another run has held $cache/lock for 15 minutes"

# ------------------------------------------------------------------------
# Packages, from Debian.

# command -> package that provides it
need_packages=()
want() { # command package
	command -v "$1" >/dev/null 2>&1 || need_packages+=("$2")
}
want qemu-system-x86_64 qemu-system-x86
want cpio cpio
want xz xz-utils
want gzip gzip
want zstd zstd # modules of kernels built with zstd compression
want depmod kmod
want timeout coreutils
[ -x /bin/busybox ] || need_packages+=(busybox-static)

apt_updated=0
apt_update() {
	[ $apt_updated -eq 0 ] || return 0
	apt_updated=1
	say "apt-get update"
	$sudo apt-get update -qq >"$cache/apt.log" 2>&1
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && sudo="sudo -n"
fi
can_apt() {
	command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }
}

if [ ${#need_packages[@]} -gt 0 ]; then
	can_apt || unavailable "missing packages ${need_packages[*]} and no apt-get as root to install them"
	say "installing ${need_packages[*]}"
	apt_install() {
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			--no-install-recommends -o DPkg::Lock::Timeout=300 \
			"${need_packages[@]}" >>"$cache/apt.log" 2>&1
	}
	if ! apt_install; then
		apt_update
		apt_install || unavailable "apt-get install ${need_packages[*]} failed (see $cache/apt.log)"
	fi
	missing=${need_packages[*]}
	need_packages=()
	want qemu-system-x86_64 qemu-system-x86
	want cpio cpio
	want xz xz-utils
	want depmod kmod
	[ ${#need_packages[@]} -eq 0 ] ||
		unavailable "installed $missing, yet the commands of ${need_packages[*]} are not on PATH"
fi

# ------------------------------------------------------------------------
# The kernel: Debian's linux-image-6.12.*-amd64-unsigned, unpacked with
# dpkg-deb (no maintainer scripts run, /boot untouched) into
# $cache/kernel/RELEASE, with a modules.dep made by depmod.  Debian builds
# FUSE into the kernel and CUSE as a module.

newest_cached_kernel() {
	local d best=""
	for d in "$cache"/kernel/*/complete; do
		[ -e "$d" ] || continue
		d=${d%/complete}
		best=$(printf '%s\n%s\n' "$best" "${d##*/}" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$best"
}

newest_package() {
	apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' |
		sort -V | tail -n 1
}

fetch_kernel() { # package name
	local pkg=$1 rel dir tmp
	rel=${pkg#linux-image-}
	rel=${rel%-unsigned}
	dir=$cache/kernel/$rel
	[ -e "$dir/complete" ] && return 0
	tmp=$(mktemp -d "$cache/fetch.XXXXXX") || return 1
	say "fetching $pkg"
	# apt-get download runs as the _apt user where it can: let it write.
	chmod 0777 "$tmp"
	if ! (cd "$tmp" && apt-get download -q "$pkg") >>"$cache/apt.log" 2>&1; then
		rm -rf "$tmp"
		return 1
	fi
	mkdir "$tmp/root" && dpkg-deb -x "$tmp"/*.deb "$tmp/root" &&
		depmod -b "$tmp/root" "$rel" &&
		[ -f "$tmp/root/boot/vmlinuz-$rel" ] || {
		say "unpacking $pkg failed"
		rm -rf "$tmp"
		return 2
	}
	rm -f "$tmp"/*.deb
	rm -rf "$dir"
	mkdir -p "$cache/kernel"
	mv "$tmp/root" "$dir" && rmdir "$tmp" && touch "$dir/complete"
}

kernel_rel=$(newest_cached_kernel)
if [ -z "$kernel_rel" ] || [ $update_kernel -eq 1 ]; then
	command -v apt-get >/dev/null 2>&1 || unavailable "no kernel in $cache and no apt-get to fetch one"
	pkg=$(newest_package)
	if [ -z "$pkg" ] || [ $update_kernel -eq 1 ]; then
		can_apt && apt_update
		pkg=$(newest_package)
	fi
	if [ -n "$pkg" ]; then
		fetch_kernel "$pkg"
		case $? in
		0) ;;
		2) exit 1 ;; # a package we cannot unpack: look into it, do not skip
		*) [ -n "$kernel_rel" ] || unavailable "apt-get download $pkg failed (see $cache/apt.log)" ;;
		esac
	elif [ -z "$kernel_rel" ]; then
		unavailable "the package registry offers no linux-image-6.12.*-amd64-unsigned (see $cache/apt.log)"
	fi
	kernel_rel=$(newest_cached_kernel)
fi
kdir=$cache/kernel/$kernel_rel
vmlinuz=$kdir/boot/vmlinuz-$kernel_rel
moddir=$kdir/lib/modules/$kernel_rel

# The cache is ready; let the next run in.
flock -u 9

if [ $prepare_only -eq 1 ]; then
	say "ready: kernel $kernel_rel in $kdir, qemu $(command -v qemu-system-x86_64)"
	exit 0
fi

# ------------------------------------------------------------------------
# The initramfs.

work=$(mktemp -d "${TMPDIR:-/tmp}/iommusim-vm.XXXXXX") || unavailable "cannot create a temporary directory"
qemu_pid=""
cleanup() {
	# timeout passes the signal on to QEMU.
	[ -n "$qemu_pid" ] && kill -TERM "$qemu_pid" 2>/dev/null
	if [ $keep -eq 1 ]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,vm,lib/modules}

fail() {
	say "$*"
	exit 1
}

# put SRC [DEST]: copy SRC (following links) to DEST inside the image.
put() {
	local src=$1 dest=${2:-$1}
	mkdir -p "$root$(dirname "$dest")" &&
		cp -RL "$src" "$root$dest" || fail "cannot copy $src into the image"
}

# put_binary PATH: PATH at its own absolute path, and every shared library
# ldd lists for it (the dynamic loader included) at the path ldd found it
# at, so RUNPATHs into the build directory keep working unchanged.
declare -A have_lib=()
put_binary() {
	local bin out line lib
	bin=$(readlink -f "$1")
	put "$bin" "$(cd "$(dirname "$1")" && pwd)/${1##*/}"
	out=$(LC_ALL=C ldd "$bin" 2>&1)
	case $out in *"not a dynamic executable"* | *"statically linked"*) return 0 ;; esac
	case $out in *"not found"*) fail "$1 needs a library that is not here: $out" ;; esac
	while read -r line; do
		case $line in
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;
		*) continue ;;
		esac
		[ -n "${have_lib[$lib]:-}" ] && continue
		have_lib[$lib]=1
		put "$lib"
	done <<<"$out"
}

# Busybox first: its applets are links to it, made unless something more
# specific (a --binary, a --file) takes the name.
put_binary /bin/busybox
for b in "${binaries[@]}"; do
	put_binary "$b"
done
# glibc loads libgcc_s with dlopen (for pthread_cancel and unwinding),
# so ldd never lists it; threaded servers need it.
gcc_s=$(ldconfig -p 2>/dev/null | awk '/libgcc_s\.so\.1 .*x86-64/ { print $NF; exit }')
[ -n "$gcc_s" ] && [ -z "${have_lib[$gcc_s]:-}" ] && [ ${#binaries[@]} -gt 0 ] && put "$gcc_s"
for f in "${files[@]}"; do
	src=${f%%:*}
	if [ "$src" = "$f" ]; then
		dest=$(readlink -f "$src")
	else
		dest=${f#*:}
	fi
	case $dest in /*) ;; *) fail "--file $f: DEST must be an absolute path" ;; esac
	put "$src" "$dest"
done
# busybox makes its own links in a chroot (one process, where a loop of
# ln takes seconds); without the right to chroot, the loop.
if ! chroot "$root" /bin/busybox --install -s 2>/dev/null; then
	while read -r applet; do
		[ -e "$root/$applet" ] || [ -L "$root/$applet" ] && continue
		mkdir -p "$root/$(dirname "$applet")"
		ln -s /bin/busybox "$root/$applet"
	done < <("$root/bin/busybox" --list-full)
fi

# Modules: each asked-for module after its dependencies (modules.dep lists
# them so that the last must be loaded first), decompressed here because
# busybox insmod reads plain ELF.  A built-in module needs nothing.
declare -A mod_done=()
mod_order=()
mod_path() { # NAME -> the module's path relative to $moddir, or nothing
	local name=${1//-/_}
	awk -F: -v n="$name" '{
		b = $1; sub(/.*\//, "", b); sub(/\.ko(\.(xz|gz|zst))?$/, "", b)
		gsub(/-/, "_", b)
		if (b == n) { print $1; exit }
	}' "$moddir/modules.dep"
}
mod_builtin() { # NAME: true if built into the kernel
	local name=${1//-/_}
	sed 's|.*/||; s|\.ko$||; s|-|_|g' "$moddir/modules.builtin" | grep -qx "$name"
}
add_module_path() { # relative path of a module in modules.dep
	local rel=$1 line deps i
	[ -n "${mod_done[$rel]:-}" ] && return 0
	mod_done[$rel]=1
	line=$(grep -m1 "^$rel:" "$moddir/modules.dep")
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		add_module_path "${deps[i]}"
	done
	mod_order+=("$rel")
}
for m in "${modules[@]}"; do
	rel=$(mod_path "$m")
	if [ -n "$rel" ]; then
		add_module_path "$rel"
	elif mod_builtin "$m"; then
		: # already in the kernel
	else
		fail "kernel $kernel_rel has no module '$m'"
	fi
done
: >"$root/vm/modules"
for rel in "${mod_order[@]}"; do
	ko=/lib/modules/$kernel_rel/${rel%.xz}
	ko=${ko%.gz}
	ko=${ko%.zst}
	mkdir -p "$root$(dirname "$ko")"
	case $rel in
	*.xz) xz -dc "$moddir/$rel" >"$root$ko" ;;
	*.gz) gzip -dc "$moddir/$rel" >"$root$ko" ;;
	*.zst) zstd -qdc "$moddir/$rel" >"$root$ko" ;;
	*) cp "$moddir/$rel" "$root$ko" ;;
	esac || fail "cannot decompress module $rel"
	echo "$ko" >>"$root/vm/modules"
done

# The script, its arguments and its environment, as sh source.
shq() { # quote for sh: 'it'\''s'
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
cp "$script" "$root/vm/script" && chmod 0755 "$root/vm/script" || fail "cannot copy $script"
{
	printf 'set --'
	for a in "${script_args[@]}"; do
		printf ' %s' "$(shq "$a")"
	done
	printf '\n'
} >"$root/vm/args"
{
	for e in "${envs[@]}"; do
		name=${e%%=*}
		if [ "$name" = "$e" ]; then
			[ -n "${!name+set}" ] || continue
			value=${!name}
		else
			value=${e#*=}
		fi
		printf 'export %s=%s\n' "$name" "$(shq "$value")"
	done
} >"$root/vm/env"

# /init: mount the usual file systems, load the modules, run the script
# with its stdout on the second serial port and its stderr on the third
# (the first is the kernel's console), report its status, power off.
# Closing a serial port waits until its output is sent, so nothing the
# script wrote is lost when the machine powers off.
cat >"$root/init" <<'EOF'
#!/bin/sh
# /init of an iommusim test VM (generated by tests/vm/vm.sh).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=/tmp
TERM=dumb
export PATH HOME TERM
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# A tmpfs on /tmp that still holds what the image put there (binaries of
# a build directory under /tmp keep their paths).
mkdir -p /vm/tmp
mount -t tmpfs tmpfs /vm/tmp
cp -a /tmp/. /vm/tmp/
mount --move /vm/tmp /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
exec </dev/null >/dev/console 2>&1
say() { echo "iommusim-vm: $*"; }
say "kernel $(uname -r) up $(cut -d' ' -f1 /proc/uptime) s"
for ko in $(cat /vm/modules); do
	if insmod "$ko"; then
		say "loaded $ko"
	else
		say "insmod $ko failed"
	fi
done
for port in /dev/ttyS1 /dev/ttyS2; do
	stty -F "$port" 115200 -opost || say "cannot set up $port"
done
. /vm/env
. /vm/args
cd /tmp
echo "IOMMUSIM-VM-START"
/vm/script "$@" >/dev/ttyS1 2>/dev/ttyS2
status=$?
echo "IOMMUSIM-VM-EXIT: $status"
say "done at $(cut -d' ' -f1 /proc/uptime) s"
poweroff -f
EOF
chmod 0755 "$root/init"

initrd=$work/initrd.gz
(cd "$root" && find . -print | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
	>"$initrd" || fail "cannot build the initramfs"
t_initrd=$(elapsed)

# ------------------------------------------------------------------------
# Boot.  Serial ports go to files rather than the terminal: no tty state
# to restore, nothing read from stdin (CI has none), output kept apart.

console=$work/console.log
out=$work/stdout.log
err=$work/stderr.log
qemu=(qemu-system-x86_64
	-accel tcg -cpu max -smp 1 -m "$mem_mib"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$vmlinuz" -initrd "$initrd"
	-append "console=ttyS0,115200 panic=-1 quiet$append"
	-serial "file:$console" -serial "file:$out" -serial "file:$err")
[ $verbose -eq 1 ] && say "${qemu[*]}"

# --foreground keeps QEMU in our process group, so that whoever kills the
# group (meson on its own timeout) kills QEMU too.
timeout --foreground -k 5 "$timeout" "${qemu[@]}" </dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
wait "$qemu_pid"
qemu_status=$?
qemu_pid=""
t_end=$(elapsed)

touch "$console" "$out" "$err" # QEMU may not have got as far as making them
[ -n "$log_copy" ] && cp "$console" "$log_copy"
[ $verbose -eq 1 ] && { tr -d '\r' <"$console" >&2; }

# What the script wrote, its stdout to ours and its stderr to ours.
tr -d '\r' <"$out"
tr -d '\r' <"$err" >&2

show_console() {
	say "last lines of the VM's console:"
	tr -d '\r' <"$console" | tail -n 40 | sed 's/^/  | /' >&2
	[ -s "$work/qemu.log" ] && sed 's/^/  qemu: /' "$work/qemu.log" >&2
}

status=$(tr -d '\r' <"$console" | sed -n 's/^IOMMUSIM-VM-EXIT: \([0-9]*\)$/\1/p' | tail -n 1)
boot=$(tr -d '\r' <"$console" | sed -n 's/^iommusim-vm: kernel .* up \([0-9.]*\) s$/\1/p')
[ $verbose -eq 1 ] && say "initramfs ready at ${t_initrd} s, VM ended at ${t_end} s (guest booted in ${boot:-?} s)"

if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
	show_console
	fail "timed out after $timeout s; the VM was stopped"
fi
if [ -z "$status" ]; then
	if [ "$qemu_status" -ne 0 ] && [ ! -s "$console" ]; then
		[ -s "$work/qemu.log" ] && sed 's/^/  qemu: /' "$work/qemu.log" >&2
		unavailable "QEMU could not start (status $qemu_status)"
	fi
	show_console
	fail "the VM did not report the script's exit status (boot failure or kernel panic)"
fi
exit "$status"
