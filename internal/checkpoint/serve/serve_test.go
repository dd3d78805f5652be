package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/checkpoint"
	"github.com/tunecheck/tunecheck/internal/checkpoint/serve/vllmfake"
)

// TestMain doubles as the model server a --serve-cmd template starts: with
// TUNECHECK_FAKE_SERVER set, the test binary is that server, a real process
// apart from the test.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TUNECHECK_FAKE_SERVER"); mode != "" {
		fakeServer(mode, os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

// fakeServer: args are PORT CHECKPOINT. Modes: ok (answers /health after a
// short warm-up), crash (exits at once), ignore-term (ignores SIGTERM),
// never-ready (/health answers 503).
func fakeServer(mode string, args []string) {
	fmt.Fprintf(os.Stderr, "fake server %s starting on %s with %s\n", mode, args[0], args[1])
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "error: CUDA out of memory")
		os.Exit(1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	start := time.Now()
	mux := http.NewServeMux()
	ready := func(w http.ResponseWriter) bool {
		if mode == "never-ready" || time.Since(start) < 200*time.Millisecond {
			w.WriteHeader(http.StatusServiceUnavailable)
			return false
		}
		return true
	}
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if ready(w) {
			w.WriteHeader(http.StatusOK)
		}
	})
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		if !ready(w) {
			return
		}
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model"}]}`, filepath.Base(args[1]))
	})
	go http.ListenAndServe("127.0.0.1:"+args[0], mux)
	for range sigs {
		if mode != "ignore-term" {
			fmt.Fprintln(os.Stderr, "fake server stopping")
			os.Exit(0)
		}
	}
}

func ckpt(t *testing.T, step int, kind checkpoint.Kind) checkpoint.Checkpoint {
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("checkpoint-%d", step))
	os.MkdirAll(dir, 0o755)
	if kind == checkpoint.Adapter {
		os.WriteFile(filepath.Join(dir, "adapter_config.json"), []byte(`{"r":8}`), 0o644)
		os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), []byte("weights"), 0o644)
	}
	return checkpoint.Checkpoint{Step: step, Path: dir, Rel: filepath.Base(dir), Kind: kind, Fingerprint: "0123456789abcdef"}
}

func TestVLLMLoRA(t *testing.T) {
	fake := vllmfake.New("base", func(model string, w []byte, p string) string { return model })
	srv := httptest.NewServer(fake)
	defer srv.Close()
	v := VLLMLoRA{BaseURL: srv.URL + "/v1", Client: srv.Client()}
	ctx := context.Background()
	c := ckpt(t, 100, checkpoint.Adapter)
	ep, release, err := v.Serve(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Model != "tunecheck-step100-01234567" || ep.BaseURL != srv.URL+"/v1" {
		t.Fatalf("endpoint %+v", ep)
	}
	if got := fake.Loaded(); len(got) != 1 || got[0] != ep.Model {
		t.Fatalf("loaded %v", got)
	}
	// An adapter left loaded by an interrupted watch is reused.
	if _, again, err := v.Serve(ctx, c); err != nil {
		t.Fatalf("loading an adapter already loaded: %v", err)
	} else if err := again(ctx); err != nil {
		t.Fatal(err)
	}
	if err := release(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 404: The lora adapter 'tunecheck-step100-01234567' cannot be found.") {
		t.Fatalf("unloading twice: %v", err)
	}
	if len(fake.Loaded()) != 0 {
		t.Fatalf("still loaded: %v", fake.Loaded())
	}

	// vLLM's own error text reaches the user.
	bad := c
	bad.Path = filepath.Join(t.TempDir(), "nothing-here")
	if _, _, err := v.Serve(ctx, bad); err == nil || !strings.Contains(err.Error(), "HTTP 400: Loading lora tunecheck-step100-01234567 failed: No adapter found for") {
		t.Fatalf("bad path: %v", err)
	}
	// A path prefix maps the folder to where the server sees it.
	pv := v
	pv.PathPrefix = "/mnt/train"
	if _, _, err := pv.Serve(ctx, c); err == nil || !strings.Contains(err.Error(), "/mnt/train/checkpoint-100") {
		t.Fatalf("path prefix: %v", err)
	}
	// Full weights cannot be loaded as an adapter.
	if _, _, err := v.Serve(ctx, ckpt(t, 5, checkpoint.Full)); err == nil || !strings.Contains(err.Error(), "--serve cmd") {
		t.Fatalf("full weights: %v", err)
	}
	// Runtime loading off: the hint names the variable.
	fake.RuntimeLoRA = false
	if _, _, err := v.Serve(ctx, c); err == nil || !strings.Contains(err.Error(), "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True") {
		t.Fatalf("runtime loading off: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"object":"error","message":"old style","code":400}`: "old style",
		`{"error":{"message":"new style","code":400}}`:        "new style",
		`{"detail":"Not Found"}`:                              "Not Found",
		`{"detail":[{"loc":["body"]}]}`:                       `[{"loc":["body"]}]`,
		"Internal Server Error":                               "Internal Server Error",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

func commandFor(t *testing.T, mode string) Command {
	return Command{
		Template: "TUNECHECK_FAKE_SERVER=" + mode + " exec " + shellQuote(os.Args[0]) + " {port} {checkpoint}",
		LogDir:   t.TempDir(), Ready: 10 * time.Second, Grace: 300 * time.Millisecond,
	}
}

func TestCommand(t *testing.T) {
	ctx := context.Background()
	c := ckpt(t, 200, checkpoint.Adapter)
	cmd := commandFor(t, "ok")
	ep, release, err := cmd.Serve(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ep.BaseURL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	var models struct {
		Data []struct{ ID string } `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&models)
	resp.Body.Close()
	if len(models.Data) != 1 || models.Data[0].ID != "checkpoint-200" || ep.Model != "" {
		t.Fatalf("served %+v as %+v", models, ep)
	}
	if err := release(ctx); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(ep.BaseURL, "http://"), "/v1")
	if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		conn.Close()
		t.Fatal("the server still listens after release")
	}
	log, _ := os.ReadFile(filepath.Join(cmd.LogDir, "serve-step200.log"))
	if !strings.Contains(string(log), "fake server stopping") || !strings.Contains(string(log), c.Path) {
		t.Fatalf("log:\n%s", log)
	}
}

func TestCommandFailures(t *testing.T) {
	ctx := context.Background()
	c := ckpt(t, 300, checkpoint.Adapter)
	// A server that dies at start: the error shows its log's tail.
	if _, _, err := commandFor(t, "crash").Serve(ctx, c); err == nil ||
		!strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "CUDA out of memory") {
		t.Fatalf("crash: %v", err)
	}
	// One that never becomes ready, and ignores SIGTERM: killed after the grace.
	cmd := commandFor(t, "ignore-term")
	cmd.Template = strings.Replace(cmd.Template, "ignore-term", "never-ready", 1)
	cmd.Ready = 500 * time.Millisecond
	if _, _, err := cmd.Serve(ctx, c); err == nil || !strings.Contains(err.Error(), "no answer from") {
		t.Fatalf("never ready: %v", err)
	}
	cmd = commandFor(t, "ignore-term")
	ep, release, err := cmd.Serve(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := release(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < cmd.Grace {
		t.Fatal("a server ignoring SIGTERM stopped before the grace period")
	}
	host := strings.TrimSuffix(strings.TrimPrefix(ep.BaseURL, "http://"), "/v1")
	if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		conn.Close()
		t.Fatal("a server ignoring SIGTERM still listens after release")
	}
}

func TestTemplates(t *testing.T) {
	for _, tc := range []struct{ tmpl, base, want string }{
		{"llama-server -m {base} --lora {checkpoint} --port {port}", "/m/base.gguf", ""},
		{"llama-server -m {base} --lora {checkpoint}", "/m", "no {port}"},
		{"llama-server -m {base} --port {port}", "", "--base is not set"},
		{"serve {ckpt} --port {port}", "", "unknown placeholder {ckpt}"},
		{"  ", "", "empty"},
	} {
		err := CheckTemplate(tc.tmpl, tc.base)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckTemplate(%q) = %v, want %q", tc.tmpl, err, tc.want)
		}
	}
	got := Expand("srv -m {base} --lora {checkpoint} --port {port} --alias s{step}", "/m/base.gguf", "/out/it's here/checkpoint-5", 8123, 5)
	want := `srv -m /m/base.gguf --lora '/out/it'\''s here/checkpoint-5' --port 8123 --alias s5`
	if got != want {
		t.Fatalf("Expand = %s\nwant     %s", got, want)
	}
}

func TestNames(t *testing.T) {
	m, err := ParseNames("100=ft-100, 200 = ft-200", "--models", false)
	if err != nil || m[100] != "ft-100" || m[200] != "ft-200" {
		t.Fatalf("%v, %v", m, err)
	}
	m, err = ParseNames("# steps\n100=a\n\n300=b\n", "names.txt", true)
	if err != nil || len(m) != 2 || m[300] != "b" {
		t.Fatalf("%v, %v", m, err)
	}
	for _, tc := range []struct {
		in    string
		lines bool
		want  string
	}{
		{"100", false, `--models: "100" is not STEP=MODEL`},
		{"x=a", false, `"x=a" is not STEP=MODEL`},
		{"1=a\n1=b", true, "names.txt:2: step 1 is mapped twice (a and b)"},
		{"", false, "no STEP=MODEL pairs"},
	} {
		where := "--models"
		if tc.lines {
			where = "names.txt"
		}
		if _, err := ParseNames(tc.in, where, tc.lines); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseNames(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	n := Names{ByStep: map[int]string{100: "a", 300: "b"}}
	if ep, rel, err := n.Serve(context.Background(), checkpoint.Checkpoint{Step: 100}); err != nil || ep.Model != "a" || rel(context.Background()) != nil {
		t.Fatalf("%+v %v", ep, err)
	}
	if _, _, err := n.Serve(context.Background(), checkpoint.Checkpoint{Step: 200}); err == nil || err.Error() != "no served model name for step 200 (the mapping names steps [100 300])" {
		t.Fatalf("%v", err)
	}
}
