package cli

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/network"
)

// applyNetwork turns the network flags into the spec: host drops the
// network namespace, CNI networks ride in an annotation (launch reads it).
func (r *RunCmd) applyNetwork(s *specs.Spec) error {
	mode, req, err := network.ParseFlags(r.Network, r.IP, r.MAC, r.Publish, r.DNS, r.NetConfDir)
	if err != nil {
		return err
	}
	switch mode {
	case network.ModeHost:
		ns := s.Linux.Namespaces[:0]
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.NetworkNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	case network.ModeCNI:
		return network.Encode(s, req)
	}
	return nil
}
