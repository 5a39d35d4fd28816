package launch

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startIn starts cmd with the child born in the network namespace at
// netnsPath (the current one when empty). The clone inherits the namespace
// of the thread that forks, so the fork runs on a thread of its own that
// first joins the pinned namespace. A setns in the child would not do: with
// a user namespace, joining a namespace the host's user namespace owns is
// refused. The thread is thrown away afterwards (its goroutine exits
// locked), so no other goroutine ever runs in the container's namespace.
func startIn(cmd *exec.Cmd, netnsPath string) error {
	if netnsPath == "" {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open network namespace %s: %w", netnsPath, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("join network namespace %s: %w", netnsPath, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}
