package classify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Perspective calls Google's Perspective API:
//
//	POST {BaseURL}/v1alpha1/comments:analyze?key=KEY
//	{"comment": {"text": "…"}, "languages": ["en"], "requestedAttributes": {"TOXICITY": {}, …}, "doNotStore": true}
//	→ {"attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.93, "type": "PROBABILITY"}, "spanScores": […]}}, "languages": ["en"], …}
//
// as documented at https://developers.perspectiveapi.com/s/about-the-api-methods
// (attributes: https://developers.perspectiveapi.com/s/about-the-api-attributes-and-languages).
// The default quota is 1 query per second
// (https://developers.perspectiveapi.com/s/about-the-api-limits), so calls
// pass a client-side rate limiter, 1 QPS unless Limiter says otherwise, shared
// by every goroutine using this value. A 429 is retried after its
// Retry-After (1 s, doubling, when absent), MaxRetries times; this is the
// only retry layer on this path. doNotStore is always set: evaluation
// outputs are not Google's to keep.
//
// Scores are keyed by the attribute in lower case ("toxicity",
// "severe_toxicity"), the names recorded score files use.
type Perspective struct {
	// BaseURL defaults to PerspectiveURL; tests point it at a local server.
	BaseURL string
	APIKey  string
	// Attributes default to TOXICITY.
	Attributes []string
	// Languages default to ["en"]; Perspective refuses an attribute it does
	// not support for a language, which is an error here.
	Languages []string
	Threshold float64
	// Limiter defaults to 1 request per second, burst 1.
	Limiter *rate.Limiter
	// MaxRetries on 429; 0 means 3, negative means none.
	MaxRetries int
	Client     *http.Client
	// Wait sleeps for a 429's delay; nil uses a timer. Tests replace it.
	Wait func(ctx context.Context, d time.Duration) error

	once sync.Once
	lim  *rate.Limiter
}

// PerspectiveURL is the API's root.
const PerspectiveURL = "https://commentanalyzer.googleapis.com"

// ProtocolPerspective names the protocol in errors.
const ProtocolPerspective = "perspective"

type perspectiveRequest struct {
	Comment struct {
		Text string `json:"text"`
	} `json:"comment"`
	Languages           []string            `json:"languages"`
	RequestedAttributes map[string]struct{} `json:"requestedAttributes"`
	DoNotStore          bool                `json:"doNotStore"`
}

type perspectiveResponse struct {
	AttributeScores map[string]struct {
		SummaryScore *struct {
			Value *float64 `json:"value"`
		} `json:"summaryScore"`
	} `json:"attributeScores"`
}

func (p *Perspective) limiter() *rate.Limiter {
	p.once.Do(func() {
		p.lim = p.Limiter
		if p.lim == nil {
			p.lim = rate.NewLimiter(1, 1)
		}
	})
	return p.lim
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Classify scores in.Text() on each attribute.
func (p *Perspective) Classify(ctx context.Context, in Input) (Result, error) {
	base := p.BaseURL
	if base == "" {
		base = PerspectiveURL
	}
	attrs := p.Attributes
	if len(attrs) == 0 {
		attrs = []string{"TOXICITY"}
	}
	langs := p.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	c := call{
		protocol: ProtocolPerspective, client: p.Client, secret: p.APIKey,
		url: trimBase(base) + "/v1alpha1/comments:analyze?key=" + url.QueryEscape(p.APIKey),
	}
	req := perspectiveRequest{Languages: langs, RequestedAttributes: map[string]struct{}{}, DoNotStore: true}
	req.Comment.Text = in.Text()
	for _, a := range attrs {
		req.RequestedAttributes[strings.ToUpper(a)] = struct{}{}
	}
	retries := p.MaxRetries
	if retries == 0 {
		retries = 3
	}
	wait := p.Wait
	if wait == nil {
		wait = sleepCtx
	}
	var b []byte
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		if err := p.limiter().Wait(ctx); err != nil {
			return Result{}, &callError{c, err}
		}
		var err error
		b, err = c.post(ctx, req)
		var he *HTTPError
		if err == nil {
			break
		}
		if !errors.As(err, &he) || he.Status != http.StatusTooManyRequests || attempt >= retries {
			return Result{}, err
		}
		d := he.RetryAfter
		if d == 0 {
			d = backoff
			backoff *= 2
		}
		if err := wait(ctx, d); err != nil {
			return Result{}, &callError{c, err}
		}
	}
	var r perspectiveResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	res := Result{Scores: map[string]float64{}, Raw: string(b)}
	th := p.Threshold
	if th == 0 {
		th = DefaultThreshold
	}
	for a := range req.RequestedAttributes {
		s, ok := r.AttributeScores[a]
		if !ok || s.SummaryScore == nil || s.SummaryScore.Value == nil {
			return Result{}, c.badReply(b, "no attributeScores.%s.summaryScore.value", a)
		}
		v := *s.SummaryScore.Value
		if err := score(a, v); err != nil {
			return Result{}, c.badReply(b, "%v", err)
		}
		key := strings.ToLower(a)
		res.Scores[key] = v
		if v >= th {
			res.Flagged = true
			res.Categories = append(res.Categories, key)
		}
	}
	slices.Sort(res.Categories)
	return res, nil
}

// callError is a failure before or between requests (cancellation while
// rate-limited), named like the others.
type callError struct {
	c   call
	err error
}

func (e *callError) Error() string {
	return e.c.protocol + " " + endpoint(e.c.url) + ": " + redact(e.err.Error(), e.c.secret)
}

func (e *callError) Unwrap() error { return e.err }
