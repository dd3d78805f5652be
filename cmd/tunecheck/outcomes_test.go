package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// A run whose every request failed is a broken endpoint, not a regressed
// model: whatever the cause, tunecheck exits 3 (not 1) naming the cause and
// what to do, still writes its reports, and stores the run as finished with
// the verdict "error", its gate undecided rather than failed.
func TestAllRequestsFailedPerCause(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		// want are texts the output must hold: the cause and the hint.
		want []string
	}{
		{
			name: "server error",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"error":{"message":"CUDA out of memory on worker 3","type":"server_error"}}`)
			},
			want: []string{"HTTP 500", "CUDA out of memory on worker 3", "answered with errors"},
		},
		{
			name: "bad key",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided"}}`)
			},
			want: []string{"HTTP 401", "Incorrect API key provided", "api_key_env"},
		},
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				// Hang longer than the plan's timeout, until the client gives up.
				// The body is read to its end first: only then does the server
				// notice the client hanging up and cancel r.Context().
				io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			},
			want: []string{"timed out", "raise `timeout`"},
		},
		{
			name: "not json",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
			},
			want: []string{"malformed", "base_url"},
		},
		{
			name: "no choices",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m"}`)
			},
			want: []string{"malformed", "no choices", "base_url"},
		},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				tc.handler(w, r)
			}))
			defer ts.Close()
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "qa.jsonl"), `{"id": "1", "q": "Capital of France?", "a": "Paris"}
{"id": "2", "q": "2+2?", "a": "4"}
{"id": "3", "q": "Largest planet?", "a": "Jupiter"}
`)
			writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: broken
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base-model, timeout: 200ms, max_retries: 0}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned-model, timeout: 200ms, max_retries: 0}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "{{ q }}"}
    reference: a
    scorers: [{name: exact_match}]
compare: {baseline: base, candidate: tuned}
gates:
  - qa.exact_match.delta >= 0
`, ts.URL))
			db := filepath.Join(dir, "tc.db")
			stdout, stderr, code := e2eRun(t, dir, "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out"))
			all := stdout + stderr
			if code != 3 {
				t.Fatalf("exit code %d, want 3 (endpoint broken)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if n := requests.Load(); n != 6 {
				t.Errorf("the server saw %d requests, want 6 (3 items × 2 models, no retries)", n)
			}
			for _, model := range []string{"base", "tuned"} {
				if !strings.Contains(stderr, "model "+model+": all 3 requests failed") {
					t.Errorf("stderr does not say that every request of %s failed:\n%s", model, stderr)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("the output does not name %q:\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
			if strings.Contains(all, "a gate failed") {
				t.Errorf("a broken endpoint is reported as a failed gate:\n%s", all)
			}
			if !strings.Contains(stdout, "verdict: ERROR") {
				t.Errorf("stdout does not show the verdict ERROR:\n%s", stdout)
			}

			if md, err := os.ReadFile(filepath.Join(dir, "out", "report.md")); err != nil || len(md) == 0 {
				t.Errorf("report.md not written: %v", err)
			}
			data, err := os.ReadFile(filepath.Join(dir, "out", "results.json"))
			if err != nil {
				t.Fatalf("results.json not written: %v", err)
			}
			rep, err := report.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != "error" || len(rep.Gates) != 1 || rep.Gates[0].Status != "error" {
				t.Errorf("results.json: verdict %q, gates %+v; want verdict error and the gate in error", rep.Verdict, rep.Gates)
			}

			st, err := store.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			runs, err := st.ListRuns(context.Background(), "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Status != store.StatusFinished || runs[0].Verdict != "error" {
				t.Fatalf("stored runs %s, want one finished with verdict error", runList(runs))
			}
			res, err := st.Results(context.Background(), runs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Error == "" {
					t.Errorf("result %s/%s stored without its error", r.Model, r.ItemID)
				}
			}
		})
	}
}
