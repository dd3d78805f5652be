// Package livetest runs a real llama.cpp llama-server for tests: it finds the
// binary (TUNECHECK_LLAMA_SERVER, built by scripts/llama-server.sh) and the
// tiny byte-level test models (examples/live-tiny/models), starts the server
// on 127.0.0.1 at a free port (one thread, so that tests share the machine),
// waits for GET /health to answer 200, and can
// kill it with SIGKILL and start it again on the same port. The server's log
// goes to a file in the test's temporary directory; its tail is printed when
// the test fails.
//
// It is hand-written on os/exec and net/http: what it manages is one child
// process and one health route, which no test library covers for llama-server.
package livetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvBinary names the environment variable that holds the llama-server path.
const EnvBinary = "TUNECHECK_LLAMA_SERVER"

// startTimeout bounds one start: the tiny models load in about a second.
const startTimeout = 60 * time.Second

// Binary returns the llama-server executable the tests use. Without
// TUNECHECK_LLAMA_SERVER (or with it set to off, as scripts/test.sh does when
// it cannot build the server) the test is skipped with a loud message, or
// fails when CI=true: CI must run the live tests.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" || bin == "off" {
		msg := "!!!!! SKIP: live llama-server tests are NOT run: " + EnvBinary + " is " + strconv.Quote(bin) + ". " +
			"Build the server with scripts/llama-server.sh (it prints the binary's path) and run " +
			EnvBinary + "=$(scripts/llama-server.sh) go test ./..., or use ./scripts/test.sh, which does."
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: refused)")
		}
		t.Skip(msg)
	}
	info, err := os.Stat(bin)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable file (%v); rebuild it with scripts/llama-server.sh", EnvBinary, bin, err)
	}
	return bin
}

// RepoRoot is the directory holding go.mod, found by walking up from the
// working directory (go test runs in the package's directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// Models returns examples/live-tiny/models, failing when its base model is missing.
func Models(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "examples", "live-tiny", "models")
	if _, err := os.Stat(filepath.Join(dir, "base.gguf")); err != nil {
		t.Fatalf("the live tests' models are missing: %v; examples/live-tiny/train/train.py writes them", err)
	}
	return dir
}

// Step is one position of a reference continuation: token id (byte value,
// 257 = end of sequence), its logprob and the most likely alternatives.
type Step struct {
	ID      int     `json:"id"`
	Logprob float64 `json:"logprob"`
	Top     []struct {
		ID      int     `json:"id"`
		Logprob float64 `json:"logprob"`
	} `json:"top"`
}

// RefPrompt is one prompt's greedy continuations as PyTorch computed them,
// for the base model and with the LoRA adapter applied.
type RefPrompt struct {
	Prompt string `json:"prompt"`
	Base   []Step `json:"base"`
	Lora   []Step `json:"lora"`
}

// EOS is the tiny models' end-of-sequence token (ids 0-255 are bytes).
const EOS = 257

// NearTie is how close (nats) PyTorch's two most likely tokens must be for
// llama.cpp to pick the other one without it being an error: their logprobs
// differ by about 0.001 nats (float32 kernels, another summation order).
const NearTie = 0.005

// Greedy is a reference continuation's text: its byte tokens up to the end of sequence.
func Greedy(steps []Step) string {
	var b []byte
	for _, s := range steps {
		if s.ID == EOS {
			break
		}
		b = append(b, byte(s.ID))
	}
	return string(b)
}

// Agree compares a generated text with PyTorch's greedy continuation and
// returns how many leading tokens can be compared: all of them when the text
// is the continuation, or up to the first token where the two differ at a
// near tie (PyTorch's logprob for the generated token within NearTie of its
// choice). Any other difference is an error.
func Agree(text string, want []Step) (int, error) {
	ref := Greedy(want)
	for i := 0; i < len(ref) && i < len(text); i++ {
		if text[i] == ref[i] {
			continue
		}
		for _, alt := range want[i].Top {
			if alt.ID == int(text[i]) && want[i].Logprob-alt.Logprob <= NearTie {
				return i, nil
			}
		}
		return 0, fmt.Errorf("generated %q, PyTorch's greedy continuation is %q: they part at token %d (%q, PyTorch %q) and it is no tie", text, ref, i, text[i], ref[i])
	}
	if len(text) != len(ref) {
		// The end of sequence at a near tie with a byte, or the other way round.
		if i := min(len(text), len(ref)); i < len(want) {
			next := EOS
			if i < len(text) {
				next = int(text[i])
			}
			for _, alt := range want[i].Top {
				if alt.ID == next && want[i].Logprob-alt.Logprob <= NearTie {
					return i, nil
				}
			}
		}
		return 0, fmt.Errorf("generated %q, PyTorch's greedy continuation is %q", text, ref)
	}
	return len(ref), nil
}

// Reference is models/reference.json.
type Reference struct {
	Prompts []RefPrompt `json:"prompts"`
}

// LoadReference reads models/reference.json.
func LoadReference(t testing.TB) Reference {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Models(t), "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref Reference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("reference.json: %v", err)
	}
	if len(ref.Prompts) == 0 {
		t.Fatal("reference.json holds no prompts")
	}
	return ref
}

// Options say how to start the server.
type Options struct {
	// Model is the GGUF file; empty: the base model.
	Model string
	// Alias is the model id GET /v1/models lists (empty: "tiny"); the server
	// answers requests for any model id.
	Alias string
	// Parallel is --parallel, the number of slots (0: 2).
	Parallel int
	// Ctx is --ctx-size over all slots (0: 512 per slot).
	Ctx int
	// Lora are adapter files. They are loaded at scale 0 (--lora-scaled
	// FILE:0), so that a request without a "lora" field is the base model and
	// one with "lora": [{"id": 0, "scale": 1}] applies adapter 0, unless
	// ApplyLora applies them to every request (--lora).
	//
	// Not --lora-init-without-apply: in the pinned llama-server (node-llama-cpp
	// 3.21.1's llama.cpp) it loads the adapters at scale 1 all the same, GET
	// /lora-adapters says so, and requests without "lora" get the adapter.
	Lora      []string
	ApplyLora bool
	// Args are further arguments.
	Args []string
}

// Server is one llama-server process, restartable on its port.
type Server struct {
	t    testing.TB
	bin  string
	args []string
	// Port is where the server listens on 127.0.0.1, the same across restarts.
	Port int
	// URL is http://127.0.0.1:PORT, the server root (/health, /tokenize).
	URL     string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts llama-server with opt and waits until it is healthy. The
// process is killed when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin := Binary(t)
	if opt.Model == "" {
		opt.Model = filepath.Join(Models(t), "base.gguf")
	}
	if opt.Alias == "" {
		opt.Alias = "tiny"
	}
	if opt.Parallel == 0 {
		opt.Parallel = 2
	}
	if opt.Ctx == 0 {
		opt.Ctx = 512 * opt.Parallel
	}
	port := freePort(t)
	args := []string{
		"-m", opt.Model, "--alias", opt.Alias,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--parallel", strconv.Itoa(opt.Parallel),
		"--ctx-size", strconv.Itoa(opt.Ctx),
		// One thread each: the tests share the machine's cores with other work.
		"-t", "1", "-tb", "1",
		"--jinja", "--no-webui",
	}
	for _, l := range opt.Lora {
		if opt.ApplyLora {
			args = append(args, "--lora", l)
		} else {
			args = append(args, "--lora-scaled", l+":0")
		}
	}
	args = append(args, opt.Args...)
	s := &Server{t: t, bin: bin, args: args, Port: port, URL: "http://127.0.0.1:" + strconv.Itoa(port),
		logPath: filepath.Join(t.TempDir(), "llama-server.log")}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("llama-server %s\nlog tail (%s):\n%s", strings.Join(s.args, " "), s.logPath, s.LogTail(40))
		}
	})
	s.start()
	return s
}

// BaseURL is the OpenAI-compatible root, URL + "/v1".
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) start() {
	s.t.Helper()
	// A port just closed by a killed server can refuse a new bind for a
	// moment; a start that fails before it is healthy is tried again.
	var err error
	for try := range 3 {
		if try > 0 {
			s.Kill()
			time.Sleep(200 * time.Millisecond)
		}
		if err = s.WaitHealthy(s.Launch()); err == nil {
			return
		}
	}
	s.t.Fatalf("llama-server on port %d: %v\nlog tail:\n%s", s.Port, err, s.LogTail(40))
}

// Launch starts the process and returns at once, without waiting for it to
// be healthy (while it loads the model it answers 503 "Loading model");
// the channel is closed when the process exits. The server must not be running.
func (s *Server) Launch() <-chan struct{} {
	s.t.Helper()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	fmt.Fprintf(log, "=== %s %s\n", s.bin, strings.Join(s.args, " "))
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		s.t.Fatalf("starting %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		log.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return done
}

// WaitHealthy polls GET /health until it answers 200 (503 while the model
// loads), the process (done from Launch) exits, or startTimeout passes.
func (s *Server) WaitHealthy(done <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("exited before it was healthy")
		default:
		}
		resp, err := client.Get(s.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("/health did not answer 200 within %s", startTimeout)
}

// Kill sends SIGKILL and waits for the process to be gone. Killing a server
// that is not running does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart kills the server if it runs and starts it again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// LogTail is the last n lines of the server's log (every start appended).
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
