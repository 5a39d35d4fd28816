// Package proto is the parent↔child protocol of a container start: typed
// messages over one SOCK_SEQPACKET socketpair, file descriptors riding along
// as SCM_RIGHTS. The table of steps lives in docs/ARCHITECTURE.md; the order
// of the Kind constants below is the order in which they are exchanged.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Kind names a message. Each is sent by exactly one side.
type Kind string

const (
	// Config (parent → child) is the first message, sent right after the
	// clone: the child prepares its mounts while the parent is still busy
	// with the cgroup. Fds: an idmapped clone of the rootfs and the bind
	// sources (user namespaces only, see InitConfig).
	Config Kind = "config"
	// CgroupReady (parent → child): the child is in its cgroups (on v1 a
	// join after the clone, which waits for an RCU grace period in the
	// kernel). The child waits for it before unsharing its cgroup namespace
	// (whose root must be the container's cgroup) and before anything that
	// could run user code.
	CgroupReady Kind = "cgroup-ready"
	// RuntimeHooks (child → parent, only with InitConfig.RuntimeHooks): the
	// mounts are done and pivot_root is not, which is when the spec runs
	// the prestart and createRuntime hooks in the runtime's namespaces.
	RuntimeHooks Kind = "runtime-hooks"
	// HooksDone (parent → child): the hooks succeeded; the child goes on. A
	// failing hook gets the child killed instead.
	HooksDone Kind = "hooks-done"
	// Pty (child → parent) carries the master of the pty the child allocated
	// in the container's own devpts, so the slave is a /dev/pts/N the
	// container can see. Fds: the master.
	Pty Kind = "pty"
	// Ready (child → parent): mounts, pivot_root and the terminal are done;
	// what remains is the privilege drop and exec, which close the socket.
	Ready Kind = "ready"
	// Created (child → parent, only with InitConfig.ExecFifo): everything
	// up to the exec is done; the child now blocks opening the exec fifo
	// for writing until `start` opens it for reading. The parent's part of
	// the start ends here.
	Created Kind = "created"
	// Error (child → parent): a step failed; the child exits right after.
	Error Kind = "error"
)

// Message is one datagram of the protocol.
type Message struct {
	Kind   Kind        `json:"kind"`
	Config *InitConfig `json:"config,omitempty"`
	Error  *InitError  `json:"error,omitempty"`
}

// InitConfig is everything the child needs besides its inherited fds. The
// container is described by the spec alone; the rest says how the parent
// prepared the host side.
type InitConfig struct {
	ID   string      `json:"id"`
	Spec *specs.Spec `json:"spec"`
	// IdmappedRoot: the attached fd is a detached, idmapped clone of the
	// rootfs to be mounted over Spec.Root.Path instead of a plain bind.
	IdmappedRoot bool `json:"idmappedRoot,omitempty"`
	// BindFds maps an index of Spec.Mounts (a bind) to the index among the
	// message's fds of its source, cloned detached by the parent: in a user
	// namespace the container's root may be refused a host path the
	// runtime can reach (a volume or the state dir below a 0700 directory).
	BindFds map[int]int `json:"bindFds,omitempty"`
	// CgroupNS: unshare the cgroup namespace first (the parent never asks
	// clone for it, so that the namespace is rooted at the container's cgroup).
	CgroupNS bool `json:"cgroupns,omitempty"`
	// UserNS: the child is in a new user namespace (device nodes are bind
	// mounted from the host because mknod is not allowed there).
	UserNS bool `json:"userns,omitempty"`
	// CgroupPaths are the container's host cgroup dirs, for the in-container
	// /sys/fs/cgroup on v1 where a fresh cgroupfs mount is refused.
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// RuntimeHooks: stop after the mounts for the runtime's hooks (see
	// the RuntimeHooks message).
	RuntimeHooks bool `json:"runtimeHooks,omitempty"`
	// ExecFifo: the message's last fd is an O_PATH handle on the exec fifo
	// of `create` (see the Created message).
	ExecFifo bool `json:"execFifo,omitempty"`
}

// InitError is a failed step, with the exit code the runtime should end with.
type InitError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *InitError) Error() string { return e.Message }

// maxMessage bounds one datagram; a spec is a few KiB.
const maxMessage = 1 << 20

// MaxFds is the most fds one message carries (the kernel's SCM_MAX_FD); a
// Config in a user namespace carries one per bind mount.
const MaxFds = 253

// Conn is one end of the socketpair.
type Conn struct {
	fd int
	// buf is allocated once: a fresh megabyte per message made the parent
	// collect garbage in the middle of a start.
	buf []byte
}

// Pair returns the parent's and the child's ends, both close-on-exec (the
// child's is dup'ed onto a fixed fd by exec.Cmd.ExtraFiles, which clears it).
func Pair() (parent, child *Conn, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("create sync socketpair: %w", err)
	}
	return &Conn{fd: fds[0]}, &Conn{fd: fds[1]}, nil
}

// FromFd wraps an inherited fd (the child's end).
func FromFd(fd int) *Conn { return &Conn{fd: fd} }

// Fd is the raw descriptor.
func (c *Conn) Fd() int { return c.fd }

// File hands the descriptor over to an *os.File (for exec.Cmd.ExtraFiles),
// which then owns it: the Conn forgets it, so the fd is closed exactly once.
// Two owners of one fd number would close it twice, the second time under
// whatever file reused the number.
func (c *Conn) File(name string) *os.File {
	f := os.NewFile(uintptr(c.fd), name)
	c.fd = -1
	return f
}

// Close closes the descriptor; closing twice is harmless.
func (c *Conn) Close() error {
	if c.fd < 0 {
		return nil
	}
	err := unix.Close(c.fd)
	c.fd = -1
	return err
}

// Send writes one message with optional fds.
func (c *Conn) Send(m Message, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Kind, err)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for {
		err = unix.Sendmsg(c.fd, b, oob, nil, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("send %s message: %w", m.Kind, err)
	}
	return nil
}

// Recv reads one message. io.EOF means the other side closed its end
// (for the parent after Ready: the child exec'd).
func (c *Conn) Recv() (Message, []int, error) {
	if c.buf == nil {
		c.buf = make([]byte, maxMessage)
	}
	buf := c.buf
	oob := make([]byte, unix.CmsgSpace(4*MaxFds))
	var n, oobn, flags int
	var err error
	for {
		n, oobn, flags, _, err = unix.Recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return Message{}, nil, fmt.Errorf("receive message: %w", err)
	}
	if n == 0 && oobn == 0 {
		return Message{}, nil, io.EOF
	}
	var fds []int
	if oobn > 0 {
		cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return Message{}, nil, fmt.Errorf("parse control message: %w", err)
		}
		for _, cm := range cmsgs {
			got, err := unix.ParseUnixRights(&cm)
			if err == nil {
				fds = append(fds, got...)
			}
		}
	}
	if flags&(unix.MSG_CTRUNC|unix.MSG_TRUNC) != 0 {
		// Lost fds would be silently missing, a cut message undecodable.
		closeAll(fds)
		return Message{}, nil, errors.New("receive message: truncated (too large or too many fds)")
	}
	var m Message
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		closeAll(fds)
		return Message{}, nil, fmt.Errorf("decode message: %w", err)
	}
	return m, fds, nil
}

// Expect reads one message of the given kind, turning an Error message into
// an error and anything else into a protocol error.
func (c *Conn) Expect(k Kind) (Message, []int, error) {
	m, fds, err := c.Recv()
	if err != nil {
		return m, nil, err
	}
	if m.Kind == Error && m.Error != nil {
		closeAll(fds)
		return m, nil, m.Error
	}
	if m.Kind != k {
		closeAll(fds)
		return m, nil, fmt.Errorf("protocol: expected %s message, got %s", k, m.Kind)
	}
	return m, fds, nil
}

// IsEOF reports whether err is the peer closing its end.
func IsEOF(err error) bool { return errors.Is(err, io.EOF) }

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
