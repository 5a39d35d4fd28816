package cli

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestFilterPs(t *testing.T) {
	out := "UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sleep 1\nroot  420    42 sh\n"
	got, err := filterPs([]byte(out), []int{42, 420})
	if err != nil {
		t.Fatal(err)
	}
	want := "UID   PID  PPID CMD\nroot   42     1 sleep 1\nroot  420    42 sh\n"
	if string(got) != want {
		t.Errorf("filterPs:\n%s\nwant:\n%s", got, want)
	}
	if _, err := filterPs([]byte("A B\n1 2\n"), []int{1}); err == nil || !strings.Contains(err.Error(), "PID") {
		t.Errorf("output without PID column: %v", err)
	}
}

func TestUpdateFlags(t *testing.T) {
	r, err := (&UpdateCmd{Memory: "32M", PidsLimit: "20", CPUQuota: "-1"}).resources()
	if err != nil {
		t.Fatal(err)
	}
	if *r.Memory.Limit != 32<<20 || r.Memory.Swap != nil || *r.Pids.Limit != 20 || *r.CPU.Quota != -1 || r.CPU.Period != nil {
		t.Errorf("resources: %+v %+v %+v", r.Memory, r.Pids, r.CPU)
	}
	for _, c := range []UpdateCmd{
		{}, {Memory: "lots"}, {PidsLimit: "0"}, {CPUShares: "-2"}, {Resources: "x.json", Memory: "1G"},
	} {
		if _, err := c.resources(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestMergeResources(t *testing.T) {
	one, two, big := int64(1), int64(2), int64(1<<30)
	dst := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &big, Swap: &big}, Pids: &specs.LinuxPids{Limit: &one}}
	mergeResources(dst, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &two}, CPU: &specs.LinuxCPU{Cpus: "0"}})
	// A new memory limit without swap also caps swap: no stale swap stays.
	if *dst.Memory.Limit != 2 || dst.Memory.Swap != nil || *dst.Pids.Limit != 1 || dst.CPU.Cpus != "0" {
		t.Errorf("merged: %+v %+v %+v", dst.Memory, dst.Pids, dst.CPU)
	}
}
