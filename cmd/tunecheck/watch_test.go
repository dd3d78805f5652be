package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/checkpoint/serve/vllmfake"
	"github.com/tunecheck/tunecheck/internal/store"
)

// Ctrl-C sent to a real `tunecheck watch` process while a checkpoint's run
// waits on the model: it exits 130, the adapter is unloaded, the finished
// checkpoint's run is kept and the cut one stays unfinished; `watch --once`
// then skips the first and resumes the second's run.
func TestWatchInterruptAndResume(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	release := make(chan struct{})
	var inFlight atomic.Int32
	fake := vllmfake.New("base", func(model string, _ []byte, prompt string) string {
		if strings.HasPrefix(model, "tunecheck-step200-") && hang.Load() {
			inFlight.Add(1)
			<-release
		}
		return "x"
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer close(release)

	dir := t.TempDir()
	var data bytes.Buffer
	for i := range 6 {
		fmt.Fprintf(&data, `{"id": "q%d", "q": "question %d", "answer": "x"}`+"\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "qa.jsonl"), data.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(fmt.Sprintf(`version: 1
name: watch-e2e
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: replaced, timeout: 60s}
tasks:
  - name: t
    dataset: {path: qa.jsonl}
    prompt: {template: "{{ q }}"}
    reference: answer
    scorers: [{name: exact_match}]
compare: {baseline: base, candidate: tuned}
`, srv.URL)), 0o644)
	train := filepath.Join(dir, "train")
	for _, step := range []int{100, 200} {
		ck := filepath.Join(train, fmt.Sprintf("checkpoint-%d", step))
		os.MkdirAll(ck, 0o755)
		os.WriteFile(filepath.Join(ck, "adapter_config.json"), []byte(`{"r": 8}`), 0o644)
		os.WriteFile(filepath.Join(ck, "adapter_model.safetensors"), []byte{byte(step / 100)}, 0o644)
	}
	db := filepath.Join(dir, "tc.db")
	args := []string{"watch", train, "--plan", filepath.Join(dir, "plan.yaml"), "--store", db, "-o", filepath.Join(dir, "out"), "--settle", "50ms"}
	var out, errOut bytes.Buffer
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for inFlight.Load() == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("step 200 was never asked\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("watch after Ctrl-C: %v, want exit 130\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "step 100 checkpoint-100: verdict") || !strings.Contains(errOut.String(), "watch stopped after 1 checkpoint(s) evaluated") {
		t.Fatalf("output:\n%s\n%s", out.String(), errOut.String())
	}
	if got := fake.Loaded(); len(got) != 0 {
		t.Fatalf("adapters left loaded after Ctrl-C: %v", got)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cut, err := st.RunsTagged(context.Background(), map[string]string{"checkpoint_step": "200"})
	if err != nil || len(cut) != 1 || cut[0].Status != store.StatusRunning {
		t.Fatalf("step 200 after Ctrl-C: %+v, %v", cut, err)
	}

	hang.Store(false)
	out.Reset()
	errOut.Reset()
	cmd = exec.Command(os.Args[0], append(args, "--once")...)
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("watch --once: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "step 100 checkpoint-100: already evaluated") || !strings.Contains(out.String(), "run "+cut[0].ID) {
		t.Fatalf("watch --once did not skip step 100 and resume run %s:\n%s", cut[0].ID, out.String())
	}
	if r, err := st.GetRun(context.Background(), cut[0].ID); err != nil || r.Status != store.StatusFinished {
		t.Fatalf("resumed run: %+v, %v", r, err)
	}
}

// checkpointServer is the model server `--serve cmd` starts in
// TestWatchServeCmd: a vLLM-like server on port whose model "tuned" answers
// as well as the checkpoint's weights byte says (1: the first item right, 2:
// the first two), until SIGTERM.
func checkpointServer(port, ckpt string) {
	weights, err := os.ReadFile(filepath.Join(ckpt, "adapter_model.safetensors"))
	if err != nil || len(weights) != 1 {
		fmt.Fprintln(os.Stderr, "cannot read the adapter:", err)
		os.Exit(1)
	}
	fake := vllmfake.New("tuned", func(_ string, _ []byte, prompt string) string {
		var i int
		fmt.Sscanf(prompt, "question %d", &i)
		if i < int(weights[0]) {
			return "x"
		}
		return "y"
	})
	fmt.Fprintln(os.Stderr, "serving", ckpt, "on", port)
	if err := http.ListenAndServe("127.0.0.1:"+port, fake); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// `watch --serve cmd` starts a real server process per checkpoint, evaluates
// it and stops it: each step's run reflects its own checkpoint, the servers'
// logs are kept, and none is left running.
func TestWatchServeCmd(t *testing.T) {
	base := vllmfake.New("base", func(string, []byte, string) string { return "y" })
	srv := httptest.NewServer(base)
	defer srv.Close()
	dir := t.TempDir()
	var data bytes.Buffer
	for i := range 4 {
		fmt.Fprintf(&data, `{"id": "q%d", "q": "question %d", "answer": "x"}`+"\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "qa.jsonl"), data.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(fmt.Sprintf(`version: 1
name: watch-cmd
models:
  - {name: base, provider: openai, base_url: %s/v1, model: base}
  - {name: tuned, provider: openai, base_url: http://127.0.0.1:1/v1, model: tuned}
tasks:
  - name: t
    dataset: {path: qa.jsonl}
    prompt: {template: "{{ q }}"}
    reference: answer
    scorers: [{name: exact_match}]
compare: {baseline: base, candidate: tuned}
`, srv.URL)), 0o644)
	train := filepath.Join(dir, "train")
	for _, step := range []int{1, 2} {
		ck := filepath.Join(train, fmt.Sprintf("checkpoint-%d", step))
		os.MkdirAll(ck, 0o755)
		os.WriteFile(filepath.Join(ck, "adapter_config.json"), []byte(`{"r": 8}`), 0o644)
		os.WriteFile(filepath.Join(ck, "adapter_model.safetensors"), []byte{byte(step)}, 0o644)
	}
	outDir := filepath.Join(dir, "out")
	tmpl := "TUNECHECK_E2E_MAIN=0 TUNECHECK_E2E_SERVER=1 exec '" + os.Args[0] + "' {port} {checkpoint}"
	cmd := exec.Command(os.Args[0], "watch", train, "--plan", filepath.Join(dir, "plan.yaml"), "--store", filepath.Join(dir, "tc.db"), "-o", outDir,
		"--once", "--settle", "20ms", "--serve", "cmd", "--serve-cmd", tmpl, "--ready-timeout", "60s")
	cmd.Env = append(os.Environ(), "TUNECHECK_E2E_MAIN=1", "CI=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("watch --serve cmd: %v\n%s", err, out)
	}
	// Each step's numbers are its own checkpoint's: the right process served it.
	for _, want := range []string{"step 1 checkpoint-1: verdict pass · t.exact_match 0.25 (baseline 0)", "step 2 checkpoint-2: verdict pass · t.exact_match 0.5 (baseline 0)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, step := range []int{1, 2} {
		log, err := os.ReadFile(filepath.Join(outDir, fmt.Sprintf("serve-step%d.log", step)))
		if err != nil || !strings.Contains(string(log), fmt.Sprintf("serving %s", filepath.Join(train, fmt.Sprintf("checkpoint-%d", step)))) {
			t.Errorf("server log of step %d: %s, %v", step, log, err)
		}
	}
	// No server outlives the watch.
	if ps, _ := exec.Command("pgrep", "-f", "^"+regexp.QuoteMeta(os.Args[0])+" [0-9]+ "+regexp.QuoteMeta(train)).Output(); len(ps) > 0 {
		t.Fatalf("a checkpoint server still runs: %s", ps)
	}
}
