package network

import (
	"strings"
	"testing"
)

func TestParsePublish(t *testing.T) {
	for in, want := range map[string]Port{
		"8080:80":              {HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		"127.0.0.1:8080:80":    {HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		"[::1]:53:5353/udp":    {HostIP: "::1", HostPort: 53, ContainerPort: 5353, Protocol: "udp"},
		"0.0.0.0:443:8443/TCP": {HostIP: "0.0.0.0", HostPort: 443, ContainerPort: 8443, Protocol: "tcp"},
	} {
		got, err := ParsePublish(in)
		if err != nil || got != want {
			t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"80", "x:80", "8080:0", "8080:80/sctp", "nohost:8080:80", "70000:80"} {
		if _, err := ParsePublish(in); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParsePublish(%q) = %v, want an error quoting it", in, err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	mode, req, err := ParseFlags([]string{"default", "other"}, "10.89.0.9", "02:42:0a:00:00:01",
		[]string{"8080:80"}, []string{"192.0.2.53"}, "/x")
	if err != nil || mode != ModeCNI {
		t.Fatalf("ParseFlags = %v, %v", mode, err)
	}
	if len(req.Networks) != 2 || req.Networks[0].IfName != "eth0" || req.Networks[1].IfName != "eth1" ||
		req.Networks[0].IP != "10.89.0.9" || req.Networks[0].MAC != "02:42:0a:00:00:01" || req.Networks[1].IP != "" {
		t.Errorf("networks = %+v", req.Networks)
	}
	if len(req.Publish) != 1 || len(req.DNS) != 1 || req.ConfigDir != "/x" {
		t.Errorf("request = %+v", req)
	}
	for _, tc := range []struct {
		nets    []string
		ip, mac string
		publish []string
		want    string
	}{
		{[]string{"host", "default"}, "", "", nil, "cannot be combined"},
		{[]string{"default", "default"}, "", "", nil, "given twice"},
		{nil, "10.0.0.1", "", nil, "need a CNI network"},
		{[]string{"default"}, "nonsense", "", nil, "invalid --ip"},
		{[]string{"default"}, "", "01:00:5e:00:00:01", nil, "multicast"},
		{[]string{"default"}, "", "", []string{"80:80", "80:81"}, "published twice"},
	} {
		if _, _, err := ParseFlags(tc.nets, tc.ip, tc.mac, tc.publish, nil, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFlags(%v, %q, %q, %v) = %v, want %q", tc.nets, tc.ip, tc.mac, tc.publish, err, tc.want)
		}
	}
}
