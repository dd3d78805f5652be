// Package classify owns the safety classifiers a safety stage calls on a
// prompt or a model's response: one Classifier interface over the protocols
// teams already run — OpenAI-compatible /moderations, Llama Guard 3/4 served
// as a chat model (vLLM, Ollama), sequence classifiers behind Hugging Face
// text-embeddings-inference /predict or vLLM /classify, Google's Perspective
// API — plus scores recorded elsewhere (internal/safety/toxicity's file
// format) and an offline word-list baseline that is only a crude lower bound.
//
// Each protocol file cites the documentation its request and response shapes
// follow. HTTP clients are passed in; nothing here reads the environment or
// logs. A failed or unparsable reply is always an error, never a clean score:
// errors name the protocol and endpoint, carry the HTTP status and a body
// excerpt, and never contain an API key.
package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Classifier scores one prompt or response for safety.
type Classifier interface {
	Classify(ctx context.Context, in Input) (Result, error)
}

// Input is what is classified. When Response is empty the prompt alone is
// classified; otherwise the response is (with the prompt as context where
// the protocol takes a conversation, as Llama Guard does).
type Input struct {
	// ID is the item id; only Recorded needs it.
	ID string
	// Sample is the index of the sampled generation, for recorded files that
	// hold several scores per item; 0 otherwise.
	Sample   int
	Prompt   string
	Response string
}

// Text is the text a single-text classifier scores: the response when there
// is one, else the prompt.
func (in Input) Text() string {
	if in.Response != "" {
		return in.Response
	}
	return in.Prompt
}

// Result is one classification.
type Result struct {
	// Flagged says the classifier judged the text unsafe (or, for score-only
	// classifiers, that a score reached the threshold).
	Flagged bool
	// Scores maps category → score in [0, 1].
	Scores map[string]float64
	// Categories are the flagged categories, sorted.
	Categories []string
	// Raw is the classifier's reply as received, for reports.
	Raw string
	// Note is a caveat every report using this result must show (the word
	// list's "crude lower bound"); empty for the real classifiers.
	Note string
}

// DefaultThreshold is the score at which the score-only classifiers flag,
// as the toxicity metrics use it.
const DefaultThreshold = 0.5

// HTTPError is a classifier endpoint's non-2xx reply.
type HTTPError struct {
	Protocol string
	// Endpoint is the method and URL without its query (where Perspective's
	// key travels).
	Endpoint string
	Status   int
	// Body is an excerpt of the reply body, with any key removed.
	Body string
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s: %s", e.Protocol, e.Endpoint, e.Status, http.StatusText(e.Status), e.Body)
}

const excerptLen = 512

// excerpt shortens a body for an error message, on a rune boundary, with
// secret removed.
func excerpt(b []byte, secret string) string {
	s := strings.TrimSpace(string(b))
	s = redact(s, secret)
	if len(s) > excerptLen {
		cut := excerptLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, "REDACTED")
	// A key in a URL may appear escaped.
	if q := url.QueryEscape(secret); q != secret {
		s = strings.ReplaceAll(s, q, "REDACTED")
	}
	return s
}

// endpoint is the URL as errors show it: no query, no user info.
func endpoint(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.RawQuery, p.User, p.Fragment = "", nil, ""
	return "POST " + p.String()
}

// call is one JSON POST. It returns the body of a 2xx reply; anything else
// is an *HTTPError. secret is removed from every error it returns.
type call struct {
	protocol string
	client   *http.Client
	url      string
	header   http.Header
	secret   string
}

func (c call) post(ctx context.Context, req any) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: encoding request: %w", c.protocol, endpoint(c.url), err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s", c.protocol, endpoint(c.url), redact(err.Error(), c.secret))
	}
	for k, v := range c.header {
		hr.Header[k] = v
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	client := c.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		// *url.Error carries the full URL, key included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", c.protocol, endpoint(c.url), ctx.Err())
		}
		return nil, fmt.Errorf("%s %s: %s", c.protocol, endpoint(c.url), redact(err.Error(), c.secret))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d: reading body: %s", c.protocol, endpoint(c.url), resp.StatusCode, redact(err.Error(), c.secret))
	}
	if resp.StatusCode/100 != 2 {
		return nil, &HTTPError{
			Protocol:   c.protocol,
			Endpoint:   endpoint(c.url),
			Status:     resp.StatusCode,
			Body:       excerpt(b, c.secret),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	}
	return b, nil
}

// badReply is the error for a 2xx reply that does not have the documented shape.
func (c call) badReply(b []byte, format string, args ...any) error {
	return fmt.Errorf("%s %s: unexpected reply (%s): %s", c.protocol, endpoint(c.url), fmt.Sprintf(format, args...), excerpt(b, c.secret))
}

// retryAfter reads Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// score checks a classifier's score is a probability.
func score(name string, x float64) error {
	if x != x || x < 0 || x > 1 {
		return fmt.Errorf("score of %q is %v, outside [0, 1]", name, x)
	}
	return nil
}

func trimBase(base string) string { return strings.TrimRight(base, "/") }
