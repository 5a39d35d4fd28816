#!/usr/bin/env bash
# kernel.sh DIR — fetch a Debian kernel package and unpack it into DIR for
# the cgroup v2 test VM; print the unpacked tree's path.
#
# The kernel is never installed on the host: `apt-get download` fetches the
# .deb and `dpkg -x` unpacks it, so the host's /boot and /lib/modules stay
# untouched. The package is the one linux-image-amd64 depends on (the
# distribution's current kernel), resolved through apt-cache rather than
# hard-coded, because old ABI versions leave the mirror.
#
# Env: LLCR_VM_KERNEL_DEB  use this .deb instead of downloading one.
#      LLCR_VM_KERNEL_PKG  package name to download (default: resolved).
set -euo pipefail

die() { echo "vm kernel: $*" >&2; exit 1; }

[[ $# -eq 1 && -n $1 ]] || die "usage: $0 DIR"
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [[ -n ${LLCR_VM_KERNEL_DEB:-} ]]; then
	deb=$(readlink -f "$LLCR_VM_KERNEL_DEB")
	[[ -f $deb ]] || die "LLCR_VM_KERNEL_DEB=$LLCR_VM_KERNEL_DEB is not a file"
	key=$(basename "$deb" .deb)
else
	pkg=${LLCR_VM_KERNEL_PKG:-}
	if [[ -z $pkg ]]; then
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
		[[ -n $pkg ]] || die "apt-cache cannot resolve linux-image-amd64 to a kernel package (run apt-get update first)"
	fi
	ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
	[[ -n $ver && $ver != "(none)" ]] || die "package $pkg has no installable version (run apt-get update first)"
	key=${pkg}_$ver
fi

tree=$dir/$key
# A finished unpack leaves a stamp; anything else is a partial one.
if [[ -f $tree/.unpacked ]]; then
	echo "$tree"
	exit 0
fi
# Only one kernel is kept: older ones are dead weight in build/.
find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +

if [[ -z ${deb:-} ]]; then
	mkdir -p "$dir/download"
	echo "vm kernel: downloading $pkg=$ver" >&2
	# apt warns that it downloads unsandboxed when the _apt user cannot
	# write here: harmless noise, so its output is shown only on failure.
	tries=0
	until (cd "$dir/download" && apt-get download -qq "$pkg=$ver") >"$dir/download.log" 2>&1; do
		tries=$((tries + 1))
		if ((tries == 3)); then
			cat "$dir/download.log" >&2
			die "apt-get download $pkg=$ver failed $tries times"
		fi
		echo "vm kernel: apt-get download failed, retrying in 10s" >&2
		sleep 10
	done
	deb=$(ls "$dir"/download/*.deb 2>/dev/null | head -n1)
	[[ -n $deb ]] || die "apt-get download $pkg=$ver produced no .deb"
fi

echo "vm kernel: unpacking $(basename "$deb")" >&2
mkdir -p "$tree.tmp"
dpkg -x "$deb" "$tree.tmp" || die "dpkg -x $deb failed"
rm -rf "$dir/download" "$dir/download.log"
ls "$tree.tmp"/boot/vmlinuz-* >/dev/null 2>&1 || die "$deb has no boot/vmlinuz-*"
touch "$tree.tmp/.unpacked"
mv "$tree.tmp" "$tree"
echo "$tree"
