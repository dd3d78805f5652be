package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/checkpoint/serve/vllmfake"
)

func mainCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}

// watchFixture writes a plan against srv and a training directory with two
// complete LoRA checkpoints.
func watchFixture(t *testing.T, srvURL string) (plan, train, db string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "qa.jsonl"), []byte(`{"id": "a", "q": "one", "answer": "1"}`+"\n"+`{"id": "b", "q": "two", "answer": "2"}`+"\n"), 0o644)
	plan = filepath.Join(dir, "tunecheck.yaml")
	os.WriteFile(plan, []byte(fmt.Sprintf(`version: 1
name: watch-cli
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: unused}
tasks:
  - name: t
    dataset: {path: qa.jsonl}
    prompt: {template: "{{ q }}"}
    reference: answer
    scorers: [{name: exact_match}]
compare: {baseline: base, candidate: tuned}
`, srvURL)), 0o644)
	train = filepath.Join(dir, "out")
	for _, step := range []int{10, 20} {
		ck := filepath.Join(train, fmt.Sprintf("checkpoint-%d", step))
		os.MkdirAll(ck, 0o755)
		os.WriteFile(filepath.Join(ck, "adapter_config.json"), []byte(`{"r": 8}`), 0o644)
		os.WriteFile(filepath.Join(ck, "adapter_model.safetensors"), []byte{byte(step)}, 0o644)
	}
	return plan, train, filepath.Join(dir, "tc.db")
}

// `watch --once --serve names` evaluates the already-served models by step,
// tags the runs, and `runs --tag` finds them; a second watch skips them.
func TestWatchNamesOnce(t *testing.T) {
	fake := vllmfake.New("base", func(model string, _ []byte, prompt string) string {
		if model == "ft-20" && prompt == "two" {
			return "2"
		}
		return "1"
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	plan, train, db := watchFixture(t, srv.URL)
	// Served already, under names of their own.
	for _, step := range []int{10, 20} {
		body := fmt.Sprintf(`{"lora_name": "ft-%d", "lora_path": %q}`, step, filepath.Join(train, fmt.Sprintf("checkpoint-%d", step)))
		resp, err := http.Post(srv.URL+"/v1/load_lora_adapter", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("preloading: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	args := []string{"watch", train, "--plan", plan, "--store", db, "-o", filepath.Join(t.TempDir(), "reports"), "--once", "--settle", "20ms",
		"--serve", "names", "--models", "10=ft-10,20=ft-20", "--tag", "exp=lr3e-4"}
	code, out, errOut := mainCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"(serve: names)", "step 10 checkpoint-10: verdict pass · t.exact_match 0.5 (baseline 0.5)",
		"step 20 checkpoint-20: verdict pass · t.exact_match 1 (baseline 0.5)", "2 checkpoint(s) evaluated, 0 skipped, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = mainCLI("runs", "--store", db, "--tag", "checkpoint_step=20", "--tag", "exp=lr3e-4")
	if code != 0 || strings.Count(out, "watch-cli") != 1 {
		t.Fatalf("runs --tag: exit %d\n%s", code, out)
	}
	code, out, _ = mainCLI("runs", "--store", db, "--tag", "exp=other")
	if code != 0 || strings.Contains(out, "watch-cli") {
		t.Fatalf("runs --tag exp=other: exit %d\n%s", code, out)
	}
	code, out, _ = mainCLI(args...)
	if code != 0 || !strings.Contains(out, "0 checkpoint(s) evaluated, 2 skipped") {
		t.Fatalf("second watch: exit %d\n%s", code, out)
	}
}

// A checkpoint the server cannot load exits 3 with vLLM's words; a flag
// mistake exits 2 before anything is served.
func TestWatchErrors(t *testing.T) {
	fake := vllmfake.New("base", func(string, []byte, string) string { return "1" })
	fake.RuntimeLoRA = false
	srv := httptest.NewServer(fake)
	defer srv.Close()
	plan, train, db := watchFixture(t, srv.URL)
	code, out, errOut := mainCLI("watch", train, "--plan", plan, "--store", db, "-o", t.TempDir(), "--once", "--settle", "10ms")
	if code != 3 || !strings.Contains(out, "cannot serve it") || !strings.Contains(errOut, "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True") {
		t.Fatalf("runtime loading off: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--serve", "names"}, "--serve names needs one of them"},
		{[]string{"--serve", "cmd"}, "--serve cmd needs it"},
		{[]string{"--serve", "cmd", "--serve-cmd", "llama-server --lora {checkpoint}"}, "no {port}"},
		{[]string{"--serve", "bogus"}, `--serve "bogus": use vllm-lora, cmd or names`},
		{[]string{"--tag", "novalue"}, `--tag "novalue" is not KEY=VALUE`},
		{[]string{"--serve", "names", "--models", "ten=a"}, `"ten=a" is not STEP=MODEL`},
	} {
		args := append([]string{"watch", train, "--plan", plan, "--store", db, "--once"}, tc.args...)
		code, _, errOut := mainCLI(args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d\n%s\nwant %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, _, errOut := mainCLI("watch", filepath.Join(train, "missing"), "--plan", plan, "--store", db, "--once"); code != 2 || !strings.Contains(errOut, "checkpoint-N") {
		t.Errorf("missing dir: exit %d\n%s", code, errOut)
	}
}

// `run --tag` stores the tags; `runs --tag` lists only the runs with all of them.
func TestRunTagFlag(t *testing.T) {
	plan := filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml")
	db := filepath.Join(t.TempDir(), "tc.db")
	if code, out, errOut := mainCLI("run", plan, "--store", db, "-o", t.TempDir(), "-q", "--tag", "branch=main", "--tag", "gpu=h100"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := mainCLI("run", plan, "--store", db, "-o", t.TempDir(), "-q", "--tag", "branch=dev"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, tc := range []struct {
		tags []string
		want int
	}{
		{[]string{"branch=main"}, 1}, {[]string{"branch=main", "gpu=h100"}, 1}, {[]string{"branch=dev", "gpu=h100"}, 0}, {nil, 2},
	} {
		args := []string{"runs", "--store", db}
		for _, tg := range tc.tags {
			args = append(args, "--tag", tg)
		}
		code, out, _ := mainCLI(args...)
		if code != 0 || strings.Count(out, "quickstart-mtbench") != tc.want {
			t.Errorf("runs %v: exit %d, want %d runs\n%s", tc.tags, code, tc.want, out)
		}
	}
	if code, _, errOut := mainCLI("run", plan, "--store", db, "--tag", "=x"); code != 2 || !strings.Contains(errOut, "not KEY=VALUE") {
		t.Errorf("run --tag =x: exit %d\n%s", code, errOut)
	}
}
