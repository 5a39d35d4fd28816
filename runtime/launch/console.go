package launch

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// consoleSize fills process.consoleSize from the terminal on our stdin,
// when the container gets a terminal and the spec gives no size: the init
// sets it before the exec, so the command starts with the right size
// instead of 0x0 until the caller's first resize.
func consoleSize(s *specs.Spec, stdin *os.File) {
	if !s.Process.Terminal || s.Process.ConsoleSize != nil || stdin == nil {
		return
	}
	ws, err := unix.IoctlGetWinsize(int(stdin.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row == 0 || ws.Col == 0 {
		return
	}
	s.Process.ConsoleSize = &specs.Box{Height: uint(ws.Row), Width: uint(ws.Col)}
}
