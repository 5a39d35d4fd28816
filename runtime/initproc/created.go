package initproc

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"llcr/runtime/proto"
)

// awaitRuntimeHooks lets the parent run the prestart and createRuntime
// hooks while the mounts exist and pivot_root has not happened.
func awaitRuntimeHooks(conn *proto.Conn) error {
	if err := conn.Send(proto.Message{Kind: proto.RuntimeHooks}); err != nil {
		return err
	}
	if _, _, err := conn.Expect(proto.HooksDone); err != nil {
		return fmt.Errorf("wait for the createRuntime hooks: %w", err)
	}
	return nil
}

// awaitStart is the created state: the parent learns that only the exec
// remains, then the open of the exec fifo for writing blocks until `start`
// opens it for reading, and the byte written tells `start` we got through.
// The fifo arrives as an O_PATH handle and is reopened through /proc, as
// no path of the host's is reachable after pivot_root; its mode (0622)
// lets a non-root user do that after the privilege drop.
func awaitStart(conn *proto.Conn, fifo int) error {
	if err := conn.Send(proto.Message{Kind: proto.Created}); err != nil {
		return err
	}
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fifo), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open("/proc/self/fd/"+strconv.Itoa(fifo), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	}
	unix.Close(fifo)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte{0}); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	return nil
}
