package network

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
)

// reservePorts binds and listens on every published host port before any
// rule is written, and keeps the sockets for the container's life: a port
// already in use is an error naming it, and no later container or program
// can take the port while the rules point it at this container (podman and
// nerdctl learned this the hard way). The sockets never accept: traffic is
// DNAT'ed to the container before it could reach them.
func reservePorts(ports []Port) ([]io.Closer, error) {
	var held []io.Closer
	fail := func(err error) ([]io.Closer, error) {
		for _, c := range held {
			c.Close()
		}
		return nil, err
	}
	for _, p := range ports {
		addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
		var (
			c   io.Closer
			err error
		)
		if p.Protocol == "udp" {
			c, err = net.ListenPacket("udp", addr)
		} else {
			c, err = net.Listen("tcp", addr)
		}
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fail(fmt.Errorf("publish %s: host port %d/%s is already in use: pick another host port", p, p.HostPort, p.Protocol))
			}
			if errors.Is(err, syscall.EADDRNOTAVAIL) {
				return fail(fmt.Errorf("publish %s: %s is not an address of this host", p, p.HostIP))
			}
			return fail(fmt.Errorf("publish %s: reserve host port: %w", p, err))
		}
		held = append(held, c)
	}
	return held, nil
}
