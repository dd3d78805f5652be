// Package notify tells a webhook how a scheduled `tunecheck run` went: it
// builds a short, versioned JSON document from a finished run (Build, pure)
// and POSTs it (Client.Send) with a per-attempt timeout, two retries with
// back-off on network errors, 429 and 5xx, and an optional HMAC-SHA256
// signature of the body in X-Tunecheck-Signature ("sha256=" and the hex
// digest, GitHub's webhook convention) when a secret is set.
//
// Webhook URLs often carry their token (Slack and Teams in the path, others
// in the query or the user info), so nothing here ever prints one: errors
// name a webhook by Redact — its scheme and host only.
//
// The client is hand-written on net/http: one POST with a bounded retry is a
// few lines, and a retry library would bring a second retry layer's worth of
// options for none of them to be used.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
)

// Schema is the payload's version; it changes only when a field changes
// meaning or goes away (added fields keep it).
const Schema = "tunecheck.notify/v1"

// SignatureHeader carries "sha256=" + hex(HMAC-SHA256(secret, body)).
const SignatureHeader = "X-Tunecheck-Signature"

// Payload is the document POSTed to a webhook; docs/continuous.md lists
// every field.
type Payload struct {
	Schema      string `json:"schema"`
	ToolVersion string `json:"tool_version"`
	RunID       string `json:"run_id"`
	Plan        Plan   `json:"plan"`
	// Verdict is pass, fail, inconclusive or error; error also when the run
	// stopped before a verdict (Error says why).
	Verdict string `json:"verdict"`
	// ExitCode is the exit status `tunecheck run` ends with.
	ExitCode    int          `json:"exit_code"`
	GatesFailed []FailedGate `json:"gates_failed"`
	Drift       Drift        `json:"drift"`
	// Reports are the report files the run wrote (paths as given), and
	// CIRunURL the CI job's page when the job says where it is.
	Reports    []string  `json:"reports"`
	CIRunURL   string    `json:"ci_run_url,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Error is the run's error when it stopped with one.
	Error string `json:"error,omitempty"`
}

// Plan names the plan a run executed.
type Plan struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
}

// FailedGate is a gate whose status is not pass.
type FailedGate struct {
	Expr   string  `json:"expr"`
	Status string  `json:"status"`
	Value  float64 `json:"value"`
	Reason string  `json:"reason"`
}

// Drift is the run's comparison with the history of its plan and eval set.
type Drift struct {
	// Checked is false when drift was not looked at (no --fail-on-drift
	// and no history); Flagged when any metric drifted.
	Checked bool `json:"checked"`
	Flagged bool `json:"flagged"`
	// Window is how many earlier runs each metric is judged against.
	Window int `json:"window"`
	// Metrics are the drifted metrics only.
	Metrics []DriftMetric `json:"metrics"`
}

// DriftMetric is one metric that left its prediction interval.
type DriftMetric struct {
	Task      string  `json:"task"`
	Model     string  `json:"model"`
	Metric    string  `json:"metric"`
	Direction string  `json:"direction"` // up or down
	Value     float64 `json:"value"`
	// Low..High is the interval the history predicted; Center its middle.
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	Center float64 `json:"center"`
}

// Input is what Build needs; Report may be nil for a run that stopped early.
type Input struct {
	ToolVersion string
	RunID       string
	PlanName    string
	Report      *report.Report
	ExitCode    int
	Drift       Drift
	Reports     []string
	CIRunURL    string
	Started     time.Time
	Finished    time.Time
	Err         error
}

// maxErrorLen bounds the error text a payload carries.
const maxErrorLen = 500

// Build makes the payload; it is pure.
func Build(in Input) Payload {
	p := Payload{Schema: Schema, ToolVersion: in.ToolVersion, RunID: in.RunID, Plan: Plan{Name: in.PlanName},
		Verdict: string(gate.Error), ExitCode: in.ExitCode, GatesFailed: []FailedGate{}, Drift: in.Drift,
		Reports: append([]string{}, in.Reports...), CIRunURL: in.CIRunURL, StartedAt: in.Started.UTC(), FinishedAt: in.Finished.UTC()}
	if p.Drift.Metrics == nil {
		p.Drift.Metrics = []DriftMetric{}
	}
	sort.SliceStable(p.Drift.Metrics, func(i, j int) bool {
		a, b := p.Drift.Metrics[i], p.Drift.Metrics[j]
		return a.Task+"\x00"+a.Model+"\x00"+a.Metric < b.Task+"\x00"+b.Model+"\x00"+b.Metric
	})
	if r := in.Report; r != nil {
		if r.Plan.Name != "" {
			p.Plan.Name = r.Plan.Name
		}
		p.Plan.Hash = r.Plan.Hash
		if r.Verdict != "" {
			p.Verdict = string(r.Verdict)
		}
		for _, g := range r.Gates {
			if g.Status != gate.Pass {
				p.GatesFailed = append(p.GatesFailed, FailedGate{Expr: g.Expr, Status: string(g.Status), Value: finiteOr0(g.Value), Reason: g.Reason})
			}
		}
	}
	if in.Err != nil {
		p.Verdict = string(gate.Error)
		msg := report.PlainText(in.Err.Error())
		if r := []rune(msg); len(r) > maxErrorLen {
			msg = string(r[:maxErrorLen-1]) + "…"
		}
		p.Error = msg
	}
	return p
}

func finiteOr0(v float64) float64 {
	if v != v || v > 1e308 || v < -1e308 {
		return 0
	}
	return v
}

// Client posts payloads. The zero value is ready: http.DefaultClient's
// transport, a 10 s timeout per attempt, two retries after 1 s and 2 s.
type Client struct {
	// HTTP sends the requests (nil: a client of its own).
	HTTP *http.Client
	// Timeout bounds each attempt (10 s when 0).
	Timeout time.Duration
	// Retries is how many attempts follow a failed first one (2 when 0;
	// NoRetry makes it none); Backoff is the first wait, doubled after each.
	Retries int
	NoRetry bool
	Backoff time.Duration
	// Secret signs the body when set.
	Secret []byte
	// UserAgent is sent as User-Agent ("tunecheck" when "").
	UserAgent string
	// Sleep waits between attempts (tests pass a recorder; nil waits).
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Client) defaults() (retries int, backoff, timeout time.Duration) {
	retries, backoff, timeout = c.Retries, c.Backoff, c.Timeout
	if retries <= 0 {
		retries = 2
	}
	if c.NoRetry {
		retries = 0
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return
}

// Error is a notification that did not get through. Its message names the
// webhook by Redact only.
type Error struct {
	URL      string // redacted
	Attempts int
	Status   int // the last HTTP status, 0 for a network error
	Err      error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("notifying %s: HTTP %d after %d attempt(s)", e.URL, e.Status, e.Attempts)
	}
	return fmt.Sprintf("notifying %s: %v after %d attempt(s)", e.URL, e.Err, e.Attempts)
}

func (e *Error) Unwrap() error { return e.Err }

// Sign returns the signature header's value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send POSTs p to rawURL as application/json. It retries a network error,
// 429 and any 5xx; another 4xx is final. A 2xx is success.
func (c *Client) Send(ctx context.Context, rawURL string, p Payload) error {
	red := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{URL: red, Err: errors.New("not an http(s) URL")}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return &Error{URL: red, Err: err}
	}
	retries, backoff, timeout := c.defaults()
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = wait
	}
	e := &Error{URL: red}
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff<<(attempt-1)); err != nil {
				e.Err = err
				return e
			}
		}
		e.Attempts = attempt + 1
		status, err := c.post(ctx, hc, u.String(), body, timeout)
		e.Status, e.Err = status, scrub(err, rawURL, red)
		switch {
		case err == nil && status >= 200 && status < 300:
			return nil
		case ctx.Err() != nil:
			e.Err = ctx.Err()
			return e
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			return e // a 4xx will not change on retry
		}
	}
	return e
}

func (c *Client) post(ctx context.Context, hc *http.Client, u string, body []byte, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	ua := c.UserAgent
	if ua == "" {
		ua = "tunecheck"
	}
	req.Header.Set("User-Agent", ua)
	if len(c.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(c.Secret, body))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the body itself is
	// never shown (a receiver may echo the request, token and all).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scrub removes the URL from a transport error: net/http's *url.Error
// quotes the whole URL, token included.
func scrub(err error, raw, red string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if strings.Contains(msg, raw) {
		msg = strings.ReplaceAll(msg, raw, red)
	}
	if u, perr := url.Parse(raw); perr == nil {
		for _, s := range []string{u.RawQuery, u.User.String(), u.EscapedPath()} {
			if len(s) > 1 {
				msg = strings.ReplaceAll(msg, s, "…")
			}
		}
	}
	return errors.New(msg)
}

// Redact names a webhook without its secrets: scheme and host (with port),
// and "/…" when there was anything after them. User info, path, query and
// fragment are all left out, since each of them carries tokens for some
// webhook service.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a webhook URL that does not parse)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		s += "/…"
	}
	return s
}
