package notify

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
)

// receiver is a webhook that answers with the statuses given in turn (the
// last one from then on) and keeps what it received.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	headers  []http.Header
	paths    []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.bodies = append(rc.bodies, b)
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.paths = append(rc.paths, r.Method+" "+r.URL.RequestURI())
	st := rc.statuses[min(len(rc.bodies)-1, len(rc.statuses)-1)]
	w.WriteHeader(st)
	// a receiver that echoes the request must not get the token printed
	_, _ = w.Write([]byte(r.URL.RequestURI()))
}

func sample() Payload {
	rep := &report.Report{Plan: report.PlanInfo{Name: "nightly", Hash: "abc123"}, Verdict: gate.Fail,
		Gates: []gate.Result{
			{Gate: gate.Gate{Expr: "qa.exact_match.delta.ci_low >= 0"}, Status: gate.Fail, Value: -0.04, Reason: "the interval's low end is below 0"},
			{Gate: gate.Gate{Expr: "qa.f1.delta >= 0"}, Status: gate.Pass, Value: 0.1},
		}}
	return Build(Input{ToolVersion: "v1.2.3", RunID: "20261206T010000Z-abcd", Report: rep, ExitCode: 1,
		Drift: Drift{Checked: true, Flagged: true, Window: 5, Metrics: []DriftMetric{
			{Task: "qa", Model: "tuned", Metric: "f1", Direction: "down", Value: 0.5, Low: 0.6, High: 0.8, Center: 0.7},
			{Task: "qa", Model: "tuned", Metric: "exact_match", Direction: "down", Value: 0.4, Low: 0.5, High: 0.7, Center: 0.6},
		}},
		Reports:  []string{"out/report.md", "out/results.json"},
		CIRunURL: "https://github.com/o/r/actions/runs/1",
		Started:  time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 6, 1, 5, 0, 0, time.UTC)})
}

func noSleep(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil }
}

// The webhook receives exactly the documented schema, signed.
func TestSendPayloadSchemaAndSignature(t *testing.T) {
	rc := &receiver{statuses: []int{204}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	secret := []byte("s3cret")
	c := Client{HTTP: srv.Client(), Secret: secret}
	if err := c.Send(context.Background(), srv.URL+"/hook", sample()); err != nil {
		t.Fatal(err)
	}
	if len(rc.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(rc.bodies))
	}
	h, body := rc.headers[0], rc.bodies[0]
	if rc.paths[0] != "POST /hook" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s with Content-Type %q", rc.paths[0], h.Get("Content-Type"))
	}
	// the receiver's check, as docs/continuous.md describes it
	got := h.Get(SignatureHeader)
	if !strings.HasPrefix(got, "sha256=") || !hmac.Equal([]byte(got), []byte(Sign(secret, body))) {
		t.Fatalf("signature %q does not verify", got)
	}
	if Sign([]byte("other"), body) == got {
		t.Fatal("a different secret gives the same signature")
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"ci_run_url", "drift", "exit_code", "finished_at", "gates_failed", "plan", "reports", "run_id", "schema", "started_at", "tool_version", "verdict"}
	if keys := sortedKeys(doc); strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("top-level fields %v, want %v", keys, want)
	}
	if doc["schema"] != "tunecheck.notify/v1" || doc["verdict"] != "fail" || doc["exit_code"] != 1.0 || doc["started_at"] != "2026-12-06T01:00:00Z" {
		t.Fatalf("payload %s", body)
	}
	gates := doc["gates_failed"].([]any)
	if len(gates) != 1 || gates[0].(map[string]any)["expr"] != "qa.exact_match.delta.ci_low >= 0" {
		t.Fatalf("gates_failed %v, want only the failed gate", gates)
	}
	drift := doc["drift"].(map[string]any)
	ms := drift["metrics"].([]any)
	if drift["flagged"] != true || len(ms) != 2 || ms[0].(map[string]any)["metric"] != "exact_match" {
		t.Fatalf("drift %v, want flagged, metrics sorted by task, model, metric", drift)
	}
	for _, f := range []string{"task", "model", "metric", "direction", "value", "low", "high", "center"} {
		if _, ok := ms[0].(map[string]any)[f]; !ok {
			t.Errorf("drift metric lacks %q", f)
		}
	}
	if p := doc["plan"].(map[string]any); p["name"] != "nightly" || p["hash"] != "abc123" {
		t.Fatalf("plan %v", p)
	}
}

func TestNoSignatureWithoutSecret(t *testing.T) {
	rc := &receiver{statuses: []int{200}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	if err := (&Client{HTTP: srv.Client()}).Send(context.Background(), srv.URL, sample()); err != nil {
		t.Fatal(err)
	}
	if v := rc.headers[0].Get(SignatureHeader); v != "" {
		t.Fatalf("signature %q sent without a secret", v)
	}
}

func TestRetriesOn503ThenSucceeds(t *testing.T) {
	rc := &receiver{statuses: []int{503, 503, 200}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var waits []time.Duration
	c := Client{HTTP: srv.Client(), Sleep: noSleep(&waits)}
	if err := c.Send(context.Background(), srv.URL, sample()); err != nil {
		t.Fatal(err)
	}
	if len(rc.bodies) != 3 || len(waits) != 2 || waits[0] != time.Second || waits[1] != 2*time.Second {
		t.Fatalf("%d attempts, waits %v; want 3 attempts after 1s and 2s", len(rc.bodies), waits)
	}
}

func TestGivesUpAfterTwoRetries(t *testing.T) {
	rc := &receiver{statuses: []int{500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var waits []time.Duration
	err := (&Client{HTTP: srv.Client(), Sleep: noSleep(&waits)}).Send(context.Background(), srv.URL+"/t/SECRET", sample())
	var ne *Error
	if !errors.As(err, &ne) || ne.Attempts != 3 || ne.Status != 500 || len(rc.bodies) != 3 {
		t.Fatalf("error %v (%d requests), want 3 attempts ending in HTTP 500", err, len(rc.bodies))
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("the message shows the token: %v", err)
	}
}

func TestNoRetryOnClientError(t *testing.T) {
	for _, st := range []int{400, 401, 404} {
		rc := &receiver{statuses: []int{st}}
		srv := httptest.NewServer(rc)
		var waits []time.Duration
		err := (&Client{HTTP: srv.Client(), Sleep: noSleep(&waits)}).Send(context.Background(), srv.URL, sample())
		srv.Close()
		if err == nil || len(rc.bodies) != 1 || len(waits) != 0 {
			t.Fatalf("HTTP %d: error %v after %d requests; want one attempt and an error", st, err, len(rc.bodies))
		}
	}
	// 429 is worth waiting for
	rc := &receiver{statuses: []int{429, 202}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var waits []time.Duration
	if err := (&Client{HTTP: srv.Client(), Sleep: noSleep(&waits)}).Send(context.Background(), srv.URL, sample()); err != nil || len(rc.bodies) != 2 {
		t.Fatalf("429 then 202: %v after %d requests", err, len(rc.bodies))
	}
}

// A network error is retried, and its message (net/http quotes the whole
// URL) shows neither the user info, the path token nor the query token.
func TestNetworkErrorRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	raw := "http://alice:pa55word@" + addr + "/services/T000/B000/XOXOtoken?token=qtoken123&sig=abc"
	var waits []time.Duration
	err = (&Client{Sleep: noSleep(&waits), Timeout: 2 * time.Second}).Send(context.Background(), raw, sample())
	var ne *Error
	if !errors.As(err, &ne) || ne.Attempts != 3 || ne.Status != 0 {
		t.Fatalf("error %v, want 3 attempts of a network error", err)
	}
	msg := err.Error()
	for _, secret := range []string{"alice", "pa55word", "XOXOtoken", "qtoken123", "services", "sig=abc"} {
		if strings.Contains(msg, secret) {
			t.Errorf("message %q shows %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "http://"+addr+"/…") {
		t.Errorf("message %q does not name the webhook by scheme and host", msg)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/…"},
		{"https://user:pw@example.com:8443/hook?token=1", "https://example.com:8443/…"},
		{"https://example.com", "https://example.com"},
		{"https://example.com/", "https://example.com"},
		{"https://example.com?k=v", "https://example.com/…"},
		{"not a url at all", "(a webhook URL that does not parse)"},
		{"://bad", "(a webhook URL that does not parse)"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRefusesNonHTTP(t *testing.T) {
	err := (&Client{}).Send(context.Background(), "file:///etc/passwd", sample())
	if err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Fatalf("error %v", err)
	}
}

func TestBuildWithoutReport(t *testing.T) {
	p := Build(Input{RunID: "", PlanName: "nightly", ExitCode: 3, Err: errors.New("model tuned: connection refused\x1b[2J")})
	if p.Verdict != "error" || p.Error != "model tuned: connection refused" || p.GatesFailed == nil || p.Drift.Metrics == nil || p.Plan.Name != "nightly" {
		t.Fatalf("payload %+v", p)
	}
	b, _ := json.Marshal(p)
	if !strings.Contains(string(b), `"gates_failed":[]`) || !strings.Contains(string(b), `"metrics":[]`) {
		t.Fatalf("empty lists must be [] not null: %s", b)
	}
}

func TestCancelledContextStops(t *testing.T) {
	rc := &receiver{statuses: []int{503}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := Client{HTTP: srv.Client(), Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	err := c.Send(ctx, srv.URL, sample())
	if !errors.Is(err, context.Canceled) || len(rc.bodies) != 1 {
		t.Fatalf("error %v after %d requests, want cancelled after 1", err, len(rc.bodies))
	}
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
