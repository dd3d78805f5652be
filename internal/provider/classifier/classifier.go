// Package classifier turns a safety classifier (internal/safety/classify)
// into a provider.Provider, so that the classify stage of a run goes through
// the runner like any model: its cache, retries, rate limits and resume.
//
// A request has Type provider.Classify, ItemID "ITEM@CLASSIFIER" (or
// "ITEM@CLASSIFIER#k" for sample k of an item), and Messages holding the
// user's prompt and the assistant's answer to be scored. The response
// carries the classifier's Scores and, in Text, its flagged categories.
package classifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/safety/classify"
	"github.com/tunecheck/tunecheck/internal/safety/toxicity"
)

// Provider classifies the answer of a Classify request.
type Provider struct {
	C classify.Classifier
}

// Do makes one classification. An HTTP 429 or 5xx, or a timeout, is
// retryable for the runner; a reply of the wrong shape is not.
func (p *Provider) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	if req.Type != provider.Classify {
		return provider.Response{}, fmt.Errorf("a classifier serves classify requests, not %s: %w", req.Type, provider.ErrUnsupported)
	}
	id, sample := SplitID(req.ItemID)
	in := classify.Input{ID: id, Sample: sample}
	for _, m := range req.Messages {
		switch m.Role {
		case "user":
			in.Prompt = m.Content
		case "assistant":
			in.Response = m.Content
		}
	}
	res, err := p.C.Classify(ctx, in)
	if err != nil {
		return provider.Response{}, wrap(err)
	}
	return provider.Response{Scores: res.Scores, Text: strings.Join(res.Categories, ",")}, nil
}

// SplitID reads "ITEM@CLASSIFIER#k" back into the item id and sample k
// (0 without "#k"). Item ids may themselves contain "@": the last one splits.
func SplitID(s string) (item string, sample int) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s, 0
	}
	item, rest := s[:at], s[at+1:]
	if h := strings.LastIndexByte(rest, '#'); h >= 0 {
		if k, err := strconv.Atoi(rest[h+1:]); err == nil {
			sample = k
		}
	}
	return item, sample
}

func wrap(err error) error {
	var he *classify.HTTPError
	if errors.As(err, &he) {
		retry := he.Status == http.StatusTooManyRequests || he.Status >= 500
		return &provider.Error{Status: he.Status, Retryable: retry, RetryAfter: he.RetryAfter, Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &provider.Error{Retryable: true, Err: err}
	}
	return err
}

// Endpoint is a classifier built from the plan, with what the runner needs.
type Endpoint struct {
	Provider *Provider
	// CacheNamespace is empty for the file-backed protocols (recorded,
	// wordlist): reading a file is cheap, and a cached score would outlive
	// an edit of the file.
	CacheNamespace string
	Timeout        time.Duration
	MaxRetries     int
}

// FromPlan builds classifier c of a plan: the API key read through getenv
// by the name api_key_env gives, files resolved against planDir.
func FromPlan(c plan.Classifier, getenv func(string) string, planDir string, client *http.Client) (Endpoint, error) {
	ep := Endpoint{Timeout: 120 * time.Second, MaxRetries: 5}
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 {
			return ep, fmt.Errorf("classifier %s: timeout %q is not a positive Go duration such as 120s", c.Name, c.Timeout)
		}
		ep.Timeout = d
	}
	if c.MaxRetries != nil {
		ep.MaxRetries = *c.MaxRetries
	}
	key := ""
	if c.APIKeyEnv != "" {
		if getenv != nil {
			key = getenv(c.APIKeyEnv)
		}
		if key == "" {
			return ep, fmt.Errorf("classifier %s: environment variable %s (api_key_env) is empty; export it or remove api_key_env for a server without keys", c.Name, c.APIKeyEnv)
		}
	}
	path := c.Path
	if path != "" && !filepath.IsAbs(path) && planDir != "" {
		path = filepath.Join(planDir, path)
	}
	labels := classify.Labels{Toxic: c.ToxicLabels, Threshold: c.Threshold}
	var cl classify.Classifier
	switch c.Protocol {
	case plan.ClassifierModeration:
		cl = &classify.Moderation{BaseURL: c.BaseURL, APIKey: key, Model: c.Model, Client: client}
	case plan.ClassifierLlamaGuard:
		cl = &classify.LlamaGuard{BaseURL: c.BaseURL, APIKey: key, Model: c.Model, Client: client}
	case plan.ClassifierTEI:
		cl = &classify.TEI{BaseURL: c.BaseURL, APIKey: key, Labels: labels, Client: client}
	case plan.ClassifierVLLMClassify:
		cl = &classify.VLLMClassify{BaseURL: c.BaseURL, APIKey: key, Model: c.Model, Labels: labels, Client: client}
	case plan.ClassifierPerspective:
		ps := &classify.Perspective{BaseURL: c.BaseURL, APIKey: key, Threshold: c.Threshold, Client: client, MaxRetries: -1}
		if a := c.Attribute; a != "" {
			ps.Attributes = []string{strings.ToUpper(a)}
		}
		// The runner's rate limit, when the plan sets one, replaces
		// Perspective's default of one request per second; the runner is
		// the one retry layer.
		if c.RateLimit.RequestsPerSecond > 0 {
			ps.Limiter = rate.NewLimiter(rate.Inf, 1)
		}
		cl = ps
	case plan.ClassifierRecorded:
		f, err := os.Open(path)
		if err != nil {
			return ep, fmt.Errorf("classifier %s: %w", c.Name, err)
		}
		defer f.Close()
		s, err := toxicity.Read(f, c.Path)
		if err != nil {
			return ep, fmt.Errorf("classifier %s: %w", c.Name, err)
		}
		cl = &classify.Recorded{Scores: s, Name: c.Path, Attr: c.Attribute, Threshold: c.Threshold}
	case plan.ClassifierWordList:
		f, err := os.Open(path)
		if err != nil {
			return ep, fmt.Errorf("classifier %s: %w", c.Name, err)
		}
		defer f.Close()
		w, err := classify.ReadWordList(f, c.Path)
		if err != nil {
			return ep, fmt.Errorf("classifier %s: %w", c.Name, err)
		}
		cl = w
	default:
		return ep, fmt.Errorf("classifier %s: unknown protocol %q", c.Name, c.Protocol)
	}
	ep.Provider = &Provider{C: cl}
	if c.Protocol != plan.ClassifierRecorded && c.Protocol != plan.ClassifierWordList {
		ep.CacheNamespace = strings.Join([]string{"classify", c.Protocol, strings.TrimRight(c.BaseURL, "/"), c.Model, c.Attribute, strings.Join(c.ToxicLabels, ",")}, "|")
	}
	return ep, nil
}

// Score is the output's toxicity by classifier c's reading of scores: the
// attribute the plan names, else the protocol's — "toxicity" (perspective,
// recorded), the largest category score (moderation), "unsafe" (llamaguard:
// 1 or 0), the largest toxic label's (tei, vllm_classify), "wordlist" (1 or
// 0). ok is false when the scores lack it: never read as 0.
func Score(c plan.Classifier, scores map[string]float64) (float64, bool) {
	get := func(k string) (float64, bool) {
		if v, ok := scores[k]; ok {
			return v, true
		}
		// Perspective's attributes come back in lower case.
		v, ok := scores[strings.ToLower(k)]
		return v, ok
	}
	if c.Attribute != "" {
		return get(c.Attribute)
	}
	switch c.Protocol {
	case plan.ClassifierModeration:
		best, found := 0.0, false
		for _, v := range scores {
			if !found || v > best {
				best, found = v, true
			}
		}
		return best, found
	case plan.ClassifierLlamaGuard:
		return get("unsafe")
	case plan.ClassifierTEI, plan.ClassifierVLLMClassify:
		best, found := 0.0, false
		for _, l := range c.ToxicLabels {
			if v, ok := scores[l]; ok && (!found || v > best) {
				best, found = v, true
			}
		}
		return best, found
	case plan.ClassifierWordList:
		return get("wordlist")
	}
	return get("toxicity")
}
