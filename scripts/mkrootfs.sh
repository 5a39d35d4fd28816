#!/usr/bin/env bash
# mkrootfs.sh DEST — build a minimal busybox root filesystem in DEST.
#
# The rootfs is what the e2e suite, the demo and the benchmark run containers
# in, so it is built from a local package (busybox-static) rather than pulled
# from a registry: no network, reproducible, about a second to build.
# Rebuilding over an existing DEST is safe; every step converges.
#
# Env: BUSYBOX  path of a statically linked busybox (default /bin/busybox).
set -euo pipefail

die() { echo "mkrootfs: $*" >&2; exit 1; }

[[ $# -eq 1 && -n $1 ]] || die "usage: $0 DEST"
dest=$1
busybox=${BUSYBOX:-/bin/busybox}

[[ -x $busybox ]] || die "$busybox not found; install it with: apt-get install busybox-static"
# A dynamically linked busybox would need the host's libc inside the rootfs.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" 2>/dev/null | grep -q '=>'; then
	die "$busybox is dynamically linked; install busybox-static instead of busybox"
fi

mkdir -p "$dest"
cd "$dest"

mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home/user var/tmp run
chmod 0755 . bin sbin usr usr/bin usr/sbin etc proc sys dev home var run
chmod 1777 tmp var/tmp
chmod 0700 root

# Copy via a temporary name and rename, so rebuilding while a container still
# executes the old binary does not fail with "text file busy".
cp "$busybox" bin/.busybox.new
chmod 0755 bin/.busybox.new
mv -f bin/.busybox.new bin/busybox

# Every applet lives in bin/ (sbin and usr/* stay empty but exist, because
# PATH and some scripts expect them). Links are relative so the rootfs is
# correct wherever it is mounted.
while IFS= read -r applet; do
	case $applet in
	'' | busybox | */*) continue ;;
	esac
	link=bin/$applet
	[[ -L $link && $(readlink "$link") == busybox ]] && continue
	rm -rf -- "$link"
	ln -s busybox "$link"
done < <("$busybox" --list)

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
tty:x:5:
user:x:1000:user
nogroup:x:65534:
EOF
chmod 0644 etc/passwd etc/group

# Empty on purpose: the runtime bind-mounts its own versions over these, and a
# bind mount needs an existing file as its target.
for f in etc/hosts etc/hostname etc/resolv.conf; do
	: >"$f"
	chmod 0644 "$f"
done

# Ownership needs root; an unprivileged build is still usable for tests that
# do not switch to uid 1000.
if [[ $(id -u) -eq 0 ]]; then
	chown -R 0:0 bin etc root tmp
	chown 1000:1000 home/user
else
	echo "mkrootfs: not root, leaving home/user owned by $(id -u):$(id -g)" >&2
fi
