package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Options are the seed CLI's flags before they become a spec.
type Options struct {
	ID        string   // already validated by the caller with ValidateID
	Rootfs    string   // as given; FromOptions makes it absolute and checks it is a directory
	Args      []string // command and args; must be non-empty
	Memory    string   // "" = no limit; parsed with ParseSize
	CPUs      string   // "" = no limit; fractional, e.g. "0.5", "1.5"
	PidsLimit int64    // 0 = no limit; negative is an error
	Hostname  string   // "" = the ID
	Env       []string // "K=V"; a bare "K" takes the host's value if set, else is dropped
	Workdir   string   // "" = "/"; must be absolute
	User      string   // "" = root; UID[:GID] or NAME[:GROUP], resolved in the rootfs
	Volumes   []string // HOST:CTR[:ro|rw]
	ReadOnly  bool
	TTY       bool
	// UIDMaps and GIDMaps are "C:H:N" each. Giving either creates a user
	// namespace. When only UIDMaps is given, GIDMaps defaults to the same
	// mappings, which is what one wants for the usual "0:100000:65536".
	UIDMaps []string
	GIDMaps []string
}

const (
	// cpuPeriod is the CFS period the quota is expressed against (100ms,
	// the kernel's and docker's default).
	cpuPeriod = 100000
	// minCPUQuota is the kernel's smallest accepted CFS quota (1ms).
	minCPUQuota = 1000
	// minMemory is docker's floor: below it not even the container's init
	// starts, and the failure would look like a mysterious kill.
	minMemory = 6 << 20
)

// FromOptions builds the spec a docker or podman user would expect from
// the same flags, in the shape of runc's default spec.
func FromOptions(o Options) (*specs.Spec, error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, err
	}
	if len(o.Args) == 0 || o.Args[0] == "" {
		return nil, errors.New("no command given: put the command after --, e.g. container --rootfs ./rootfs -- /bin/sh")
	}
	rootfs, err := checkRootfs(o.Rootfs)
	if err != nil {
		return nil, err
	}
	hostname, err := checkHostname(o.Hostname, o.ID)
	if err != nil {
		return nil, err
	}
	cwd, err := checkWorkdir(o.Workdir)
	if err != nil {
		return nil, err
	}
	resources, err := resourcesFrom(o)
	if err != nil {
		return nil, err
	}
	usr, home, err := ResolveUser(rootfs, o.User)
	if err != nil {
		return nil, forFlag("--user", err)
	}
	uidMaps, gidMaps, err := idMapsFrom(o)
	if err != nil {
		return nil, err
	}
	if uidMaps != nil {
		if usr, err = checkMapped(o.User, usr, uidMaps, gidMaps); err != nil {
			return nil, err
		}
	}
	env, err := environment(o.Env, home, hostname, o.TTY, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	mounts := defaultMounts()
	for _, v := range o.Volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return nil, forFlag("--volume", err)
		}
		mounts = append(mounts, m)
	}

	namespaces := defaultNamespaces()
	if uidMaps != nil {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: rootfs, Readonly: o.ReadOnly},
		Process: &specs.Process{
			Terminal:        o.TTY,
			User:            usr,
			Args:            append([]string(nil), o.Args...),
			Env:             env,
			Cwd:             cwd,
			Capabilities:    capabilities(dockerCapabilities),
			NoNewPrivileges: true,
			Rlimits:         defaultRlimits(),
		},
		Hostname: hostname,
		Mounts:   mounts,
		Linux: &specs.Linux{
			Namespaces:        namespaces,
			UIDMappings:       uidMaps,
			GIDMappings:       gidMaps,
			Resources:         resources,
			MaskedPaths:       defaultMaskedPaths(),
			ReadonlyPaths:     defaultReadonlyPaths(),
			RootfsPropagation: "rprivate",
		},
	}, nil
}

const rootfsHint = "pass --rootfs pointing at a directory with the container's files"

func checkRootfs(path string) (string, error) {
	if path == "" {
		return "", errors.New("no --rootfs given: " + rootfsHint)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("make rootfs %q absolute: %w", path, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("rootfs %s does not exist: create it or %s", abs, rootfsHint)
	case err != nil:
		return "", fmt.Errorf("check rootfs %s: %w", abs, err)
	case !st.IsDir():
		return "", fmt.Errorf("rootfs %s is not a directory: %s", abs, rootfsHint)
	}
	return abs, nil
}

func checkHostname(h, id string) (string, error) {
	if h == "" {
		return id, nil
	}
	// The kernel's limit (HOST_NAME_MAX); it would fail sethostname later.
	if len(h) > 64 {
		return "", invalid("--hostname", h, "a hostname is at most 64 characters")
	}
	if strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }) {
		return "", invalid("--hostname", h, "a hostname has no spaces, slashes or control characters")
	}
	return h, nil
}

func checkWorkdir(w string) (string, error) {
	if w == "" {
		return "/", nil
	}
	if !filepath.IsAbs(w) {
		return "", invalid("--workdir", w, "the working directory must be an absolute path inside the container, e.g. /"+strings.TrimLeft(w, "./"))
	}
	return filepath.Clean(w), nil
}

func resourcesFrom(o Options) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{Devices: defaultDevices()}
	if o.Memory != "" {
		limit, err := ParseSize(o.Memory)
		if err != nil {
			return nil, forFlag("--memory", err)
		}
		if limit < minMemory {
			return nil, invalid("--memory", o.Memory, "the smallest memory limit is "+FormatSize(minMemory))
		}
		// Swap equal to the limit means "no swap on top": the limit holds.
		swap := limit
		r.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &swap}
	}
	if o.CPUs != "" {
		quota, err := parseCPUs(o.CPUs)
		if err != nil {
			return nil, err
		}
		period := uint64(cpuPeriod)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	switch {
	case o.PidsLimit < 0:
		return nil, invalid("--pids-limit", strconv.FormatInt(o.PidsLimit, 10), "want a positive number of processes, or 0 for no limit")
	case o.PidsLimit > 0:
		limit := o.PidsLimit
		r.Pids = &specs.LinuxPids{Limit: &limit}
	}
	return r, nil
}

var cpusRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]{1,7})(?:\.([0-9]+))?$`) })

// parseCPUs turns "1.5" into a CFS quota per cpuPeriod, exactly (no float
// rounding), dropping digits below the period's resolution.
func parseCPUs(s string) (int64, error) {
	const want = "want a number of CPUs such as 0.5, 1 or 1.5"
	m := cpusRE().FindStringSubmatch(s)
	if m == nil {
		return 0, invalid("--cpus", s, want)
	}
	whole, _ := strconv.ParseInt(m[1], 10, 64) // at most 7 digits: cannot fail
	frac := (m[2] + "00000")[:5]               // cpuPeriod has 5 zeros
	part, _ := strconv.ParseInt(frac, 10, 64)
	quota := whole*cpuPeriod + part
	if quota < minCPUQuota {
		return 0, invalid("--cpus", s, "the smallest CPU limit is 0.01")
	}
	return quota, nil
}

func idMapsFrom(o Options) (uid, gid []specs.LinuxIDMapping, err error) {
	if len(o.UIDMaps) == 0 {
		if len(o.GIDMaps) != 0 {
			return nil, nil, errors.New("--gid-map needs --uid-map too: a user namespace needs both; give --uid-map (the gid map defaults to it)")
		}
		return nil, nil, nil
	}
	if uid, err = parseIDMaps("--uid-map", o.UIDMaps); err != nil {
		return nil, nil, err
	}
	gidFlag, gidSpecs := "--gid-map", o.GIDMaps
	if len(gidSpecs) == 0 {
		gidFlag, gidSpecs = "--uid-map", o.UIDMaps
	}
	if gid, err = parseIDMaps(gidFlag, gidSpecs); err != nil {
		return nil, nil, err
	}
	return uid, gid, nil
}

// checkMapped makes sure the process's uid and gid exist in the user
// namespace: the kernel would refuse setuid/setgid to an unmapped id deep
// inside container start-up with a bare EINVAL. Supplementary groups that
// are not mapped are dropped instead, since they come implicitly from the
// image's /etc/group rather than from the user.
func checkMapped(spec string, u specs.User, uidMaps, gidMaps []specs.LinuxIDMapping) (specs.User, error) {
	if spec == "" {
		spec = "root"
	}
	if !mapped(u.UID, uidMaps) {
		return u, fmt.Errorf("--user %s runs as uid %d, which the user namespace's uid map %s does not map: add a --uid-map covering it or choose another --user", spec, u.UID, formatIDMaps(uidMaps))
	}
	if !mapped(u.GID, gidMaps) {
		return u, fmt.Errorf("--user %s runs as gid %d, which the user namespace's gid map %s does not map: add a --gid-map covering it or choose another --user", spec, u.GID, formatIDMaps(gidMaps))
	}
	var kept []uint32
	for _, g := range u.AdditionalGids {
		if mapped(g, gidMaps) {
			kept = append(kept, g)
		}
	}
	u.AdditionalGids = kept
	return u, nil
}

// environment builds a clean environment: nothing leaks from the host
// except variables the user names explicitly with a bare -e KEY.
func environment(vars []string, home, hostname string, tty bool, lookup func(string) (string, bool)) ([]string, error) {
	env := []string{defaultPath, "HOME=" + home, "HOSTNAME=" + hostname}
	if tty {
		env = append(env, "TERM=xterm")
	}
	index := make(map[string]int, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, e := range vars {
		k, v, hasValue := strings.Cut(e, "=")
		if k == "" || strings.ContainsAny(k, "\x00") || strings.ContainsRune(v, 0) {
			return nil, invalid("--env", e, "want KEY=VALUE, or KEY to pass the host's value")
		}
		if !hasValue {
			hv, ok := lookup(k)
			if !ok {
				continue // docker drops a bare KEY the host does not have
			}
			v = hv
		}
		kv := k + "=" + v
		if i, ok := index[k]; ok {
			env[i] = kv
			continue
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	return env, nil
}
