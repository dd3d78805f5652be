package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newSandbox(t *testing.T) *Sandbox {
	t.Helper()
	s, err := New(context.Background(), Options{Getenv: os.Getenv})
	if errors.Is(err, ErrNoPython) {
		t.Skipf("no python3: %v", err)
	}
	if errors.Is(err, ErrNoIsolation) {
		// Every behaviour but the network's is still checked unsandboxed.
		s, err = New(context.Background(), Options{Getenv: os.Getenv, AllowUnsandboxed: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestContainment runs one hostile or limited program per row.
func TestContainment(t *testing.T) {
	s := newSandbox(t)
	outside := filepath.Join(t.TempDir(), "keep.txt")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(outside), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPENAI_API_KEY", "sk-test-secret-never-seen")
	tests := []struct {
		name string
		code string
		spec Spec
		// want checks the result.
		want func(t *testing.T, r Result)
	}{
		{name: "passing test", code: "assert 1 + 1 == 2\n", want: func(t *testing.T, r Result) {
			if !r.Passed || r.ExitCode != 0 {
				t.Errorf("want passed, got %+v", r)
			}
		}},
		{name: "failing assertion", code: "assert 1 == 2\n", want: func(t *testing.T, r Result) {
			if r.Passed || r.ExitCode != 1 || !strings.Contains(r.Stderr, "AssertionError") {
				t.Errorf("want an AssertionError exit 1, got %+v", r)
			}
		}},
		{name: "sleeper killed at the timeout", code: "import time\ntime.sleep(60)\n", spec: Spec{Timeout: time.Second}, want: func(t *testing.T, r Result) {
			if r.Passed || !r.TimedOut || !r.Killed {
				t.Errorf("want timed out and killed, got %+v", r)
			}
			if r.Duration > 10*time.Second {
				t.Errorf("the sleeper ran %s past a 1s timeout", r.Duration)
			}
		}},
		{name: "stdin reader gets EOF", code: "x = input('enter a number')\n", spec: Spec{Timeout: 20 * time.Second}, want: func(t *testing.T, r Result) {
			if r.Passed || r.TimedOut || !strings.Contains(r.Stderr, "EOFError") {
				t.Errorf("want EOFError without a timeout, got %+v", r)
			}
		}},
		{name: "early exit(0) without the marker fails", code: "import os\nos._exit(0)\nprint('MARK')\n", spec: Spec{PassMarker: "MARK"}, want: func(t *testing.T, r Result) {
			if r.Passed || r.ExitCode != 0 {
				t.Errorf("want exit 0 but not passed, got %+v", r)
			}
		}},
		{name: "marker printed after the test passes", code: "assert True\nprint('MARK')\n", spec: Spec{PassMarker: "MARK"}, want: func(t *testing.T, r Result) {
			if !r.Passed {
				t.Errorf("want passed, got %+v", r)
			}
		}},
		{name: "fork loop dies", code: "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", spec: Spec{Timeout: 2 * time.Second, Procs: 16}, want: func(t *testing.T, r Result) {
			if r.Passed || r.Duration > 15*time.Second {
				t.Errorf("want the fork loop stopped near its timeout, got %+v", r)
			}
		}},
		{name: "memory limit", code: "b = bytearray(1 << 30)\n", spec: Spec{Memory: 256 << 20}, want: func(t *testing.T, r Result) {
			if r.Passed || !strings.Contains(r.Stderr, "MemoryError") {
				t.Errorf("want MemoryError, got %+v", r)
			}
		}},
		{name: "file size limit", code: "open('big', 'wb').write(b'x' * (4 << 20))\n", spec: Spec{FileSize: 1 << 20}, want: func(t *testing.T, r Result) {
			if r.Passed || !strings.Contains(r.Stderr, "File too large") {
				t.Errorf("want EFBIG, got %+v", r)
			}
		}},
		{name: "cpu limit", code: "while True:\n    pass\n", spec: Spec{Timeout: 30 * time.Second, CPU: time.Second}, want: func(t *testing.T, r Result) {
			if r.Passed || r.TimedOut || !r.Killed {
				t.Errorf("want killed by the CPU limit before the wall clock, got %+v", r)
			}
		}},
		{name: "open files limit", code: "fs = [open('/dev/null') for _ in range(200)]\n", spec: Spec{Files: 32}, want: func(t *testing.T, r Result) {
			if r.Passed || !strings.Contains(r.Stderr, "Too many open files") {
				t.Errorf("want EMFILE, got %+v", r)
			}
		}},
		{name: "environment scrubbed, home inside the work dir", code: "import os\nprint(sorted(os.environ.items()))\nprint('CWD', os.getcwd())\nassert os.environ['HOME'] == os.getcwd()\nassert os.environ['TMPDIR'].startswith(os.getcwd())\n", want: func(t *testing.T, r Result) {
			if !r.Passed || strings.Contains(r.Stdout, "sk-test-secret") || strings.Contains(r.Stdout, "OPENAI_API_KEY") {
				t.Errorf("want a scrubbed environment, got %+v", r)
			}
		}},
		{name: "files outside the work dir survive", code: fmt.Sprintf("import os, shutil, subprocess\nsubprocess.run(['rm', '-rf', %q])\ntry:\n    os.remove(%q)\nexcept OSError as e:\n    print(e)\nshutil.rmtree(%q, ignore_errors=True)\nsubprocess.check_output('rm -rf tmp', shell=True)\n", outside, outside, filepath.Dir(outside)), want: func(t *testing.T, r Result) {
			if os.Getuid() != 0 && !s.ReadOnly() {
				t.Skip("unprivileged without a mount namespace: the code runs as this user and can delete what this user can (docs/sandbox.md)")
			}
			if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
				t.Errorf("a file outside the work dir was touched: %v %q; result %+v", err, b, r)
			}
		}},
	}
	// A directory anyone may write: only the read-only mount keeps the
	// code out of it.
	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(open), 0o755)
	tests = append(tests, struct {
		name string
		code string
		spec Spec
		want func(t *testing.T, r Result)
	}{name: "filesystem read-only outside the work dir", code: fmt.Sprintf("open(%q, 'w').write('x')\n", filepath.Join(open, "new")), want: func(t *testing.T, r Result) {
		if !s.ReadOnly() {
			t.Skip("no mount namespace here (docs/sandbox.md)")
		}
		if r.Passed || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Errorf("want EROFS, got %+v", r)
		}
		if _, err := os.Stat(filepath.Join(open, "new")); err == nil {
			t.Error("the code wrote outside its work dir")
		}
	}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Program = []byte(tc.code)
			r, err := s.Run(context.Background(), tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, r)
		})
	}
}

// TestDaemonChildDies: a child that leaves the process group (setsid) is
// still gone when Run returns, in a PID namespace.
func TestDaemonChildDies(t *testing.T) {
	s := newSandbox(t)
	if !s.Isolated() {
		t.Skip("no PID namespace: a setsid child can outlive the run (docs/sandbox.md)")
	}
	token := fmt.Sprintf("tunecheck-daemon-%d", time.Now().UnixNano())
	code := fmt.Sprintf("import os, sys, time\npid = os.fork()\nif pid == 0:\n    os.setsid()\n    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', %q])\ntime.sleep(1)\nos.kill(pid, 0)\nprint('ALIVE')\n", token)
	r, err := s.Run(context.Background(), Spec{Program: []byte(code), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.TimedOut || !strings.Contains(r.Stdout, "ALIVE") {
		t.Fatalf("the parent should see its daemon alive, then end on its own: %+v", r)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if !procWithArg(token) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemonised child outlived the run")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func procWithArg(arg string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), arg) && !strings.Contains(string(b), "-test.") {
			return true
		}
	}
	return false
}

// TestNoNetwork: a connection to a listener on this host's loopback fails,
// and the listener sees nothing.
func TestNoNetwork(t *testing.T) {
	s := newSandbox(t)
	if !s.Isolated() {
		t.Skip("no network namespace on this machine: New refuses without AllowUnsandboxed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			got <- struct{}{}
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	code := fmt.Sprintf("import socket\ns = socket.create_connection(('127.0.0.1', %d), timeout=3)\nprint('CONNECTED')\n", port)
	r, err := s.Run(context.Background(), Spec{Program: []byte(code), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Passed || strings.Contains(r.Stdout, "CONNECTED") {
		t.Fatalf("the code reached the host's loopback: %+v", r)
	}
	select {
	case <-got:
		t.Fatal("the listener accepted a connection from the sandbox")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestWorkDirRemoved: the directory goes even when the code locks it.
func TestWorkDirRemoved(t *testing.T) {
	s := newSandbox(t)
	code := "import os\nos.makedirs('d/e')\nopen('d/e/f', 'w').write('x')\nos.chmod('d/e', 0)\nos.chmod('d', 0)\nprint(os.getcwd())\n"
	r, err := s.Run(context.Background(), Spec{Program: []byte(code)})
	if err != nil || !r.Passed {
		t.Fatalf("%v %+v", err, r)
	}
	dir := strings.TrimSpace(r.Stdout)
	if !strings.Contains(dir, "tunecheck-exec-") {
		t.Fatalf("unexpected work dir %q", dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("work dir %s is still there: %v", dir, err)
	}
}

func TestNoPython(t *testing.T) {
	_, err := New(context.Background(), Options{Python: filepath.Join(t.TempDir(), "python3")})
	if !errors.Is(err, ErrNoPython) {
		t.Fatalf("want ErrNoPython, got %v", err)
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 4}
	for _, s := range []string{"ab", "cdef", "ghij"} {
		tl.Write([]byte(s))
	}
	if got := tl.String(); got != "…ghij" {
		t.Fatalf("tail = %q", got)
	}
	short := &tail{max: 8}
	short.Write([]byte("abc"))
	if got := short.String(); got != "abc" {
		t.Fatalf("short tail = %q", got)
	}
}

// TestModes: the weaker modes New falls back to (namespaces without the
// read-only filesystem; no namespaces under AllowUnsandboxed) still pass,
// fail, time out and stop fork loops.
func TestModes(t *testing.T) {
	best := newSandbox(t)
	modes := map[string]*Sandbox{"unsandboxed": {python: best.python, tempDir: best.tempDir, uid: best.uid, gid: best.gid}}
	if best.isolated {
		iso := *best
		iso.readOnly = false
		modes["namespaces without read-only"] = &iso
	}
	for name, s := range modes {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				code   string
				spec   Spec
				passed bool
			}{
				{"assert 1 == 1\n", Spec{}, true},
				{"assert 1 == 2\n", Spec{}, false},
				{"import time\ntime.sleep(30)\n", Spec{Timeout: time.Second}, false},
				{"import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", Spec{Timeout: time.Second, Procs: 8}, false},
				{"import os\nassert 'OPENAI_API_KEY' not in os.environ\nopen('x', 'w').write('ok')\n", Spec{}, true},
			} {
				t.Setenv("OPENAI_API_KEY", "sk-test")
				c.spec.Program = []byte(c.code)
				r, err := s.Run(context.Background(), c.spec)
				if err != nil {
					t.Fatal(err)
				}
				if r.Passed != c.passed || r.Duration > 20*time.Second {
					t.Errorf("%q: %+v", c.code, r)
				}
			}
		})
	}
}

// TestParentDeath: when tunecheck is killed mid-run, its program dies too
// (Pdeathsig). The test binary re-runs itself as the dying parent.
func TestParentDeath(t *testing.T) {
	if token := os.Getenv("TUNECHECK_SANDBOX_PARENT"); token != "" {
		s, err := New(context.Background(), Options{Getenv: os.Getenv, AllowUnsandboxed: true})
		if err != nil {
			os.Exit(3)
		}
		code := fmt.Sprintf("import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', %q])\n", token)
		s.Run(context.Background(), Spec{Program: []byte(code), Timeout: 5 * time.Minute})
		os.Exit(0)
	}
	newSandbox(t)
	token := fmt.Sprintf("tunecheck-orphan-%d", time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "-test.run=^TestParentDeath$")
	cmd.Env = append(os.Environ(), "TUNECHECK_SANDBOX_PARENT="+token)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !procWithArg(token) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the program never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for procWithArg(token) {
		if time.Now().After(deadline) {
			t.Fatal("the program outlived its killed parent")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
