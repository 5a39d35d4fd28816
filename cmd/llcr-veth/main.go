// Command llcr-veth is the llcr-veth CNI plugin binary; see package
// llcr/plugins/veth.
package main

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"llcr/plugins/veth"
)

func main() {
	skel.PluginMainFuncs(skel.CNIFuncs{
		Add: veth.CmdAdd, Del: veth.CmdDel, Check: veth.CmdCheck, Status: veth.CmdStatus, GC: veth.CmdGC,
	}, version.PluginSupports("0.4.0", "1.0.0", "1.1.0"), "llcr-veth: veth pairs on a bridge or routed by the host")
}
