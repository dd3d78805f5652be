// Package runner executes a run's requests against model endpoints: a bounded
// worker pool per model, request and token rate limits (golang.org/x/time/rate),
// the pipeline's one retry layer (exponential backoff with full jitter, as in the
// AWS Architecture Blog's "Exponential Backoff and Jitter", honouring Retry-After),
// the response cache, resume from the store, and progress.
//
// Every job ends as exactly one stored result: a success, a cache hit or a final
// failure with its error. Jobs cut short by cancellation are not stored, so that a
// resumed run (which skips the keys store.DoneKeys reports) sends them again.
// A job counts as done only once its result is committed (group commit,
// store.Writer.Commit), so a killed run re-sends at most the requests that were
// in flight.
package runner

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/store"
)

// Job is one request for one model within a stage of a task. The result
// key is (Model, Task, Stage, Request.ItemID). Endpoint names the endpoint
// that answers when it is not Model itself (a judge grading Model's output).
type Job struct {
	Model, Task, Stage string
	Endpoint           string
	Request            provider.Request
}

// endpoint is the name of the endpoint that serves j.
func (j Job) endpoint() string {
	if j.Endpoint != "" {
		return j.Endpoint
	}
	return j.Model
}

// Endpoint is a model the runner sends requests to, with its limits.
type Endpoint struct {
	Name     string
	Provider provider.Provider
	// CacheNamespace separates cache entries of different endpoints and models
	// (provider.CacheNamespace); it never contains the API key. Empty disables
	// the cache for this endpoint.
	CacheNamespace string
	// Concurrency is the number of requests in flight (default 8).
	Concurrency int
	// RequestsPerSecond limits request starts, retries included (0: unlimited).
	RequestsPerSecond float64
	// TokensPerMinute limits prompt+completion tokens (0: unlimited). Prompt tokens
	// are estimated before sending and the estimate is corrected by reported usage.
	TokensPerMinute int
	// Timeout bounds one attempt (0: none).
	Timeout time.Duration
	// MaxRetries is how many times a retryable failure is retried (0: never).
	MaxRetries int
}

// Options are the run-wide settings. Store is required.
type Options struct {
	Store *store.Store
	// Logger receives warnings and, when Terminal is false, a progress line every
	// LogEvery (default 10s). Nil discards.
	Logger   *slog.Logger
	LogEvery time.Duration
	// Terminal draws live progress bars on Progress.
	Terminal bool
	Progress io.Writer
	// BaseBackoff and MaxBackoff shape the retry delays: attempt n waits a uniform
	// random time in [0, min(MaxBackoff, BaseBackoff·2ⁿ)], or the server's
	// Retry-After when that is longer. Defaults 500ms and 30s.
	BaseBackoff, MaxBackoff time.Duration
	// NoCache neither reads nor writes the response cache.
	NoCache bool
	// Seed seeds the jitter (math/rand/v2 PCG) so that a run's delays can be replayed.
	Seed uint64
	// Now is the clock for latencies and rates (default time.Now).
	Now func() time.Time
	// Writer tunes result batching.
	Writer store.WriterOptions
	// Sent, when set, is told the endpoint and token usage of every answer
	// a request brought (not the cache's), once it is durable: a caller
	// keeps a budget with it (a judge's max_cost) and cancels the run's
	// context when it is spent. It is called from the workers concurrently.
	Sent func(endpoint string, usage provider.Usage)
}

// ModelSummary counts what happened to one model's jobs.
type ModelSummary struct {
	Model string `json:"model"`
	Jobs  int    `json:"jobs"`
	// Sent jobs went to the provider (at least one attempt); Cached were answered
	// from the cache; Resumed were already done in the store; Failed ended with an
	// error after retries; Retries counts extra attempts.
	Sent             int     `json:"sent"`
	Cached           int     `json:"cached"`
	Resumed          int     `json:"resumed"`
	Failed           int     `json:"failed"`
	Retries          int     `json:"retries"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	LatencyP50MS     float64 `json:"latency_p50_ms"`
	LatencyP95MS     float64 `json:"latency_p95_ms"`
	// Unfinished jobs were not done when the run was interrupted.
	Unfinished int `json:"unfinished"`
}

// Summary is what Run did, per model sorted by name.
type Summary struct {
	Models  []ModelSummary `json:"models"`
	Elapsed time.Duration  `json:"elapsed_ns"`
}

// Key returns the result key of a job.
func (j Job) Key() store.Key {
	return store.Key{Model: j.Model, Task: j.Task, Stage: j.Stage, ItemID: j.Request.ItemID}
}

// RequestHash is the sha256 of the request's canonical JSON, the same for every
// model given the same item.
func RequestHash(canonical []byte) string {
	h := sha256.Sum256(canonical)
	return hex.EncodeToString(h[:])
}

// CacheKey is sha256(namespace + canonical JSON of the request).
func CacheKey(namespace string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(namespace))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// Run sends the jobs of runID that the store does not already hold, writes a
// result for each and returns the per-model summary. On cancellation it stops
// sending, stores what finished and returns ctx.Err() with the summary so far.
func Run(ctx context.Context, endpoints map[string]Endpoint, runID string, jobs []Job, opts Options) (Summary, error) {
	if opts.Store == nil {
		return Summary{}, errors.New("runner: Options.Store is nil")
	}
	opts = withDefaults(opts)
	start := opts.Now()

	if err := validate(endpoints, jobs); err != nil {
		return Summary{}, err
	}
	done, err := opts.Store.DoneKeys(ctx, runID)
	if err != nil {
		return Summary{}, err
	}

	stats := map[string]*modelStats{}
	pending := map[string][]Job{}
	var groups []groupTotal
	groupIndex := map[[2]string]int{}
	for _, j := range jobs {
		st := stats[j.endpoint()]
		if st == nil {
			st = &modelStats{}
			stats[j.endpoint()] = st
		}
		st.jobs++
		gk := [2]string{j.Model, j.Task}
		gi, ok := groupIndex[gk]
		if !ok {
			gi = len(groups)
			groupIndex[gk] = gi
			label := j.Task
			if j.Stage != "" {
				label += " (" + j.Stage + ")"
			}
			groups = append(groups, groupTotal{model: j.Model, task: label})
		}
		groups[gi].total++
		if done[j.Key()] {
			st.resumed++
			groups[gi].resumed++
			continue
		}
		pending[j.endpoint()] = append(pending[j.endpoint()], j)
	}

	prog := newProgress(ctx, opts, groups)
	w := opts.Store.NewWriter(opts.Writer)
	r := &run{
		runID:  runID,
		opts:   opts,
		writer: w,
		prog:   prog,
		groups: groupIndex,
		rng:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}

	// Encode and look up every model's jobs before the first request goes out,
	// so that a store failure here leaves nothing half started.
	queues := map[string]chan prepared{}
	for name, js := range pending {
		ep := endpoints[name]
		useCache := !opts.NoCache && ep.CacheNamespace != ""
		q, err := prepare(ctx, opts.Store, ep, useCache, js)
		if err != nil {
			w.Close()
			prog.finish()
			return Summary{}, err
		}
		queues[name] = q
	}

	g, gctx := errgroup.WithContext(ctx)
	for name, queue := range queues {
		ep := endpoints[name]
		if ep.Concurrency == 0 {
			ep.Concurrency = 8
		}
		lim := newLimits(ep)
		st := stats[name]
		for range min(ep.Concurrency, len(pending[name])) {
			g.Go(func() error {
				for j := range queue {
					if gctx.Err() != nil {
						return nil
					}
					if err := r.do(gctx, ep, lim, st, j); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	runErr := g.Wait()
	// Finished results are committed even when ctx is cancelled (the writer uses
	// its own context), so an interrupted run resumes where it stopped.
	if err := w.Close(); err != nil && runErr == nil {
		runErr = err
	}
	prog.finish()

	sum := Summary{Elapsed: opts.Now().Sub(start)}
	for name, st := range stats {
		sum.Models = append(sum.Models, st.summary(name))
	}
	slices.SortFunc(sum.Models, func(a, b ModelSummary) int { return cmp.Compare(a.Model, b.Model) })
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, runErr
}

// prepared is a job with its canonical request encoded once.
type prepared struct {
	Job
	canonical []byte
	cacheKey  string // empty: the cache is off for this job
	cached    []byte // the cached response when the run started (nil: none)
}

// prepare encodes the jobs and reads the cached responses of those in the
// cache with a few batched queries, so that neither a miss nor a hit costs a
// query of its own. The hits' responses are held until their jobs run.
func prepare(ctx context.Context, s *store.Store, ep Endpoint, useCache bool, js []Job) (chan prepared, error) {
	queue := make(chan prepared, len(js))
	ps := make([]prepared, len(js))
	keys := make([]string, 0, len(js))
	for i, j := range js {
		canonical, err := json.Marshal(j.Request)
		if err != nil {
			return nil, fmt.Errorf("runner: encoding request %s/%s/%s: %w", j.Model, j.Task, j.Request.ItemID, err)
		}
		ps[i] = prepared{Job: j, canonical: canonical}
		if useCache {
			ps[i].cacheKey = CacheKey(ep.CacheNamespace, canonical)
			keys = append(keys, ps[i].cacheKey)
		}
	}
	var have map[string][]byte
	if len(keys) > 0 {
		var err error
		if have, err = s.CacheGetMany(ctx, keys); err != nil {
			return nil, err
		}
	}
	for _, p := range ps {
		p.cached = have[p.cacheKey]
		queue <- p
	}
	close(queue)
	return queue, nil
}

func withDefaults(o Options) Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LogEvery <= 0 {
		o.LogEvery = 10 * time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Terminal = false
	}
	return o
}

func validate(endpoints map[string]Endpoint, jobs []Job) error {
	for name, ep := range endpoints {
		if ep.Provider == nil {
			return fmt.Errorf("runner: endpoint %q has no provider", name)
		}
		if ep.Concurrency < 0 || ep.MaxRetries < 0 || ep.RequestsPerSecond < 0 || ep.TokensPerMinute < 0 || ep.Timeout < 0 {
			return fmt.Errorf("runner: endpoint %q: concurrency, max_retries, rate limits and timeout must not be negative", name)
		}
	}
	seen := make(map[store.Key]bool, len(jobs))
	for i, j := range jobs {
		if _, ok := endpoints[j.endpoint()]; !ok {
			return fmt.Errorf("runner: job %d (task %s, item %s) names endpoint %q, which is not an endpoint", i, j.Task, j.Request.ItemID, j.endpoint())
		}
		k := j.Key()
		if seen[k] {
			return fmt.Errorf("runner: job %d: item %q appears twice in task %s stage %q for model %s (item ids must be unique within a task)", i, j.Request.ItemID, j.Task, j.Stage, j.Model)
		}
		seen[k] = true
	}
	return nil
}

// run is the state shared by the workers of one Run call.
type run struct {
	runID  string
	opts   Options
	writer *store.Writer
	prog   progress
	groups map[[2]string]int

	rngMu sync.Mutex
	rng   *rand.Rand
}

// jitter draws the full-jitter delay for retry number n (0-based).
func (r *run) jitter(n int) time.Duration {
	ceiling := r.opts.BaseBackoff
	for range n {
		if ceiling >= r.opts.MaxBackoff/2 {
			ceiling = r.opts.MaxBackoff
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, r.opts.MaxBackoff)
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return time.Duration(r.rng.Int64N(int64(ceiling) + 1))
}

// do runs one job to its stored result. It returns an error only for failures
// that must stop the run (the store refused a write); provider failures become
// results, and cancellation leaves the job unstored.
func (r *run) do(ctx context.Context, ep Endpoint, lim *limits, st *modelStats, j prepared) error {
	res := store.Result{
		RunID: r.runID, Model: j.Model, Task: j.Task, Stage: j.Stage, ItemID: j.Request.ItemID, Endpoint: j.Endpoint,
		RequestHash: RequestHash(j.canonical), Request: j.canonical,
	}
	if j.cached != nil {
		val := j.cached
		var resp provider.Response
		if err := json.Unmarshal(val, &resp); err != nil {
			r.opts.Logger.Warn("cached response unreadable; sending the request", "model", j.Model, "item", j.Request.ItemID, "err", err)
		} else {
			res.Response = val
			res.Cached = true
			res.LatencyMS = resp.LatencyMS
			res.PromptTokens, res.CompletionTokens = resp.Usage.PromptTokens, resp.Usage.CompletionTokens
			if err := r.writer.Commit(context.WithoutCancel(ctx), res, nil); err != nil {
				return err
			}
			st.add(func(s *modelStats) { s.cached++ })
			r.prog.done(r.groups[[2]string{j.Model, j.Task}], false, 0)
			return nil
		}
	}

	began := r.opts.Now()
	resp, attempts, latency, err := r.attempt(ctx, ep, lim, j.Request)
	if err != nil && ctx.Err() != nil {
		// Interrupted, not failed: leave it for the resumed run.
		if attempts > 1 {
			st.add(func(s *modelStats) { s.retries += attempts - 1 })
		}
		return nil
	}
	res.Attempts = attempts
	res.LatencyMS = float64(latency) / float64(time.Millisecond)
	var cache *store.CacheEntry
	if err != nil {
		res.Error = err.Error()
	} else {
		resp.LatencyMS = res.LatencyMS
		val, merr := json.Marshal(resp)
		if merr != nil {
			return fmt.Errorf("runner: encoding response %s/%s/%s: %w", j.Model, j.Task, j.Request.ItemID, merr)
		}
		res.Response = val
		res.PromptTokens, res.CompletionTokens = resp.Usage.PromptTokens, resp.Usage.CompletionTokens
		if j.cacheKey != "" {
			cache = &store.CacheEntry{Key: j.cacheKey, Value: val}
		}
	}
	// The job is done once its result is durable, not when it is queued: this
	// worker takes no next job before, so a crash re-sends at most the requests
	// in flight (one per worker). An interrupted run still stores what finished.
	if err := r.writer.Commit(context.WithoutCancel(ctx), res, cache); err != nil {
		return err
	}
	failed := res.Error != ""
	if r.opts.Sent != nil && !failed {
		r.opts.Sent(ep.Name, resp.Usage)
	}
	st.add(func(s *modelStats) {
		s.sent++
		s.retries += attempts - 1
		if failed {
			s.failed++
		} else {
			s.promptTokens += res.PromptTokens
			s.completionTokens += res.CompletionTokens
			s.latencies = append(s.latencies, res.LatencyMS)
		}
	})
	r.prog.done(r.groups[[2]string{j.Model, j.Task}], failed, r.opts.Now().Sub(began))
	return nil
}

// attempt is the pipeline's one retry layer. It returns the response or the
// final error, the number of attempts made and the latency of the last one.
func (r *run) attempt(ctx context.Context, ep Endpoint, lim *limits, req provider.Request) (provider.Response, int, time.Duration, error) {
	estimate := estimateTokens(req)
	for n := 0; ; n++ {
		if err := lim.wait(ctx, estimate); err != nil {
			return provider.Response{}, n, 0, err
		}
		actx, cancel := ctx, context.CancelFunc(func() {})
		if ep.Timeout > 0 {
			actx, cancel = context.WithTimeout(ctx, ep.Timeout)
		}
		t0 := r.opts.Now()
		resp, err := ep.Provider.Do(actx, req)
		latency := r.opts.Now().Sub(t0)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			lim.correct(estimate, resp.Usage.PromptTokens+resp.Usage.CompletionTokens)
			return resp, n + 1, latency, nil
		}
		if ctx.Err() != nil {
			return provider.Response{}, n + 1, latency, err
		}
		if timedOut && !provider.IsRetryable(err) {
			// Our own per-attempt deadline: a timeout is worth retrying even when
			// the provider reported it as a plain context error.
			err = &provider.Error{Retryable: true, Err: fmt.Errorf("attempt timed out after %s: %w", ep.Timeout, err)}
		}
		if !provider.IsRetryable(err) || n >= ep.MaxRetries {
			if n > 0 {
				err = fmt.Errorf("after %d attempts: %w", n+1, err)
			}
			return provider.Response{}, n + 1, latency, err
		}
		delay := max(r.jitter(n), provider.RetryAfter(err))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return provider.Response{}, n + 1, latency, ctx.Err()
		}
	}
}

// estimateTokens guesses a request's prompt tokens before sending it, at four
// bytes a token (the usual rule of thumb for English BPE vocabularies); the
// usage the server reports corrects it afterwards.
func estimateTokens(req provider.Request) int {
	n := len(req.System) + len(req.Prompt) + len(req.Continuation)
	for _, m := range req.Messages {
		n += len(m.Content) + 4
	}
	return max(1, n/4)
}

// limits are one endpoint's rate limiters; nil limiters do not limit.
type limits struct {
	requests *rate.Limiter
	tokens   *rate.Limiter
}

func newLimits(ep Endpoint) *limits {
	l := &limits{}
	if ep.RequestsPerSecond > 0 {
		// Burst 1: requests are spaced evenly rather than sent in clumps, which
		// is what servers enforcing a per-second limit accept.
		l.requests = rate.NewLimiter(rate.Limit(ep.RequestsPerSecond), 1)
	}
	if ep.TokensPerMinute > 0 {
		// A minute's budget may be spent at once, as providers' per-minute windows allow.
		l.tokens = rate.NewLimiter(rate.Limit(float64(ep.TokensPerMinute)/60), ep.TokensPerMinute)
	}
	return l
}

func (l *limits) wait(ctx context.Context, estimate int) error {
	if l.requests != nil {
		if err := l.requests.Wait(ctx); err != nil {
			return waitErr(ctx, err)
		}
	}
	if l.tokens != nil {
		if err := l.tokens.WaitN(ctx, min(estimate, l.tokens.Burst())); err != nil {
			return waitErr(ctx, err)
		}
	}
	return nil
}

// waitErr reports cancellation as ctx.Err(): rate.Limiter says "would exceed
// context deadline" before the deadline has actually passed.
func waitErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, ok := ctx.Deadline(); ok {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

// correct charges the tokens the server reported beyond the estimate, so the
// next requests wait for them. An over-estimate is not refunded: x/time/rate
// cannot give back part of a reservation, and erring slow is the safe side.
func (l *limits) correct(estimate, actual int) {
	if l.tokens == nil || actual <= estimate {
		return
	}
	// time.Now, not Options.Now: the limiter's own Wait reads time.Now, and the
	// two must share one clock.
	l.tokens.ReserveN(time.Now(), min(actual-estimate, l.tokens.Burst()))
}

// modelStats accumulates one model's counts; its mutex is taken briefly per job.
type modelStats struct {
	mu                                           sync.Mutex
	jobs, sent, cached, resumed, failed, retries int
	promptTokens, completionTokens               int
	latencies                                    []float64
}

func (s *modelStats) add(f func(*modelStats)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

func (s *modelStats) summary(name string) ModelSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	return ModelSummary{
		Model: name, Jobs: s.jobs, Sent: s.sent, Cached: s.cached, Resumed: s.resumed, Failed: s.failed,
		Retries: s.retries, PromptTokens: s.promptTokens, CompletionTokens: s.completionTokens,
		LatencyP50MS: percentile(lat, 0.50), LatencyP95MS: percentile(lat, 0.95),
		Unfinished: s.jobs - s.sent - s.cached - s.resumed,
	}
}

// percentile interpolates linearly between closest ranks (numpy's default
// "linear" method) over sorted values; 0 for none.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := p * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}
