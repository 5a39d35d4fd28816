package veth

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/ipam"
)

// CmdStatus implements CNI STATUS: the network is ready when ADD could
// succeed, i.e. the bridge exists or can be made and the IPAM plugin
// answers. Failures carry code 50 ("plugin not available") so runtimes hold
// off scheduling rather than treating it as a broken config.
func CmdStatus(args *skel.CmdArgs) error {
	conf, err := LoadConf(args.StdinData)
	if err != nil {
		return err
	}
	if conf.Mode == ModeBridge {
		// Creating the bridge here is what ADD would do first anyway, and it
		// is the only way to prove that it can be created.
		err := withLock("bridge-"+conf.Bridge, func() error {
			_, err := ensureBridge(conf.Bridge, false)
			return err
		})
		if err != nil {
			return types.NewError(types.ErrPluginNotAvailable, fmt.Sprintf("bridge %s is not usable", conf.Bridge), err.Error())
		}
	}
	if err := ipam.ExecStatus(conf.IPAM.Type, args.StdinData); err != nil {
		var cniErr *types.Error
		if errors.As(err, &cniErr) {
			return cniErr
		}
		return types.NewError(types.ErrPluginNotAvailable, fmt.Sprintf("IPAM plugin %s is not available", conf.IPAM.Type), err.Error())
	}
	return nil
}
