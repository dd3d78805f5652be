package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/notify"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// `run --fail-on-drift` end to end: a first run, two stored runs after it
// whose metrics sit 0.3 lower, then the plan again: its metrics drifted up
// against the last two runs on the same eval set, so it exits 5, says so,
// and the webhook hears it, signed.
func TestRunFailOnDriftAndNotify(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "tc.db")
	plan := filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml")
	env := func(out, errb *bytes.Buffer) Env {
		return Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: errb,
			Getenv: func(k string) string {
				if k == notifySecretEnv {
					return "shh"
				}
				return ""
			}}
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"run", plan, "--store", dsn, "-o", filepath.Join(dir, "a"), "-q"}, env(&out, &errb)); code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", code, out.String(), errb.String())
	}

	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.ListRuns(ctx, "", 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	first := runs[0]
	for i, shift := range []float64{-0.31, -0.29} {
		var r report.Report
		if err := json.Unmarshal(first.Summary, &r); err != nil {
			t.Fatal(err)
		}
		for ti := range r.Tasks {
			for mi := range r.Tasks[ti].PerModel {
				for name, s := range r.Tasks[ti].PerModel[mi].Metrics {
					s.Mean, s.CI.Low, s.CI.High = s.Mean+shift, s.CI.Low+shift, s.CI.High+shift
					r.Tasks[ti].PerModel[mi].Metrics[name] = s
				}
			}
		}
		sum, _ := json.Marshal(r)
		id := "later-" + string(rune('a'+i))
		if err := st.CreateRun(ctx, store.Run{ID: id, Name: first.Name, PlanHash: "x" + id, Datasets: first.Datasets,
			StartedAt: first.StartedAt.Add(time.Duration(i+1) * time.Microsecond)}); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, "pass", sum); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var body []byte
	var sig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		sig = r.Header.Get(notify.SignatureHeader)
	}))
	defer srv.Close()
	out.Reset()
	errb.Reset()
	code := Main(context.Background(), []string{"run", plan, "--store", dsn, "-o", filepath.Join(dir, "b"), "-q",
		"--fail-on-drift", "--drift-window", "2", "--notify", srv.URL + "/hook?token=abc"}, env(&out, &errb))
	if code != int(exitcode.Drift) {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitcode.Drift, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "verdict: PASS") || !strings.Contains(out.String(), "drift: mtbench-ref.token_f1 (vicuna-13b) up:") {
		t.Fatalf("output:\n%s", out.String())
	}
	// the drift lines are the report: no "error:" repeats them
	if strings.Contains(errb.String(), "error:") {
		t.Fatalf("stderr: %s", errb.String())
	}
	var p notify.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("webhook body %q: %v", body, err)
	}
	if p.Schema != notify.Schema || p.ExitCode != int(exitcode.Drift) || !p.Drift.Flagged || p.Verdict != "pass" || sig != notify.Sign([]byte("shh"), body) {
		t.Fatalf("payload %+v, signature %q", p, sig)
	}
}

// A webhook that cannot be reached is a warning on stderr that hides the
// URL's secrets, and the passing run still exits 0.
func TestRunNotifyUnreachableWarns(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := strings.Replace(srv.URL, "http://", "http://u:topsecret@", 1) + "/x/PATHTOKEN?k=QTOKEN"
	srv.Close() // nothing answers there now
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"run", filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml"),
		"--store", filepath.Join(dir, "tc.db"), "-o", dir, "-q", "--notify", url},
		Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "webhook notification failed") {
		t.Fatalf("no warning on stderr: %q", errb.String())
	}
	for _, s := range []string{"topsecret", "PATHTOKEN", "QTOKEN"} {
		if strings.Contains(errb.String()+out.String(), s) {
			t.Errorf("%q printed: %s", s, errb.String())
		}
	}
}

// The flags are checked before anything runs: exit 2 with what to do, and a
// bad URL is named without its secrets.
func TestRunAfterFlagsChecked(t *testing.T) {
	plan := filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fail-on-drift", "--drift-window", "0"}, "--drift-window must be at least 1, got 0"},
		{[]string{"--notify", ""}, "--notify #1 ((a webhook URL that does not parse)) is not an http(s) URL"},
		{[]string{"--notify", "https://ok.example.com", "--notify", "ftp://user:SECRETPW@files.example.com/TOKENPATH"}, "--notify #2 (ftp://files.example.com/…) is not an http(s) URL"},
		{[]string{"--notify-strict"}, "--notify-strict goes with --notify URL"},
	} {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		args := append([]string{"run", plan, "--store", filepath.Join(dir, "tc.db"), "-o", dir}, tc.args...)
		code := Main(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != int(exitcode.BadInput) || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
		if strings.Contains(errb.String(), "SECRETPW") || strings.Contains(errb.String(), "TOKENPATH") {
			t.Errorf("%v: the URL's secrets were printed: %s", tc.args, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("%v: the run started: %s", tc.args, out.String())
		}
	}
}
