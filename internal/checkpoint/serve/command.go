package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/checkpoint"
)

// Command starts one server process per checkpoint from a template, waits
// until it answers, and stops it after the run.
//
// The template is a shell command line with placeholders, each replaced by
// a shell-quoted value: {checkpoint} (the checkpoint folder), {base} (the
// base model path, --base), {port} (a free TCP port on 127.0.0.1) and {step}.
// The process runs in a process group of its own, so that stopping it stops
// what it started (a wrapper script, vLLM's workers); SIGTERM first, SIGKILL
// after Grace.
type Command struct {
	Template string
	Base     string
	// LogDir receives serve-step<N>.log, the process's stdout and stderr.
	LogDir string
	// Ready is how long to wait for the server to answer (default 10m:
	// loading a large model takes minutes).
	Ready time.Duration
	// Grace is how long SIGTERM has before SIGKILL (default 10s).
	Grace time.Duration
	// Shell runs the command line (default /bin/sh -c).
	Shell  []string
	Client *http.Client
	// Env is the process's environment (nil: tunecheck's).
	Env []string
}

// Mode implements Server.
func (Command) Mode() string { return "cmd" }

// Placeholders are the names a --serve-cmd template may use.
var Placeholders = []string{"{base}", "{checkpoint}", "{port}", "{step}"}

// CheckTemplate says what is wrong with a template before anything starts.
func CheckTemplate(tmpl, base string) error {
	if strings.TrimSpace(tmpl) == "" {
		return errors.New("--serve-cmd is empty")
	}
	if !strings.Contains(tmpl, "{port}") {
		return errors.New("--serve-cmd has no {port}: tunecheck picks a free port and must tell the server to listen on it")
	}
	if strings.Contains(tmpl, "{base}") && base == "" {
		return errors.New("--serve-cmd uses {base} but --base is not set")
	}
	rest := tmpl
	for _, p := range Placeholders {
		rest = strings.ReplaceAll(rest, p, "")
	}
	if i := strings.IndexByte(rest, '{'); i >= 0 {
		if j := strings.IndexByte(rest[i:], '}'); j > 0 {
			return fmt.Errorf("--serve-cmd has the unknown placeholder %s (known: %s)", rest[i:i+j+1], strings.Join(Placeholders, " "))
		}
	}
	return nil
}

// Expand fills a template's placeholders with shell-quoted values.
func Expand(tmpl, base, ckpt string, port, step int) string {
	r := strings.NewReplacer("{base}", shellQuote(base), "{checkpoint}", shellQuote(ckpt),
		"{port}", strconv.Itoa(port), "{step}", strconv.Itoa(step))
	return r.Replace(tmpl)
}

// shellQuote quotes s for a POSIX shell: single quotes, with each single
// quote closed, escaped and reopened.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// freePort asks the kernel for a free port on the loopback interface. Another
// process may take it before the server binds it; the server then fails to
// start and the log says so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Serve implements Server.
func (c Command) Serve(ctx context.Context, ck checkpoint.Checkpoint) (Endpoint, func(context.Context) error, error) {
	if err := CheckTemplate(c.Template, c.Base); err != nil {
		return Endpoint{}, nil, err
	}
	port, err := freePort()
	if err != nil {
		return Endpoint{}, nil, fmt.Errorf("finding a free port: %w", err)
	}
	line := Expand(c.Template, c.Base, ck.Path, port, ck.Step)
	shell := c.Shell
	if len(shell) == 0 {
		shell = []string{"/bin/sh", "-c"}
	}
	if err := os.MkdirAll(c.LogDir, 0o755); err != nil {
		return Endpoint{}, nil, fmt.Errorf("creating the server log directory: %w", err)
	}
	logPath := filepath.Join(c.LogDir, fmt.Sprintf("serve-step%d.log", ck.Step))
	logFile, err := os.Create(logPath)
	if err != nil {
		return Endpoint{}, nil, fmt.Errorf("creating the server log: %w", err)
	}
	fmt.Fprintf(logFile, "$ %s\n", line)
	// Not CommandContext: the process is stopped by release, gracefully,
	// also when ctx ends.
	cmd := exec.Command(shell[0], append(shell[1:], line)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = c.Env
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return Endpoint{}, nil, fmt.Errorf("starting the server for step %d (%s): %w", ck.Step, line, err)
	}
	// exited is closed once the process is reaped; waitErr is its status.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	grace := c.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	stopped := false
	release := func(context.Context) error {
		if stopped {
			return nil
		}
		stopped = true
		defer logFile.Close()
		return stop(cmd, exited, grace)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := c.waitReady(ctx, base, exited, &waitErr); err != nil {
		release(context.WithoutCancel(ctx))
		return Endpoint{}, nil, fmt.Errorf("the server for step %d did not become ready: %w\ncommand: %s\nlog %s ends:\n%s", ck.Step, err, line, logPath, tail(logPath, 20))
	}
	return Endpoint{BaseURL: base + "/v1"}, release, nil
}

// waitReady polls the server until it answers, the process exits, or Ready
// passes.
func (c Command) waitReady(ctx context.Context, base string, exited <-chan struct{}, waitErr *error) error {
	wait := c.Ready
	if wait <= 0 {
		wait = 10 * time.Minute
	}
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	every := 50 * time.Millisecond
	for {
		if c.answers(ctx, client, base) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			err := *waitErr
			if err == nil {
				err = errors.New("exit status 0")
			}
			return fmt.Errorf("the process exited before answering: %w", err)
		case <-deadline.C:
			return fmt.Errorf("no answer from %s/health or /v1/models within %s", base, wait)
		case <-time.After(every):
			every = min(every*2, time.Second)
		}
	}
}

// answers reports whether the server is ready: GET /health answers 200
// (llama-server, vLLM and TGI all have it, and answer 503 while loading);
// a server without /health (404) is ready when GET /v1/models answers 200.
func (c Command) answers(ctx context.Context, client *http.Client, base string) bool {
	get := func(p string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp.StatusCode
	}
	switch get("/health") {
	case http.StatusOK:
		return true
	case http.StatusNotFound:
		return get("/v1/models") == http.StatusOK
	}
	return false
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + string(bytes.Join(lines, []byte("\n  ")))
}
