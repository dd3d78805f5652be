package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/notify"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

var quickstartPlan = filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml")

// uniquePlan is the quickstart plan under a name of its own, so that its
// history in a shared PostgreSQL store is only what the test puts there.
func uniquePlan(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(quickstartPlan)
	if err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Abs(filepath.Join(filepath.Dir(quickstartPlan), "data"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("drift-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	y := strings.Replace(string(b), "name: quickstart-mtbench", "name: "+name, 1)
	y = strings.ReplaceAll(y, "path: data/", "path: "+data+"/")
	p := filepath.Join(t.TempDir(), "tunecheck.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runQuickstart runs plan into dsn and returns its outcome and its stored run.
func runQuickstart(t *testing.T, plan, dsn string) (*Outcome, store.Run) {
	t.Helper()
	ctx := context.Background()
	out, err := Run(ctx, Options{PlanPath: plan, StoreDSN: dsn, OutputDir: t.TempDir(), ToolVersion: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.GetRun(ctx, out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	return out, r
}

// storeHistory stores finished runs of like's plan on like's data, started
// before it, one per shift: like's report with every metric's mean (and
// interval) moved by the shift. The newest is shifts[len-1].
func storeHistory(t *testing.T, dsn string, like store.Run, rep *report.Report, dataset func(task string) string, shifts ...float64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, sh := range shifts {
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		var r report.Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		for ti := range r.Tasks {
			for mi := range r.Tasks[ti].PerModel {
				for name, s := range r.Tasks[ti].PerModel[mi].Metrics {
					s.Mean += sh
					s.CI.Low += sh
					s.CI.High += sh
					r.Tasks[ti].PerModel[mi].Metrics[name] = s
				}
			}
		}
		sum, _ := json.Marshal(r)
		ds := map[string]string{}
		for k, v := range like.Datasets {
			ds[k] = v
			if dataset != nil {
				ds[k] = dataset(k)
			}
		}
		id := "hist-" + string(rune('a'+i))
		at := like.StartedAt.Add(-time.Duration(len(shifts)-i) * time.Hour)
		if err := st.CreateRun(ctx, store.Run{ID: id, Name: like.Name, PlanHash: "h-" + id, Datasets: ds, StartedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, "pass", sum); err != nil {
			t.Fatal(err)
		}
	}
}

// hook is a webhook that answers the statuses in turn and keeps the bodies.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	sigs     []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bodies = append(h.bodies, b)
	h.sigs = append(h.sigs, r.Header.Get(notify.SignatureHeader))
	w.WriteHeader(h.statuses[min(len(h.bodies)-1, len(h.statuses)-1)])
}

func noWait(context.Context, time.Duration) error { return nil }

// A run whose metrics sit well above the window of earlier runs on the same
// data drifts up: --fail-on-drift exits 5, and the webhook hears which
// metrics drifted.
func TestFailOnDriftAgainstHistory(t *testing.T) {
	for name, dsn := range stores(t) {
		t.Run(name, func(t *testing.T) { testFailOnDrift(t, dsn) })
	}
}

func testFailOnDrift(t *testing.T, dsn string) {
	plan := uniquePlan(t)
	// the current run first (to learn its datasets), then its history
	// stored before it: two runs 0.3 below it, a little apart.
	out, cur := runQuickstart(t, plan, dsn)
	storeHistory(t, dsn, cur, out.Report, nil, -0.31, -0.29)
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	o := AfterRunOptions{PlanPath: plan, StoreDSN: dsn, FailOnDrift: true, DriftWindow: 2, Notify: []string{srv.URL},
		NotifySecret: []byte("k"), NotifyClient: &notify.Client{HTTP: srv.Client(), Sleep: noWait}, ToolVersion: "dev"}
	res, err := AfterRun(context.Background(), o, out, nil)
	if exitcode.Of(err) != exitcode.Drift || !Quiet(err) {
		t.Fatalf("error %v (code %d), want the drift exit %d", err, exitcode.Of(err), exitcode.Drift)
	}
	// A shift of 0.3 is far outside the intervals of the bounded scores
	// (token F1, ROUGE); metrics on a wider scale (length) may absorb it.
	flagged := map[string]bool{}
	for _, m := range res.Drift.Metrics {
		flagged[m.Task+"."+m.Metric] = true
	}
	if !res.Drift.Flagged || res.Judged == 0 || !flagged["mtbench-ref.token_f1"] || !flagged["mtbench-ref.rougeL"] {
		t.Fatalf("drift %+v judged %d: want token_f1 and rougeL flagged", res.Drift, res.Judged)
	}
	for _, m := range res.Drift.Metrics {
		if m.Direction != "up" || m.Value <= m.High || m.Model != out.Report.Compare.Candidate {
			t.Errorf("metric %+v: want the candidate's, up, above the interval", m)
		}
	}
	if len(h.bodies) != 1 || h.sigs[0] != notify.Sign([]byte("k"), h.bodies[0]) {
		t.Fatalf("%d notifications, signature %q", len(h.bodies), h.sigs)
	}
	var p notify.Payload
	if err := json.Unmarshal(h.bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.RunID != out.RunID || p.Plan.Name != cur.Name || p.Verdict != "pass" || p.ExitCode != int(exitcode.Drift) || !p.Drift.Flagged || len(p.Drift.Metrics) != len(res.Drift.Metrics) || len(p.Reports) != len(out.Files) {
		t.Fatalf("payload %+v", p)
	}
	var b strings.Builder
	if err := WriteDrift(&b, o, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "drift: ") || !strings.Contains(b.String(), " up: ") || !strings.Contains(b.String(), "the last 2 finished runs of plan "+cur.Name) {
		t.Fatalf("drift lines:\n%s", b.String())
	}
}

// Earlier runs on other data are not the history; without enough of them
// nothing is judged and the run's exit stands.
func TestDriftOnlyAgainstSameEvalSet(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "tc.db")
	out, cur := runQuickstart(t, quickstartPlan, dsn)
	storeHistory(t, dsn, cur, out.Report, func(string) string { return "another-fingerprint all" }, -0.31, -0.29)
	res, err := AfterRun(context.Background(), AfterRunOptions{PlanPath: quickstartPlan, StoreDSN: dsn, FailOnDrift: true, DriftWindow: 2}, out, nil)
	if err != nil || res.Drift.Checked || res.Judged != 0 || res.Unjudged == 0 {
		t.Fatalf("error %v, result %+v: want nothing judged", err, res)
	}
}

// Runs that agree with the history do not drift.
func TestNoDriftWhenStable(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "tc.db")
	out, cur := runQuickstart(t, quickstartPlan, dsn)
	storeHistory(t, dsn, cur, out.Report, nil, -0.001, 0.001, 0)
	res, err := AfterRun(context.Background(), AfterRunOptions{PlanPath: quickstartPlan, StoreDSN: dsn, FailOnDrift: true, DriftWindow: 3}, out, nil)
	if err != nil || !res.Drift.Checked || res.Drift.Flagged || res.Judged == 0 {
		t.Fatalf("error %v, result %+v: want judged, not flagged", err, res)
	}
}

// A webhook that keeps failing is a warning in the log and leaves the exit
// alone; with --notify-strict it fails a passing run with exit 3. Neither
// the warning nor the error shows the URL's token.
func TestNotifyFailureIsAWarning(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "tc.db")
	out, _ := runQuickstart(t, quickstartPlan, dsn)
	h := &hook{statuses: []int{503}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://bot:hunter2@", 1) + "/hooks/T123/SECRETPATH?token=QUERYTOKEN"
	for _, strict := range []bool{false, true} {
		var logBuf strings.Builder
		h.bodies = nil
		o := AfterRunOptions{PlanPath: quickstartPlan, StoreDSN: dsn, Notify: []string{url}, NotifyStrict: strict,
			NotifyClient: &notify.Client{HTTP: srv.Client(), Sleep: noWait}, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}
		res, err := AfterRun(context.Background(), o, out, nil)
		if len(h.bodies) != 3 || len(res.NotifyErrors) != 1 {
			t.Fatalf("strict %v: %d attempts, %d errors; want 3 attempts and 1 error", strict, len(h.bodies), len(res.NotifyErrors))
		}
		switch {
		case !strict && err != nil:
			t.Fatalf("a failed notification changed the exit: %v", err)
		case strict && exitcode.Of(err) != exitcode.Unreachable:
			t.Fatalf("strict: error %v (code %d), want exit 3", err, exitcode.Of(err))
		}
		if !strings.Contains(logBuf.String(), "webhook notification failed") {
			t.Fatalf("no warning in the log:\n%s", logBuf.String())
		}
		shown := logBuf.String()
		if err != nil {
			shown += err.Error()
		}
		for _, secret := range []string{"hunter2", "bot", "SECRETPATH", "T123", "QUERYTOKEN"} {
			if strings.Contains(shown, secret) {
				t.Errorf("strict %v: %q shown in %q", strict, secret, shown)
			}
		}
	}
	// a gate failure keeps its own exit whatever the webhook does
	gateErr := exitcode.WithCode(errors.New("a gate failed"), exitcode.GateFailed)
	o := AfterRunOptions{PlanPath: quickstartPlan, StoreDSN: dsn, Notify: []string{url}, NotifyStrict: true, NotifyClient: &notify.Client{HTTP: srv.Client(), Sleep: noWait}}
	if _, err := AfterRun(context.Background(), o, out, gateErr); exitcode.Of(err) != exitcode.GateFailed {
		t.Fatalf("error %v, want the gate's exit 1", err)
	}
}

// A run that stopped with an error still notifies, with the error and
// verdict "error".
func TestNotifyRunError(t *testing.T) {
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	runErr := exitcode.WithCode(errors.New("model tuned: connection refused"), exitcode.Unreachable)
	o := AfterRunOptions{Notify: []string{srv.URL}, NotifyClient: &notify.Client{HTTP: srv.Client()},
		Getenv: func(k string) string {
			return map[string]string{"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42"}[k]
		}}
	_, err := AfterRun(context.Background(), o, nil, runErr)
	if !errors.Is(err, runErr) {
		t.Fatalf("error %v, want the run's", err)
	}
	var p notify.Payload
	if len(h.bodies) != 1 || json.Unmarshal(h.bodies[0], &p) != nil {
		t.Fatalf("%d notifications", len(h.bodies))
	}
	if p.Verdict != "error" || p.ExitCode != 3 || p.Error != "model tuned: connection refused" || p.CIRunURL != "https://github.com/o/r/actions/runs/42" {
		t.Fatalf("payload %+v", p)
	}
}
