package cli

import (
	"encoding/json"
	"os"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"llcr/runtime/bundle"
)

// FeaturesCmd is runc's `features`: what this runtime implements, as the
// runtime-spec's features document (containerd reads it).
type FeaturesCmd struct{}

// mountOptions are the options package mountopt understands.
var mountOptions = []string{
	"defaults", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async",
	"dirsync", "remount", "mand", "nomand", "noatime", "atime", "nodiratime", "diratime",
	"relatime", "norelatime", "strictatime", "nostrictatime", "lazytime", "nolazytime",
	"iversion", "noiversion", "silent", "loud", "nosymfollow", "symfollow",
	"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
	"bind", "rbind", "tmpcopyup", "idmap", "ridmap",
}

func (FeaturesCmd) Run(g *Globals) error {
	yes, no := true, false
	var caps []string
	for _, c := range capability.ListKnown() {
		caps = append(caps, "CAP_"+strings.ToUpper(c.String()))
	}
	f := features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{bundle.Prestart, bundle.CreateRuntime, bundle.Poststart, bundle.Poststop},
		MountOptions:  mountOptions,
		Linux: &features.Linux{
			Namespaces: []string{string(specs.CgroupNamespace), string(specs.IPCNamespace), string(specs.MountNamespace),
				string(specs.NetworkNamespace), string(specs.PIDNamespace), string(specs.TimeNamespace),
				string(specs.UserNamespace), string(specs.UTSNamespace)},
			Capabilities:    caps,
			Cgroup:          &features.Cgroup{V1: &yes, V2: &yes, Systemd: &no, SystemdUser: &no},
			Seccomp:         &features.Seccomp{Enabled: &no},
			Apparmor:        &features.Apparmor{Enabled: &yes},
			Selinux:         &features.Selinux{Enabled: &yes},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
		},
		Annotations: map[string]string{"io.github.llcr.version": Version},
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(f)
}
