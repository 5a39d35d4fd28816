package network

import (
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"llcr/netconf"
)

func TestWithoutIdlePortmap(t *testing.T) {
	list, err := libcni.NetworkConfFromBytes([]byte(`{"cniVersion":"1.1.0","name":"n","plugins":[
		{"type":"llcr-veth","ipam":{"type":"host-local"}},
		{"type":"portmap","capabilities":{"portMappings":true}},
		{"type":"tuning"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	n := &netconf.Network{Name: "n", List: list}
	got := withoutIdlePortmap(n)
	var types []string
	for _, p := range got.List.Plugins {
		types = append(types, p.Network.Type)
	}
	if strings.Join(types, ",") != "llcr-veth,tuning" {
		t.Fatalf("plugins %v, want llcr-veth,tuning", types)
	}
	if strings.Contains(string(got.List.Bytes), "portmap") {
		t.Fatalf("cached bytes still name portmap: %s", got.List.Bytes)
	}
	if len(n.List.Plugins) != 3 {
		t.Fatal("the original network was modified")
	}
	// Without portmap there is nothing to drop: the same network back.
	if withoutIdlePortmap(got) != got {
		t.Fatal("a list without portmap was rewritten")
	}
}
