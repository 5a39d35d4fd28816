#!/usr/bin/env bash
# run.sh — `make test-v2`: run the unit tests of runtime/... and the e2e
# suite as root inside a qemu VM whose kernel has cgroup v1 switched off, so
# the pure cgroup v2 code paths are tested whatever the host has.
#
# One boot per run. The VM has no network device, and only a blank scratch
# disk (ext4 for /tmp and the container rootfs): its initramfs holds the
# tests, and their output comes back over virtio-serial into
# build/vm/results.log; the serial console (build/vm/console.log) shows
# progress. Exits non-zero when a test binary failed, or when the VM gave no
# complete result (timeout, crash).
#
# Env: LLCR_BIN, LLCR_ROOTFS   what to test (default bin/container, build/rootfs)
#      LLCR_VM_TIMEOUT         wall-clock limit for the VM (default 25m)
#      LLCR_VM_ACCEL           kvm or tcg (default: kvm when /dev/kvm works)
#      LLCR_VM_RUN             -test.run pattern for every test binary
#      LLCR_VM_PKGS            packages to test (default: ./e2e and every
#                              package under ./runtime/ that has tests)
#      GO                      the go command (default go)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
here=scripts/vm
out=build/vm
go=${GO:-go}
vm_timeout=${LLCR_VM_TIMEOUT:-25m}
export LLCR_BIN=${LLCR_BIN:-bin/container}
export LLCR_ROOTFS=${LLCR_ROOTFS:-build/rootfs}

die() { echo "test-v2: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v cpio >/dev/null || missing+=(cpio)
[[ -x ${BUSYBOX:-/bin/busybox} ]] || missing+=(busybox-static)
((${#missing[@]} == 0)) || die "missing packages; install them with: apt-get install ${missing[*]}"

mkdir -p "$out"

# --- kernel ---------------------------------------------------------------
ktree=$("$here/kernel.sh" "$out/kernel")
kernel=$(ls "$ktree"/boot/vmlinuz-* | head -n1)

# --- test binaries --------------------------------------------------------
# Static (CGO_ENABLED=0): the VM has only the libraries bin/container needs.
tests=$out/tests
rm -rf "$tests"
mkdir -p "$tests/src"
if [[ -n ${LLCR_VM_PKGS:-} ]]; then
	read -r -a pkgs <<<"$LLCR_VM_PKGS"
else
	pkgs=(./runtime/... ./e2e)
fi
module=$($go list -m)
$go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "${pkgs[@]}" >"$out/pkgs"
[[ -s $out/pkgs ]] || die "no package with tests in: ${pkgs[*]}"
# Unit tests first: they are quick, and the e2e suite may use the rest.
: >"$tests/list"
sort -k1,1 "$out/pkgs" | awk -v e2e="$module/e2e" '$1 != e2e' >"$out/pkgs.sorted"
awk -v e2e="$module/e2e" '$1 == e2e' "$out/pkgs" >>"$out/pkgs.sorted"
echo "test-v2: building test binaries" >&2
while read -r pkg dir; do
	rel=${pkg#"$module"}
	rel=${rel#/}
	name=${rel//\//-}.test
	kind=unit
	[[ $pkg == "$module/e2e" ]] && kind=e2e
	CGO_ENABLED=0 $go test -c -o "$tests/$name" "$pkg"
	# Tests run in their package directory, where testdata/ is.
	mkdir -p "$tests/src/$rel"
	[[ -d $dir/testdata ]] && cp -a "$dir/testdata" "$tests/src/$rel/"
	echo "$name $pkg $rel $kind" >>"$tests/list"
done <"$out/pkgs.sorted"

# --- initramfs ------------------------------------------------------------
cat >"$out/config" <<EOF
TEST_RUN='${LLCR_VM_RUN:-}'
EOF
VM_CONFIG=$out/config "$here/initramfs.sh" "$out/initramfs.cpio.gz" "$ktree" "$tests"
t_built=$(since "$t0")

# --- boot -----------------------------------------------------------------
accel=${LLCR_VM_ACCEL:-}
if [[ -z $accel ]]; then
	# /dev/kvm without vmx/svm in the CPU flags is a nested setup whose
	# guests may hang (they do on this project's CI machines): not worth
	# waiting out the boot limit.
	accel=tcg
	if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qw -e vmx -e svm /proc/cpuinfo; then accel=kvm; fi
fi

# A throwaway ext4 disk for /tmp and the container rootfs: sparse, and with
# lazy init mkfs is instant. Without e2fsprogs they stay on tmpfs.
scratch=$out/scratch.img
disk=()
if command -v mkfs.ext4 >/dev/null; then
	disk=(-drive "file=$scratch,if=none,id=scratch,format=raw,cache=unsafe" -device "virtio-blk-pci,drive=scratch")
else
	echo "test-v2: warning: no mkfs.ext4 (apt-get install e2fsprogs): /tmp and the rootfs stay on tmpfs" >&2
fi
trap 'rm -f "$scratch"' EXIT
mkscratch() {
	rm -f "$scratch"
	((${#disk[@]})) || return 0
	truncate -s 8G "$scratch"
	mkfs.ext4 -q -F -L llcr-scratch -E lazy_itable_init=1,lazy_journal_init=1 "$scratch"
}

results=$out/results.log
console=$out/console.log

# boot ACCEL: run the VM to its end; return qemu's (or timeout's) status.
# With KVM it also returns 200 when the guest did not boot in
# $kvm_boot_limit seconds: nested KVM can be present yet hang the guest.
kvm_boot_limit=${LLCR_VM_KVM_BOOT_LIMIT:-60}
boot() {
	local cpu=max accel=$1,thread=multi
	# The L1 hypervisor may refuse IA32_ARCH_CAPABILITIES, which qemu then
	# fails to set; the guest does not need it.
	[[ $1 == kvm ]] && cpu=host,-arch-capabilities accel=kvm
	: >"$results"
	: >"$console"
	mkscratch
	echo "test-v2: booting $(basename "$kernel") ($1, timeout $vm_timeout)" >&2
	# -nodefaults: no VGA, no default NIC; -nic none says it again. The VM
	# has no network device at all, so nothing it does can leave it.
	timeout -k 10s "$vm_timeout" qemu-system-x86_64 \
		-nodefaults -no-user-config -no-reboot \
		-machine q35 -accel "$accel" -cpu "$cpu" -smp 2 -m 2048 \
		-display none -nic none \
		-chardev file,id=con,path="$console" -serial chardev:con \
		-device virtio-serial-pci,id=vser \
		-chardev file,id=results,path="$results" \
		-device virtserialport,bus=vser.0,chardev=results,name=llcr.results \
		"${disk[@]}" \
		-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
		-append "cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 console=ttyS0 quiet panic=-1" \
		</dev/null >"$out/qemu.out" 2>"$out/qemu.err" &
	local qpid=$! rc=0 hung=
	tail -n +1 -f --pid="$qpid" "$console" | tr -d '\r' | sed -u 's/^/vm| /' >&2 &
	local tpid=$!
	if [[ $1 == kvm ]]; then
		local waited=0
		while kill -0 "$qpid" 2>/dev/null && ! grep -q '^=== LLCR-VM INFO booted' "$results"; do
			if ((waited >= kvm_boot_limit * 5)); then
				hung=1
				kill "$qpid"
				break
			fi
			sleep 0.2
			waited=$((waited + 1))
		done
	fi
	wait "$qpid" || rc=$?
	wait "$tpid" || true
	[[ -n $hung ]] && return 200
	return "$rc"
}

t_boot=$(now)
rc=0
boot "$accel" || rc=$?
# KVM can be listed yet unusable (nested virtualization off): fall back.
if [[ $accel == kvm ]] && ((rc == 200)); then
	echo "test-v2: the KVM guest did not boot in ${kvm_boot_limit}s; retrying with TCG" >&2
elif [[ $accel == kvm && $rc -ne 0 && ! -s $results ]] && grep -qi kvm "$out/qemu.err"; then
	echo "test-v2: KVM failed ($(head -n1 "$out/qemu.err")); retrying with TCG" >&2
	rc=200
fi
if ((rc == 200)); then
	accel=tcg
	rc=0
	t_boot=$(now)
	boot tcg || rc=$?
fi
t_vm=$(since "$t_boot")

# --- report ---------------------------------------------------------------
# The go test output, with the markers turned into go test's own summary
# lines.
awk '
	/^=== LLCR-VM BEGIN / { pkg = $5; next }
	/^=== LLCR-VM END / {
		rc = $5; sub(/^rc=/, "", rc); secs = $6; sub(/^secs=/, "", secs)
		printf "%s\t%s\t%ss\n", (rc == 0 ? "ok  " : "FAIL"), pkg, secs
		next
	}
	/^=== LLCR-VM / { next }
	{ print }
' "$results"

status=0
booted=$(sed -n 's/^=== LLCR-VM INFO booted in //p' "$results")
echo
echo "test-v2: VM ($accel): booted in ${booted:-?}, ran ${t_vm}s; build took ${t_built}s; total $(since "$t0")s"
grep '^=== LLCR-VM INFO' "$results" | sed 's/^=== LLCR-VM INFO /test-v2:   /' | grep -v 'booted in' || true
ran=$(grep -c '^=== LLCR-VM END ' "$results" || true)
want=$(wc -l <"$tests/list")
failed=$(awk '/^=== LLCR-VM END / && $5 != "rc=0" { print $4 }' "$results")
if [[ -n $failed ]]; then
	echo "test-v2: FAILED in the VM:" ${failed//.test/}
	status=1
fi
if ! grep -q '^=== LLCR-VM DONE' "$results"; then
	status=1
	if ((rc == 124 || rc == 137)); then
		echo "test-v2: the VM TIMED OUT after $vm_timeout (ran $ran of $want test binaries)"
	else
		echo "test-v2: the VM stopped without finishing (qemu exit $rc; ran $ran of $want test binaries)"
	fi
	last=$(awk '/^=== LLCR-VM BEGIN / { p = $4 } /^=== LLCR-VM END / { p = "" } END { print p }' "$results")
	[[ -n $last ]] && echo "test-v2: it was running $last"
	[[ -s $out/qemu.err ]] && { echo "test-v2: qemu said:"; sed 's/^/  /' "$out/qemu.err"; }
	echo "test-v2: last console lines ($console):"
	tr -d '\r' <"$console" | tail -n 20 | sed 's/^/  /'
	grep -q 'Kernel panic' "$console" && echo "test-v2: the VM's kernel panicked (see $console)"
elif ((ran != want)); then
	echo "test-v2: the VM ran $ran of $want test binaries"
	status=1
fi
((status == 0)) && echo "test-v2: all $want test binaries passed in the cgroup v2 VM"
exit "$status"
