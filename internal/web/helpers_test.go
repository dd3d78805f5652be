package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// quickstartDB is an SQLite store holding two finished runs of
// examples/quickstart (the second answered from the cache), made once by
// TestMain; each test works on its own copy.
var quickstartDB string

// quickstartRuns are their ids, oldest first.
var quickstartRuns [2]string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tunecheck-web-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		if err := buildQuickstart(dir); err != nil {
			fmt.Fprintln(os.Stderr, "building the quickstart store:", err)
			return 1
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildQuickstart(dir string) error {
	src, err := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart"))
	if err != nil {
		return err
	}
	plan, err := os.ReadFile(filepath.Join(src, "tunecheck.yaml"))
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(plan), "path: data/", "path: "+src+"/data/")
	planPath := filepath.Join(dir, "tunecheck.yaml")
	if err := os.WriteFile(planPath, []byte(text), 0o644); err != nil {
		return err
	}
	quickstartDB = filepath.Join(dir, "tc.db")
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range quickstartRuns {
		now := func() time.Time { clock = clock.Add(time.Second); return clock }
		res, err := app.Run(context.Background(), app.Options{PlanPath: planPath, StoreDSN: quickstartDB,
			OutputDir: filepath.Join(dir, "out"), ToolVersion: "dev", Now: now})
		if err != nil {
			return err
		}
		quickstartRuns[i] = res.RunID
	}
	return nil
}

// quickstart opens a copy of the quickstart store.
func quickstart(t testing.TB) *store.Store {
	t.Helper()
	b, err := os.ReadFile(quickstartDB)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tc.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testPage stands in for the front-end's assets.
var testPage = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>tunecheck</title><script src=\"/assets/app.js\"></script>")},
	"app.js":     {Data: []byte("console.log('page')")},
}

// client sends requests to a viewer the way its page does.
type client struct {
	t    testing.TB
	h    http.Handler
	csrf string
}

func newClient(t testing.TB, st *store.Store, o Options) *client {
	t.Helper()
	if o.Assets == nil {
		o.Assets = testPage
	}
	if o.User == "" {
		o.User = "ana"
	}
	c := &client{t: t, h: New(st, o)}
	if o.Token == "" {
		var sess struct{ CSRF string }
		c.get("/api/session", &sess)
		c.csrf = sess.CSRF
	}
	return c
}

// do sends a request to 127.0.0.1 and returns the recorded answer.
func (c *client) do(method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	c.t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:7420"+target, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return rec
}

// get fetches target, wants 200 and decodes the JSON answer into v.
func (c *client) get(target string, v any) *httptest.ResponseRecorder {
	c.t.Helper()
	rec := c.do("GET", target, nil, nil)
	if rec.Code != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	if v != nil {
		reflect.ValueOf(v).Elem().SetZero() // no slices shared with an earlier answer
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			c.t.Fatalf("GET %s: %v in %s", target, err, rec.Body)
		}
	}
	return rec
}

// post sends a JSON body with the session's CSRF token from the page's origin.
func (c *client) post(target, body string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.do("POST", target, strings.NewReader(body), map[string]string{
		"Content-Type": "application/json", "X-CSRF-Token": c.csrf, "Origin": "http://127.0.0.1:7420", "Sec-Fetch-Site": "same-origin"})
}

// itemsPage is the answer of the items routes.
type itemsPage struct {
	Run, Task, Metric, Direction, Baseline, Candidate string
	A, B, Model                                       string
	Blind                                             bool
	Total, Offset, Limit                              int
	Items                                             []itemJ
}

type itemJ struct {
	Task, ID, Prompt, Flip string
	Index                  int
	References             []string
	Slices                 map[string]string
	Delta                  *float64
	Outputs                []struct {
		Side, Run, Model, Text, Status, Error, Judge string
		JudgeError                                   string `json:"judge_error"`
		Scores                                       map[string]float64
	}
}

// syntheticRun stores a finished run of n items of one task "t", compared
// base → tuned on "f1" (higher is better) and "exact" (pass/fail), with
// outputs from text(model, i); judge rationales on every third item.
func syntheticRun(t testing.TB, st *store.Store, id string, n int, text func(model string, i int) string) {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateRun(ctx, store.Run{ID: id, Name: "synthetic", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	models := []string{"base", "tuned"}
	recs := make([]report.Record, n)
	var rs []store.Result
	for i := range n {
		itemID := fmt.Sprintf("item-%06d", i)
		rec := report.Record{ID: itemID, Outcomes: map[string]report.Outcome{}, References: []string{"ref " + itemID},
			Slices: map[string]string{"parity": []string{"even", "odd"}[i%2]}}
		req, _ := json.Marshal(provider.Request{Type: provider.Generate, ItemID: itemID,
			Messages: []provider.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: fmt.Sprintf("question %d", i)}}})
		for m, model := range models {
			f1 := float64((i*7+m*3)%10) / 10
			exact := float64((i + m) % 2)
			oc := report.Outcome{Status: report.StatusOK, Scores: map[string]float64{"f1": f1, "exact": exact}}
			errText := ""
			if model == "tuned" && i%50 == 49 {
				oc = report.Outcome{Status: report.StatusFailed, Error: "HTTP 500"}
				errText = "HTTP 500"
			}
			rec.Outcomes[model] = oc
			resp, _ := json.Marshal(provider.Response{Text: text(model, i)})
			rs = append(rs, store.Result{RunID: id, Model: model, Task: "t", ItemID: itemID, RequestHash: "rh", Request: req, Response: resp, Error: errText})
			if i%3 == 0 {
				jr, _ := json.Marshal(provider.Response{Text: "rationale for " + model})
				// Keyed as the judge stage keys its results: ITEM@JUDGE.
				rs = append(rs, store.Result{RunID: id, Model: model, Task: "t", Stage: "judge", Endpoint: "j", ItemID: itemID + "@j", RequestHash: "jh", Response: jr})
			}
		}
		recs[i] = rec
	}
	for start := 0; start < len(rs); start += 10000 {
		if err := st.PutResults(ctx, rs[start:min(start+10000, len(rs))]); err != nil {
			t.Fatal(err)
		}
	}
	rep := &report.Report{Schema: report.Schema, Plan: report.PlanInfo{Name: "synthetic", Hash: "h"},
		Compare: &report.CompareInfo{Baseline: "base", Candidate: "tuned"},
		Models:  []report.Model{{Name: "base", Provider: "file"}, {Name: "tuned", Provider: "file"}},
		Tasks: []report.Task{{Name: "t", Type: "generate", Items: n, Metrics: []string{"f1", "exact"}, Primary: "f1",
			MetricInfo: map[string]report.Metric{"f1": {Direction: "higher", Test: "bootstrap"}, "exact": {Direction: "higher", Test: "mcnemar", Binary: true}},
			PerModel:   []report.ModelScore{{Model: "base", Items: n}, {Model: "tuned", Items: n}},
			Records:    recs}},
		Verdict: "pass"}
	slim, byTask := rep.SplitRecords()
	summary, err := json.Marshal(slim)
	if err != nil {
		t.Fatal(err)
	}
	records, err := json.Marshal(byTask)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRunWithRecords(ctx, id, "pass", summary, records); err != nil {
		t.Fatal(err)
	}
}
