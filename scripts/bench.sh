#!/usr/bin/env bash
# bench.sh — whole-process container start latency: llcr vs runc vs crun.
#
# Every case starts a container running /bin/true on the same busybox rootfs
# and is timed from outside as one process, the way a user or an orchestrator
# experiences it. Cases are interleaved (a b c a b c ...) so that drift of the
# machine (page cache, frequency, other load) is shared by all of them instead
# of biasing whichever ran last.
#
# All runtimes run inside one private mount namespace in which the hybrid
# cgroup2 mount /sys/fs/cgroup/unified is unmounted: crun refuses hybrid
# layouts otherwise, and giving every runtime the same view keeps the
# comparison fair. The host's mounts are never touched.
#
# Env:
#   BENCH_RUNS    measured runs per case (default 30)
#   BENCH_WARMUP  unmeasured runs per case first (default 3)
#   BENCH_OUT     also write the markdown table to this file
#   LLCR_BIN      llcr binary (default bin/container)
#   LLCR_ROOTFS   rootfs (default build/rootfs, see scripts/mkrootfs.sh)
#
# Adding a case: write case_NAME (it gets the run index as $1 and must exit
# with the container's status) and append NAME to CASES.
set -euo pipefail
# A locale's decimal comma would break EPOCHREALTIME arithmetic and awk.
export LC_ALL=C
((BASH_VERSINFO[0] >= 5)) || { echo "bench: needs bash >= 5 (EPOCHREALTIME)" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
LLCR_BIN=${LLCR_BIN:-$repo/bin/container}
LLCR_ROOTFS=${LLCR_ROOTFS:-$repo/build/rootfs}

# BENCH_CASES picks a subset, e.g. "llcr crun".
read -r -a CASES <<<"${BENCH_CASES:-llcr llcr-net runc crun runc-cni}"
CNI_BIN=${CNI_BIN:-$(dirname "$LLCR_BIN")/cni}
# The ratio column divides by this case's median.
REFERENCE=crun

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

# ---- cases -----------------------------------------------------------------
# Run inside the private namespace; $work and $rootfs are set by inner().

case_llcr() {
	"$LLCR_BIN" --rootfs "$rootfs" -- /bin/true
}

case_llcr-net() {
	"$LLCR_BIN" --rootfs "$rootfs" --network default -- /bin/true
}

case_runc() {
	runc --root "$work/state-runc" run --bundle "$work/bundle" "llcr-bench-$$-runc-$1"
}

case_crun() {
	crun --root "$work/state-crun" run --bundle "$work/bundle" "llcr-bench-$$-crun-$1"
}

# What llcr-net does, the way a runc user does it: a named netns, cnitool ADD
# with the reference bridge + host-local plugins, runc run joining it, DEL.
case_runc-cni() {
	local ns=llcr-bench-$$ rc=0
	ip netns add "$ns" || return 1
	CNI_PATH=$CNI_BIN NETCONFPATH=$work/cni "$work/cnitool" add llcr-bench "/var/run/netns/$ns" >/dev/null || rc=1
	if ((rc == 0)); then
		runc --root "$work/state-runc" run --bundle "$work/bundle-net" "llcr-bench-$$-rcni-$1" || rc=$?
	fi
	CNI_PATH=$CNI_BIN NETCONFPATH=$work/cni "$work/cnitool" del llcr-bench "/var/run/netns/$ns" >/dev/null || rc=1
	ip netns del "$ns"
	return "$rc"
}

# The network the runc-cni case gets: bridge + host-local, leases in $work.
make_cni() {
	mkdir -p "$work/cni"
	cat >"$work/cni/llcr-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "llcr-bench", "plugins": [
  {"type": "bridge", "bridge": "llcrbench0", "isGateway": true,
   "ipam": {"type": "host-local", "dataDir": "$work/leases",
            "ranges": [[{"subnet": "10.89.254.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
	(cd "$repo" && go build -o "$work/cnitool" github.com/containernetworking/cni/cnitool) || return 1
	# runc's bundle, joining the named netns instead of making one.
	mkdir -p "$work/bundle-net"
	jq --arg ns "/var/run/netns/llcr-bench-$$" \
		'.linux.namespaces |= map(if .type == "network" then .path = $ns else . end)' \
		"$work/bundle/config.json" >"$work/bundle-net/config.json"
}

# Why a case cannot run at all, or nothing if it can be tried.
case_missing() {
	case $1 in
	llcr | llcr-net) [[ -x $LLCR_BIN ]] || echo "$LLCR_BIN not built (make build)" ;;
	runc | crun) command -v "$1" >/dev/null || echo "$1 not installed (apt-get install $1)" ;;
	runc-cni)
		command -v runc >/dev/null || echo "runc not installed (apt-get install runc)"
		[[ -x $CNI_BIN/bridge && -x $CNI_BIN/host-local ]] || echo "reference plugins not in $CNI_BIN (make cni)"
		command -v jq >/dev/null || echo "jq not installed"
		;;
	esac
}

# ---- helpers ---------------------------------------------------------------

# Write an OCI bundle for runc/crun: the runtime's own default spec, changed
# only as far as needed to run /bin/true non-interactively on our rootfs.
make_bundle() {
	local dir=$1 root=$2 gen
	mkdir -p "$dir"
	if command -v runc >/dev/null; then gen=runc; else gen=crun; fi
	(cd "$dir" && rm -f config.json && "$gen" spec)
	if command -v jq >/dev/null; then
		jq --arg root "$root" \
			'.process.args = ["/bin/true"] | .process.terminal = false | .root.path = $root' \
			"$dir/config.json" >"$dir/config.json.new"
		mv "$dir/config.json.new" "$dir/config.json"
	elif command -v python3 >/dev/null; then
		python3 - "$dir/config.json" "$root" <<-'EOF'
			import json, sys
			path, root = sys.argv[1], sys.argv[2]
			with open(path) as f:
			    spec = json.load(f)
			spec["process"]["args"] = ["/bin/true"]
			spec["process"]["terminal"] = False
			spec["root"]["path"] = root
			with open(path, "w") as f:
			    json.dump(spec, f, indent=2)
		EOF
	else
		# The default spec's layout is stable enough for these three edits.
		sed -i -e 's/"terminal": true/"terminal": false/' \
			-e 's|^\(\s*\)"sh"$|\1"/bin/true"|' \
			-e "s|\"path\": \"rootfs\"|\"path\": \"$root\"|" "$dir/config.json"
	fi
}

# Print "n median p90 min" in milliseconds for a file of microsecond samples.
# p90 is nearest-rank, the median averages the middle pair for even n.
stats() {
	sort -n "$1" | awk '
		{ v[NR] = $1 }
		END {
			n = NR
			if (n == 0) { print 0, "-", "-", "-"; exit }
			med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			r = int(0.9 * n); if (r < 0.9 * n) r++
			printf "%d %.2f %.2f %.2f\n", n, med / 1000, v[r] / 1000, v[1] / 1000
		}'
}

delete_leftovers() {
	local rt id
	for rt in runc crun; do
		if [[ ! -d $work/state-$rt ]] || ! command -v "$rt" >/dev/null; then continue; fi
		for id in $("$rt" --root "$work/state-$rt" list -q 2>/dev/null); do
			log "deleting leftover $rt container $id"
			"$rt" --root "$work/state-$rt" delete -f "$id" >/dev/null 2>&1 || true
		done
	done
}

# ---- inside the private mount namespace ------------------------------------

inner() {
	work=$1
	rootfs=$work/rootfs
	trap delete_leftovers EXIT

	# Only this namespace loses the mount; --propagation private made sure.
	if mountpoint -q /sys/fs/cgroup/unified; then
		umount /sys/fs/cgroup/unified
	fi
	mkdir -p "$rootfs" "$work/state-runc" "$work/state-crun"
	mount --bind "$LLCR_ROOTFS" "$rootfs"
	make_bundle "$work/bundle" "$rootfs"
	if [[ " ${CASES[*]} " == *" runc-cni "* ]]; then
		make_cni || log "runc-cni: could not build cnitool"
	fi

	local c why active=() notes=() i rc t0 t1
	for c in "${CASES[@]}"; do
		why=$(case_missing "$c")
		if [[ -z $why ]]; then
			# A failing probe means the case is unsupported here (yet); its
			# first output line says why.
			rc=0
			case_"$c" probe >"$work/probe.log" 2>&1 </dev/null || rc=$?
			if ((rc == 0)); then
				active+=("$c")
				: >"$work/times.$c"
				echo 0 >"$work/fail.$c"
				continue
			fi
			why="probe failed (exit $rc): $(head -n 1 "$work/probe.log" | cut -c 1-200)"
			[[ -s $work/probe.log ]] || why+="(no output)"
		fi
		notes+=("$c skipped: $why")
		log "${notes[-1]}"
	done
	[[ ${#active[@]} -gt 0 ]] || die "no case can run"

	log "warming up: $WARMUP runs of ${active[*]}"
	for ((i = 0; i < WARMUP; i++)); do
		for c in "${active[@]}"; do
			case_"$c" "w$i" >/dev/null 2>&1 </dev/null || true
		done
	done

	log "measuring: $RUNS interleaved runs of ${active[*]}"
	for ((i = 0; i < RUNS; i++)); do
		for c in "${active[@]}"; do
			# EPOCHREALTIME (bash >= 5) is read without forking, so only the
			# runtime itself lands between the two timestamps.
			t0=$EPOCHREALTIME
			rc=0
			case_"$c" "$i" >/dev/null 2>>"$work/err.$c" </dev/null || rc=$?
			t1=$EPOCHREALTIME
			t0=${t0/./} t1=${t1/./}
			if ((rc == 0)); then
				echo $((t1 - t0)) >>"$work/times.$c"
			else
				echo $(($(<"$work/fail.$c") + 1)) >"$work/fail.$c"
			fi
		done
	done

	report "${active[@]}" >"$work/report.md"
	if ((${#notes[@]} > 0)); then
		{
			echo
			printf -- '- %s\n' "${notes[@]}"
		} >>"$work/report.md"
	fi
}

report() {
	local c ref_med="" n med p90 min ratio fails
	for c in "$@"; do
		if [[ $c == "$REFERENCE" ]]; then read -r _ ref_med _ _ < <(stats "$work/times.$c"); fi
	done
	echo "Container start, \`/bin/true\`, whole process; $RUNS interleaved runs, $WARMUP warm-up."
	echo "Host: $(uname -r), $(nproc) CPUs, cgroups: $(cgroup_layout)."
	echo
	echo "| runtime | runs | median ms | p90 ms | min ms | ratio vs $REFERENCE | failed |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for c in "$@"; do
		read -r n med p90 min < <(stats "$work/times.$c")
		ratio=n/a
		if [[ -n $ref_med && $med != - ]]; then
			ratio=$(awk -v a="$med" -v b="$ref_med" 'BEGIN { printf "%.2fx", a / b }')
		fi
		fails=$(<"$work/fail.$c")
		echo "| $(label "$c") | $n | $med | $p90 | $min | $ratio | $fails |"
	done
}

label() {
	case $1 in
	runc | crun) echo "$1 $("$1" --version | head -n 1 | awk '{ print $3 }')" ;;
	*) echo "$1" ;;
	esac
}

# How the host mounts cgroups, as seen before we unmounted anything here.
cgroup_layout() {
	case $HOST_CGROUP in
	v2) echo "v2 (unified)" ;;
	hybrid) echo "hybrid (v1 + /sys/fs/cgroup/unified, unmounted for the bench)" ;;
	*) echo "v1" ;;
	esac
}

# ---- on the host -----------------------------------------------------------

cgroup_dirs() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 5 -type d 2>/dev/null | sort
}

outer() {
	[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, cgroups, mounts)"
	[[ -x $LLCR_ROOTFS/bin/busybox ]] || die "no rootfs at $LLCR_ROOTFS (make rootfs)"
	[[ $RUNS =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_RUNS/BENCH_WARMUP must be numbers"
	LLCR_BIN=$(realpath -m "$LLCR_BIN")
	LLCR_ROOTFS=$(realpath "$LLCR_ROOTFS")

	if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
		HOST_CGROUP=v2
	elif mountpoint -q /sys/fs/cgroup/unified; then
		HOST_CGROUP=hybrid
	else
		HOST_CGROUP=v1
	fi
	export HOST_CGROUP LLCR_BIN LLCR_ROOTFS RUNS WARMUP

	work=$(mktemp -d /tmp/llcr-bench.XXXXXX)
	cgroup_dirs >"$work/cgroups.before"
	trap 'cleanup' EXIT

	rc=0
	unshare -m --propagation private -- "$BASH" "${BASH_SOURCE[0]}" --inner "$work" || rc=$?
	if [[ -f $work/report.md ]]; then
		cat "$work/report.md"
		[[ -z ${BENCH_OUT:-} ]] || cp "$work/report.md" "$BENCH_OUT"
		local c
		for c in "${CASES[@]}"; do
			[[ -f $work/fail.$c && $(<"$work/fail.$c") != 0 ]] || continue
			log "$c failed $(<"$work/fail.$c") measured runs; first distinct error lines:"
			sort -u "$work/err.$c" | head -n 3 >&2
			rc=1
		done
	fi
	return "$rc"
}

cleanup() {
	# The namespace is gone, so the rootfs bind mount is too; --one-file-system
	# still guards the real rootfs should anything have leaked.
	delete_leftovers
	local leaked
	leaked=$(cgroup_dirs | comm -13 "$work/cgroups.before" - || true)
	if [[ -n $leaked ]]; then
		log "cgroups created during the bench and still present (ours if named llcr*):"
		echo "$leaked" >&2
	fi
	rm -rf --one-file-system "$work"
}

if [[ ${1:-} == --inner ]]; then
	inner "$2"
else
	outer
fi
