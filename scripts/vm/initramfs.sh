#!/usr/bin/env bash
# initramfs.sh OUT KERNEL_TREE TESTS_DIR — build the cgroup v2 test VM's
# initramfs (cpio newc, gzip) in OUT.
#
# The VM has no network and only a blank scratch disk, so everything it
# runs is in here: busybox for the userland, the kernel modules the tests
# need, bin/container and the helpers beside it (llcr-init, cni/) with the
# shared libraries they link, the busybox container rootfs, the test
# binaries in TESTS_DIR (with the file "list" naming them) and, when the
# host has them, iptables/nft/ip with their libraries for networking tests.
#
# Env: LLCR_BIN      the runtime binary (default bin/container)
#      LLCR_ROOTFS   the container rootfs (default build/rootfs)
#      LLCR_CNI_DIR  CNI plugin binaries, copied when the directory exists
#                    (default: cni/ beside LLCR_BIN)
#      BUSYBOX       a statically linked busybox (default /bin/busybox)
#      VM_CONFIG     a file sourced by the VM's runner (timeouts, filters)
set -euo pipefail

die() { echo "vm initramfs: $*" >&2; exit 1; }

[[ $# -eq 3 ]] || die "usage: $0 OUT KERNEL_TREE TESTS_DIR"
out=$1 ktree=$2 tests=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${LLCR_BIN:-bin/container}
rootfs=${LLCR_ROOTFS:-build/rootfs}
cni=${LLCR_CNI_DIR:-$(dirname "$bin")/cni}
busybox=${BUSYBOX:-/bin/busybox}

[[ -x $bin ]] || die "$bin is missing (run: make build)"
[[ -x $rootfs/bin/busybox ]] || die "$rootfs is not a rootfs (run: make rootfs)"
[[ -x $busybox ]] || die "$busybox is missing (apt-get install busybox-static)"
[[ -f $tests/list ]] || die "$tests/list is missing"
command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"

moddir=$(ls -d "$ktree"/lib/modules/*/ 2>/dev/null | head -n1)
[[ -n $moddir ]] || die "$ktree has no lib/modules/VERSION"
moddir=${moddir%/}
kver=$(basename "$moddir")

stage=$out.d
rm -rf "$stage"
mkdir -p "$stage"
stage=$(cd "$stage" && pwd)

# A merged-/usr layout like the host's, so that library paths printed by
# the host's ldd are valid inside as they are.
mkdir -p "$stage"/usr/{bin,sbin,lib,lib64} "$stage"/{dev,proc,sys,run,tmp,mnt,root,etc/llcr-vm,llcr/bin}
for d in bin sbin lib lib64; do ln -s usr/$d "$stage/$d"; done
chmod 1777 "$stage/tmp"
chmod 0700 "$stage/root"

# copy_file SRC: copy SRC (symlinks followed) to the same path in the stage.
copy_file() {
	mkdir -p "$stage$(dirname "$1")"
	cp -L "$1" "$stage$1"
}

# copy_libs FILE: copy the shared libraries FILE links, as ldd resolves them.
copy_libs() {
	local lib
	# A static binary makes ldd fail: it needs nothing.
	for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[[ -e $stage$lib ]] || copy_file "$lib"
	done
}

# copy_tool NAME...: copy host commands and their libraries, each at the
# path the host has them, with NAME linked to its target when a symlink
# (iptables -> xtables-nft-multi, which dispatches on its name).
copy_tool() {
	local name path real
	for name in "$@"; do
		path=$(command -v "$name" 2>/dev/null) || continue
		real=$(readlink -f "$path")
		[[ -e $stage$real ]] || { copy_file "$real"; copy_libs "$real"; }
		if [[ $path != "$real" && ! -e $stage$path ]]; then
			mkdir -p "$stage$(dirname "$path")"
			ln -s "$real" "$stage$path"
		fi
	done
}

# --- userland -------------------------------------------------------------
if ldd "$busybox" 2>/dev/null | grep -q '=>'; then
	die "$busybox is dynamically linked; install busybox-static"
fi
cp "$busybox" "$stage/usr/bin/busybox"

# Host tools win over busybox applets of the same name: tests are written
# against them. iptables' extensions are dlopened, so ldd cannot find them.
copy_tool iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore \
	xtables-nft-multi nft ip bridge ss nsenter unshare
for xt in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/xtables; do
	[[ -d $xt ]] || continue
	mkdir -p "$stage$xt"
	cp -L "$xt"/*.so "$stage$xt/" 2>/dev/null || true
	for so in "$stage$xt"/*.so; do [[ -e $so ]] && copy_libs "${so#"$stage"}"; done
done
for f in /etc/protocols /etc/services /etc/ethertypes; do
	[[ -f $f ]] && copy_file "$f"
done

for applet in $("$stage/usr/bin/busybox" --list); do
	[[ -e $stage/usr/bin/$applet || -e $stage/usr/sbin/$applet ]] || ln -s busybox "$stage/usr/bin/$applet"
done

cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "127.0.0.1 localhost llcr-vm" >"$stage/etc/hosts"
echo "hosts: files" >"$stage/etc/nsswitch.conf"

# --- kernel modules -------------------------------------------------------
# The package ships no modules.dep (depmod runs at install time), so the
# dependencies come from each module's .modinfo: "depends=" and the "pre:"
# half of "softdep=", which busybox modprobe would not follow.
declare -A modpath=() loaded=() builtin=()
while IFS= read -r f; do
	n=$(basename "$f")
	n=${n%%.ko*}
	modpath[${n//-/_}]=${f#"$moddir"/}
done < <(find "$moddir/kernel" -name '*.ko*')
if [[ -f $moddir/modules.builtin ]]; then
	while IFS= read -r f; do
		n=$(basename "$f" .ko)
		builtin[${n//-/_}]=1
	done <"$moddir/modules.builtin"
fi

modinfo_of() { # FILE: print the module's .modinfo strings, one a line
	case $1 in
	*.ko) tr '\0' '\n' <"$1" ;;
	*.ko.xz) xz -dc "$1" | tr '\0' '\n' ;;
	*.ko.zst) zstd -dc "$1" | tr '\0' '\n' ;;
	*.ko.gz) gzip -dc "$1" | tr '\0' '\n' ;;
	esac
}

order=()
# resolve NAME: append NAME's dependencies, then NAME, to order.
resolve() {
	local want=$1 name=${1//-/_} info dep
	[[ -n ${loaded[$name]:-} || -n ${builtin[$name]:-} ]] && return 0
	if [[ -z ${modpath[$name]:-} ]]; then
		# Softdeps may name an alias (crc32c): find a module declaring it,
		# the generic C one if any, since a CPU-specific one may not load.
		local hit
		hit=$(grep -rlzx --include='*.ko*' -e "alias=$want" "$moddir/kernel" 2>/dev/null |
			awk '{ print (/generic/ ? 0 : 1), $0 }' | sort | head -n1 | cut -d' ' -f2-) || true
		[[ -n $hit ]] || { echo "vm initramfs: warning: no module $want in $kver" >&2; return 0; }
		name=$(basename "$hit")
		name=${name%%.ko*}
		name=${name//-/_}
		[[ -n ${loaded[$name]:-} || -n ${builtin[$name]:-} ]] && return 0
	fi
	loaded[$name]=1
	info=$(modinfo_of "$moddir/${modpath[$name]}")
	for dep in $(sed -n 's/^depends=//p' <<<"$info" | tr ',' ' ') \
		$(sed -n 's/^softdep=//p' <<<"$info" | sed -n 's/.*pre:\(.*\)/\1/p' | sed 's/post:.*//'); do
		resolve "$dep"
	done
	order+=("${modpath[$name]}")
}
while read -r m _; do
	[[ -z $m || $m == \#* ]] && continue
	resolve "$m"
done <"$here/modules.txt"

mkdir -p "$stage/lib/modules/$kver"
: >"$stage/etc/llcr-vm/modules"
for rel in "${order[@]}"; do
	dst=$stage/lib/modules/$kver/${rel%%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	# busybox insmod reads plain .ko files only.
	case $rel in
	*.ko) cp "$moddir/$rel" "$dst" ;;
	*.ko.xz) xz -dc "$moddir/$rel" >"$dst" ;;
	*.ko.zst) zstd -dc "$moddir/$rel" >"$dst" ;;
	*.ko.gz) gzip -dc "$moddir/$rel" >"$dst" ;;
	esac
	echo "${rel%%.ko*}.ko" >>"$stage/etc/llcr-vm/modules"
done
cp "$moddir"/modules.builtin "$stage/lib/modules/$kver/" 2>/dev/null || true
# modules.dep for the kernel's own request_module (nft expressions are
# loaded on demand) through busybox modprobe.
"$stage/usr/bin/busybox" depmod -b "$stage" "$kver" 2>/dev/null ||
	echo "vm initramfs: warning: busybox depmod failed; on-demand module loading will not work" >&2

# --- llcr and its tests ---------------------------------------------------
# The runtime finds helpers next to itself (llcr-init), so its whole
# directory comes along; the VM's runner calls it by the same name.
bindir=$(dirname "$bin")
for p in "$bindir"/*; do
	[[ -f $p && -x $p ]] && cp "$p" "$stage/llcr/bin/"
done
basename "$bin" >"$stage/etc/llcr-vm/bin"
if [[ -d $cni ]]; then
	mkdir -p "$stage/llcr/bin/cni"
	for p in "$cni"/*; do
		[[ -f $p && -x $p ]] && cp "$p" "$stage/llcr/bin/cni/"
	done
fi
for p in "$stage"/llcr/bin/* "$stage"/llcr/bin/cni/*; do
	[[ -f $p ]] && copy_libs "$p"
done
cp -a "$rootfs" "$stage/llcr/rootfs"
mkdir -p "$stage/llcr/tests"
cp -a "$tests"/. "$stage/llcr/tests/"

# --- init -----------------------------------------------------------------
install -m 0755 "$here/init" "$stage/init"
install -m 0755 "$here/rcS" "$stage/etc/llcr-vm/rcS"
echo "::sysinit:/etc/llcr-vm/rcS" >"$stage/etc/inittab"
if [[ -n ${VM_CONFIG:-} ]]; then
	cp "$VM_CONFIG" "$stage/etc/llcr-vm/config"
else
	: >"$stage/etc/llcr-vm/config"
fi

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
echo "vm initramfs: $out: $(du -sh "$stage" | cut -f1) unpacked, $(du -h "$out" | cut -f1) compressed, ${#order[@]} modules" >&2
