package launch

import (
	"context"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"llcr/runtime/network"
)

// setupNetwork runs the CNI side of a start when the spec asks for networks
// (network.Annotation): the container will join the pinned namespace.
func (c *Container) setupNetwork(stateDir string) error {
	req, err := network.Decode(c.Spec)
	if err != nil || req == nil {
		return err
	}
	ctx := context.Background()
	setup, err := network.Up(ctx, c.ID, stateDir, req)
	if err != nil {
		return err
	}
	c.Net = setup
	c.undo.push(func() error { return setup.Down(ctx) })
	l := c.Spec.Linux
	if l == nil {
		l = &specs.Linux{}
		c.Spec.Linux = l
	}
	for i := range l.Namespaces {
		if l.Namespaces[i].Type == specs.NetworkNamespace {
			l.Namespaces[i].Path = setup.NetNS
			return nil
		}
	}
	l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: setup.NetNS})
	return nil
}
