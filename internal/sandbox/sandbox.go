// Package sandbox runs untrusted generated code (HumanEval completions) in
// a separate, limited, disposable process: the execute stage's runtime
// (docs/sandbox.md has the threat model).
//
// Each Run writes the program into a fresh temporary directory, starts
// python3 there with an empty environment apart from PATH, HOME and TMPDIR
// (which point into that directory), stdin on /dev/null, and
//
//   - new user, network and PID namespaces (Linux clone flags through
//     os/exec's SysProcAttr, no helper binary): the network namespace holds
//     only a loopback device that is down, so no connection leaves it, and
//     when the program's first process ends the kernel kills every process
//     left in its PID namespace (fork loops and daemonised children die);
//   - a new mount namespace in which every mount is read-only but a bind
//     mount of the work directory (where the kernel has mount_setattr,
//     5.12+), so the code cannot write or delete anything outside it; the
//     code is root of its user namespace with every capability locked out
//     (securebits NOROOT, no_new_privs), so it cannot remount;
//   - when tunecheck runs as root, host uid/gid 65534 (nobody) for the code,
//     so even without the mount namespace it cannot write or delete files it
//     does not own;
//   - rlimits on CPU seconds, address space, file size, processes and open
//     files;
//   - its own process group, killed as a whole with SIGKILL at the
//     wall-clock timeout;
//
// and removes the directory afterwards, whatever the code did to it.
//
// Rlimits are set by a few lines of Python that run first in the child and
// then exec the interpreter on the program: Go's os/exec cannot set rlimits
// on one child, and of the alternatives a prlimit(1) wrapper adds a
// util-linux dependency that minimal images lack, and a re-exec of our own
// binary needs a hook in every main and test binary. python3 is needed
// anyway, and exec keeps the limits (hard ones cannot be raised again).
//
// New picks the strongest mode that works here, checked by running a probe:
// all of the above; the namespaces without the read-only filesystem; and,
// only with Options.AllowUnsandboxed, no namespaces (same limits, process
// group, directory and identity, but the host's network). Where no
// namespace can be made (unprivileged user namespaces disabled, some
// container runtimes) it refuses otherwise.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spec is one program to run and its limits; zero limits take the defaults.
type Spec struct {
	Program []byte
	// Timeout is the wall-clock limit (default 10s).
	Timeout time.Duration
	// CPU is the CPU-time limit, rounded up to whole seconds (default Timeout).
	CPU time.Duration
	// Memory is the address-space limit in bytes (default 2 GiB).
	Memory int64
	// FileSize is the largest file the code may write, in bytes (default 16 MiB).
	FileSize int64
	// Procs is the process limit (default 32).
	Procs int
	// Files is the open-file limit (default 64).
	Files int
	// PassMarker, when set, must end the program's stdout for it to pass: the
	// harness prints it after the test, so code that exits 0 before the test
	// ran (exit(), os._exit(0)) does not pass.
	PassMarker string
}

// Defaults are the limits a zero Spec field takes.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMemory   = 2 << 30
	DefaultFileSize = 16 << 20
	DefaultProcs    = 32
	DefaultFiles    = 64
)

// Result is how a program ended. A program that ran and failed is a
// Result, never an error: errors are reserved for the sandbox itself.
type Result struct {
	Passed   bool
	ExitCode int // -1 when killed by a signal
	TimedOut bool
	// Killed is true when a signal ended the program (the timeout's SIGKILL,
	// SIGXCPU at the CPU limit, …); Signal names it.
	Killed   bool
	Signal   string
	Stdout   string // the last TailBytes of each stream
	Stderr   string
	Duration time.Duration
}

// TailBytes is how much of each output stream a Result keeps.
const TailBytes = 2048

// Options configure a Sandbox.
type Options struct {
	// Python is the interpreter; empty tries python3 from PATH, then
	// /usr/bin/python3 and /usr/local/bin/python3.
	Python string
	// AllowUnsandboxed runs code without namespaces when they cannot be made.
	AllowUnsandboxed bool
	// TempDir holds the per-run directories (default os.TempDir()).
	TempDir string
	// Getenv finds python3 on the caller's PATH (nil: no PATH lookup).
	Getenv func(string) string
}

// Sandbox runs programs; safe for concurrent use.
type Sandbox struct {
	python   string
	isolated bool
	// readOnly: the code sees the filesystem read-only but for its work
	// directory (a mount namespace; needs isolated).
	readOnly bool
	tempDir  string
	// uid/gid the code runs as (-1: tunecheck's own).
	uid, gid int
}

// ErrNoPython and ErrNoIsolation are what New returns when the sandbox
// cannot be made; both are wrapped with what was tried and what to do.
var (
	ErrNoPython    = errors.New("python3 is not installed or does not run")
	ErrNoIsolation = errors.New("cannot create a network namespace for the code")
)

// nobody is the uid and gid code runs as when tunecheck runs as root.
const nobody = 65534

// New finds the interpreter and checks, by running an empty program, that
// the code can be isolated (or that AllowUnsandboxed permits otherwise).
func New(ctx context.Context, o Options) (*Sandbox, error) {
	if !supported {
		return nil, fmt.Errorf("%w: the sandbox is built on Linux namespaces, process groups and rlimits; run code tasks on Linux (a container or a CI runner)", ErrNoIsolation)
	}
	s := &Sandbox{tempDir: o.TempDir, uid: -1, gid: -1}
	if s.tempDir == "" {
		s.tempDir = os.TempDir()
	}
	if os.Geteuid() == 0 {
		s.uid, s.gid = nobody, nobody
	}
	cands := candidates(ctx, o)
	if len(cands) == 0 {
		return nil, fmt.Errorf("%w: no python3 found (tried PATH, /usr/bin/python3, /usr/local/bin/python3); install Python 3 or set sandbox.python", ErrNoPython)
	}
	var isoErr, runErr error
	for _, py := range cands {
		// Best first: a read-only filesystem; else the namespaces without it.
		s.python, s.isolated, s.readOnly = py, true, true
		r, err := s.Run(ctx, Spec{Program: []byte(readOnlyProbe), Timeout: 20 * time.Second})
		if err == nil && r.Passed {
			return s, nil
		}
		s.readOnly = false
		r, err = s.Run(ctx, Spec{Program: []byte("import sys\nsys.exit(0)\n"), Timeout: 20 * time.Second})
		if err == nil && r.Passed {
			return s, nil
		}
		if err != nil {
			isoErr = err
		} else {
			runErr = fmt.Errorf("%s in the sandbox exited %d: %s", py, r.ExitCode, strings.TrimSpace(r.Stderr))
		}
	}
	if runErr != nil {
		return nil, fmt.Errorf("%w: %v; a root-run tunecheck runs code as uid %d, which must be able to run the interpreter (set sandbox.python to a system python3 such as /usr/bin/python3)", ErrNoPython, runErr, nobody)
	}
	if !o.AllowUnsandboxed {
		return nil, fmt.Errorf("%w (%v): allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0, or a container run with a seccomp profile that permits clone(CLONE_NEWUSER)), or pass --allow-unsandboxed to run the code with the host's network", ErrNoIsolation, isoErr)
	}
	for _, py := range cands {
		s.python, s.isolated = py, false
		r, err := s.Run(ctx, Spec{Program: []byte("import sys\nsys.exit(0)\n"), Timeout: 20 * time.Second})
		if err == nil && r.Passed {
			return s, nil
		}
		if err != nil {
			runErr = err
		} else {
			runErr = fmt.Errorf("%s exited %d: %s", py, r.ExitCode, strings.TrimSpace(r.Stderr))
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrNoPython, runErr)
}

// candidates lists interpreters to try, resolved to real paths (a pyenv
// shim needs the environment the sandbox takes away).
func candidates(ctx context.Context, o Options) []string {
	var names []string
	if o.Python != "" {
		names = []string{o.Python}
	} else {
		if o.Getenv != nil {
			// The first python3 on PATH, as a shell would run it.
			for _, dir := range filepath.SplitList(o.Getenv("PATH")) {
				if p := filepath.Join(dir, "python3"); dir != "" && executable(p) {
					names = append(names, p)
					break
				}
			}
		}
		names = append(names, "/usr/bin/python3", "/usr/local/bin/python3")
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !executable(n) {
			continue
		}
		exe := n
		cmd := exec.CommandContext(ctx, n, "-c", "import sys; print(sys.executable)")
		if o.Getenv != nil {
			cmd.Env = []string{"PATH=" + o.Getenv("PATH"), "HOME=" + o.Getenv("HOME"), "PYENV_ROOT=" + o.Getenv("PYENV_ROOT")}
		}
		if b, err := cmd.Output(); err == nil && strings.TrimSpace(string(b)) != "" {
			exe = strings.TrimSpace(string(b))
		} else if err != nil {
			continue
		}
		if !seen[exe] {
			seen[exe] = true
			out = append(out, exe)
		}
	}
	return out
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Isolated reports whether code runs in its own namespaces.
func (s *Sandbox) Isolated() bool { return s.isolated }

// ReadOnly reports whether code sees the filesystem read-only outside its
// work directory.
func (s *Sandbox) ReadOnly() bool { return s.readOnly }

// readOnlyProbe passes only where the read-only mode works as meant.
const readOnlyProbe = `import os
assert os.statvfs("/").f_flag & os.ST_RDONLY, "/ is writable"
open("probe", "w").write("x")
`

// Python is the interpreter the sandbox runs.
func (s *Sandbox) Python() string { return s.python }

// bootstrap runs first in the child: in read-only mode (argv[6] = "1",
// running as root of its own user and mount namespaces) it makes every
// mount read-only (mount_setattr, Linux 5.12+) but a bind mount of the work
// directory (argv[7]), and locks out root's capabilities for what it execs
// (securebits NOROOT, no_new_privs); then it sets the limits given as
// arguments and replaces itself with the interpreter running the program
// (argv[8]; isolated mode, no bytecode files). Exit status 125 is its own.
const bootstrap = `import os, resource, sys
a = [int(x) for x in sys.argv[1:6]]
if sys.argv[6] == "1":
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    def ok(r, what):
        if r != 0:
            sys.stderr.write("sandbox: %s: %s\n" % (what, os.strerror(ctypes.get_errno())))
            os._exit(125)
    class Attr(ctypes.Structure):
        _fields_ = [("set", ctypes.c_uint64), ("clr", ctypes.c_uint64), ("prop", ctypes.c_uint64), ("fd", ctypes.c_uint64)]
    def setattr_(path, flags, st, clr):
        at = Attr(st, clr, 0, 0)
        return libc.syscall(ctypes.c_long(442), ctypes.c_int(-100), ctypes.c_char_p(path), ctypes.c_uint(flags), ctypes.byref(at), ctypes.c_size_t(ctypes.sizeof(at)))
    w = sys.argv[7].encode()
    ok(libc.mount(b"none", b"/", None, ctypes.c_ulong(0x4000 | 0x40000), None), "making mounts private")
    ok(libc.mount(w, w, None, ctypes.c_ulong(0x1000 | 0x4000), None), "binding the work directory")
    ok(setattr_(b"/", 0x8000, 1, 0), "making the filesystem read-only")
    ok(setattr_(w, 0, 0, 1), "making the work directory writable")
    ok(libc.prctl(28, ctypes.c_ulong(0x3), 0, 0, 0), "dropping root's capabilities")
    ok(libc.prctl(38, ctypes.c_ulong(1), 0, 0, 0), "setting no_new_privs")
    os.chdir(sys.argv[7])  # onto the writable bind mount
for r, v in ((resource.RLIMIT_CPU, a[0]), (resource.RLIMIT_AS, a[1]), (resource.RLIMIT_FSIZE, a[2]), (resource.RLIMIT_NPROC, a[3]), (resource.RLIMIT_NOFILE, a[4])):
    hard = v + 1 if r == resource.RLIMIT_CPU else v
    resource.setrlimit(r, (v, hard))
os.execv(sys.executable, [sys.executable, "-I", "-B", sys.argv[8]])
`

// Run runs one program. The error is non-nil only when the sandbox could
// not run it (no directory, the process did not start); the program's own
// failure, timeout or crash is in the Result.
func (s *Sandbox) Run(ctx context.Context, sp Spec) (Result, error) {
	if sp.Timeout <= 0 {
		sp.Timeout = DefaultTimeout
	}
	if sp.CPU <= 0 {
		sp.CPU = sp.Timeout
	}
	if sp.Memory <= 0 {
		sp.Memory = DefaultMemory
	}
	if sp.FileSize <= 0 {
		sp.FileSize = DefaultFileSize
	}
	if sp.Procs <= 0 {
		sp.Procs = DefaultProcs
	}
	if sp.Files <= 0 {
		sp.Files = DefaultFiles
	}
	dir, err := os.MkdirTemp(s.tempDir, "tunecheck-exec-")
	if err != nil {
		return Result{}, fmt.Errorf("sandbox: making the work directory: %w", err)
	}
	defer removeAll(dir)
	if s.uid >= 0 {
		if err := os.Chown(dir, s.uid, s.gid); err != nil {
			return Result{}, fmt.Errorf("sandbox: handing the work directory to uid %d: %w", s.uid, err)
		}
	}
	prog := filepath.Join(dir, "program.py")
	if err := os.WriteFile(prog, sp.Program, 0o644); err != nil {
		return Result{}, fmt.Errorf("sandbox: writing the program: %w", err)
	}
	procs := sp.Procs
	if !s.isolated && s.uid < 0 {
		// Without a user namespace RLIMIT_NPROC counts every process of
		// the user, not only the code's.
		procs += userProcs(os.Getuid())
	}
	cpu := int64((sp.CPU + time.Second - 1) / time.Second)
	ro := "0"
	if s.readOnly {
		ro = "1"
	}
	args := []string{"-I", "-S", "-c", bootstrap,
		strconv.FormatInt(cpu, 10), strconv.FormatInt(sp.Memory, 10), strconv.FormatInt(sp.FileSize, 10),
		strconv.Itoa(procs), strconv.Itoa(sp.Files), ro, dir, prog}

	rctx, cancel := context.WithTimeout(ctx, sp.Timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, s.python, args...)
	cmd.Dir = dir
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o777); err != nil {
		return Result{}, fmt.Errorf("sandbox: %w", err)
	}
	if s.uid >= 0 {
		if err := os.Chown(tmp, s.uid, s.gid); err != nil {
			return Result{}, fmt.Errorf("sandbox: %w", err)
		}
	}
	cmd.Env = []string{"PATH=" + filepath.Dir(s.python) + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + tmp,
		"LANG=C.UTF-8", "PYTHONHASHSEED=0"}
	stdout, stderr := &tail{max: TailBytes}, &tail{max: TailBytes}
	cmd.Stdin = nil // /dev/null: a read gets EOF
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = s.procAttr()
	cmd.Cancel = func() error {
		// The whole group: children that did not leave it die too.
		if cmd.Process == nil {
			return nil
		}
		killGroup(cmd.Process.Pid)
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if s.isolated {
			return Result{}, fmt.Errorf("sandbox: starting %s in new namespaces: %w", s.python, err)
		}
		return Result{}, fmt.Errorf("sandbox: starting %s: %w", s.python, err)
	}
	pid := cmd.Process.Pid
	werr := cmd.Wait()
	// Whatever is left of the group goes, timeout or not.
	killGroup(pid)
	res := Result{Duration: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	res.TimedOut = rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	var ee *exec.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
	case errors.Is(werr, exec.ErrWaitDelay):
	default:
		return res, fmt.Errorf("sandbox: waiting for the program: %w", werr)
	}
	st := cmd.ProcessState
	res.ExitCode = st.ExitCode()
	res.Killed, res.Signal = signaled(st)
	res.Passed = res.ExitCode == 0 && !res.TimedOut && !res.Killed
	if res.Passed && sp.PassMarker != "" {
		res.Passed = strings.HasSuffix(strings.TrimRight(res.Stdout, "\n"), sp.PassMarker)
	}
	return res, nil
}

// userProcs counts the processes of uid (for RLIMIT_NPROC outside a user
// namespace).
func userProcs(uid int) int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	want := "Uid:\t" + strconv.Itoa(uid) + "\t"
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err == nil && bytes.Contains(b, []byte(want)) {
			n++
		}
	}
	return n
}

// removeAll removes dir even when the code took permissions off its
// entries.
func removeAll(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
		t.cut = true
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b, t.cut = b[len(b)-t.max:], true
	}
	if t.cut {
		return "…" + string(b)
	}
	return string(b)
}
