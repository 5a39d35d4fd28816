#!/usr/bin/env bash
# demo.sh [BIN] [ROOTFS] — run one container and show what it is isolated from.
# Each section prints what the container sees; compare with the host's view.
set -euo pipefail

bin=${1:-bin/container}
rootfs=${2:-build/rootfs}

[[ -x $bin ]] || { echo "demo: $bin not built; run: make build" >&2; exit 1; }
[[ -x $rootfs/bin/busybox ]] || { echo "demo: no rootfs at $rootfs; run: make rootfs" >&2; exit 1; }

# The memory limit file depends on the cgroup layout the runtime mounted:
# cgroup v1 has memory/memory.limit_in_bytes, v2 has memory.max at the root.
# shellcheck disable=SC2016 # expanded inside the container, not here
inner='
echo "== hostname (uts namespace)"; hostname
echo "== my pid (pid namespace)"; echo $$
echo "== processes"; ps
echo "== identity"; id
echo "== mounts (mount namespace, first lines)"; mount | head -n 12
echo "== network interfaces (net namespace)"; ip -o link 2>/dev/null | cut -d" " -f2 || true
echo "== memory limit (cgroup)"
if [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	echo "v1 memory.limit_in_bytes: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
elif [ -r /sys/fs/cgroup/memory.max ]; then
	echo "v2 memory.max: $(cat /sys/fs/cgroup/memory.max)"
else
	echo "no cgroup filesystem mounted in the container; membership:"
	cat /proc/self/cgroup
fi
'

echo "== host: hostname $(hostname), pid $$"
echo "\$ $bin --rootfs $rootfs --memory 256M --hostname demo -- /bin/sh -c '<isolation checks>'"
"$bin" --rootfs "$rootfs" --memory 256M --hostname demo -- /bin/sh -c "$inner"
