package initproc

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"llcr/runtime/proto"
)

// setupConsole allocates the container's terminal from its own devpts
// instance (so the slave is a /dev/pts/N inside the container), hands the
// master to the parent and binds the slave onto /dev/console.
func (r *rootfs) setupConsole(conn *proto.Conn) (*os.File, error) {
	ptmx, err := r.target("/dev/pts/ptmx", false)
	if err != nil {
		return nil, err
	}
	master, err := reopen(ptmx, unix.O_RDWR|unix.O_NOCTTY)
	ptmx.Close()
	if err != nil {
		return nil, fmt.Errorf("open the container's /dev/pts/ptmx: %w", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	// The size is set before the exec: left to the parent once it has the
	// master, the command's first look (`stty size`, a full-screen program
	// drawing) could still see 0x0.
	if b := r.spec().Process.ConsoleSize; b != nil {
		ws := &unix.Winsize{Row: uint16(b.Height), Col: uint16(b.Width)}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return nil, fmt.Errorf("set the terminal size to %dx%d: %w", b.Width, b.Height, err)
		}
	}
	// TIOCGPTPEER opens the slave through the master, with no path lookup
	// an attacker could redirect (CVE-2025-52565).
	slaveFd, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return nil, fmt.Errorf("open pty slave: %w", errno)
	}
	slave := os.NewFile(slaveFd, "pty-slave")
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("read pty number: %w", err)
	}
	if err := conn.Send(proto.Message{Kind: proto.Pty}, int(master.Fd())); err != nil {
		slave.Close()
		return nil, err
	}
	console, err := r.target("/dev/console", false)
	if err != nil {
		slave.Close()
		return nil, err
	}
	defer console.Close()
	pts := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	if err := unix.Mount(fdPath(slave), fdPath(console), "", unix.MS_BIND, ""); err != nil {
		slave.Close()
		return nil, fmt.Errorf("bind %s onto /dev/console: %w", pts, err)
	}
	return slave, nil
}

// attachConsole makes the slave the controlling terminal of a new session
// and the process's stdio.
func attachConsole(slave *os.File) error {
	defer slave.Close()
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make the pty the controlling terminal: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("connect stdio to the pty: %w", err)
		}
	}
	return nil
}

func reopen(h *os.File, flags int) (*os.File, error) {
	return os.OpenFile(fdPath(h), flags|unix.O_CLOEXEC, 0)
}
