package veth

import (
	"strings"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// The "mac" capability arrives as runtimeConfig.mac and names the container
// end's address; the result and CHECK agree with the link.
func TestRuntimeConfigMAC(t *testing.T) {
	e := newEnv(t)
	const mac = "02:42:0a:59:00:63"
	conf := e.config("1.1.0", uniq("net-"), map[string]any{
		"bridge":        uniq("llcrt"),
		"runtimeConfig": map[string]any{"mac": mac},
	}, "10.78.0.0/24")
	a := e.add(conf)
	var got string
	err := a.netns.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName("eth0")
		if err == nil {
			got = l.Attrs().HardwareAddr.String()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != mac {
		t.Errorf("container eth0 MAC = %s, want %s", got, mac)
	}
	found := false
	for _, i := range a.result.Interfaces {
		if i.Sandbox != "" && i.Mac == mac {
			found = true
		}
	}
	if !found {
		t.Errorf("result interfaces %+v lack the container end with MAC %s", a.result.Interfaces, mac)
	}
	if err := e.check(a); err != nil {
		t.Errorf("CHECK: %v", err)
	}
	if err := e.del(a); err != nil {
		t.Fatalf("DEL: %v", err)
	}
}

func TestRuntimeConfigMACInvalid(t *testing.T) {
	base := `"cniVersion":"1.0.0","name":"n","type":"llcr-veth","ipam":{"type":"host-local"}`
	for _, mac := range []string{"nonsense", "01:00:5e:00:00:01", "02:42:0a:59:00:63:01:02"} {
		_, err := LoadConf([]byte(`{` + base + `,"runtimeConfig":{"mac":"` + mac + `"}}`))
		if err == nil || !strings.Contains(err.Error(), `"runtimeConfig.mac"`) {
			t.Errorf("mac %s: LoadConf = %v, want an error naming runtimeConfig.mac", mac, err)
		}
	}
}
