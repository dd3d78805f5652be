package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Replicas spreads one model's requests over several replicas of the same
// deployment (plan key base_urls: the pods of one vLLM or TGI service), each
// an ordinary Provider for its own base URL.
//
// Choice: each request goes to the healthy replica with the fewest requests
// in flight; ties are broken round-robin, so an idle pool is filled evenly.
//
// Failover is not a retry layer of its own: within one Do, a replica that
// fails with an error worth retrying (refused or reset connection, timeout,
// 429, 5xx, truncated body) is marked down and the same attempt moves at once,
// without waiting, to another replica that is up. Only when every replica is
// down does Do return an error — retryable, with RetryAfter set to when the
// first replica comes back — and the runner's one retry layer waits for it.
// Errors that are the request's fault (400, 401, 404, unsupported) are
// returned as they are and leave the replica up.
//
// Health: a replica marked down sits out an exponential back-off (BaseBackoff
// doubled per consecutive failure, capped at MaxBackoff), or the server's
// Retry-After when that is longer. When the back-off ends the replica is
// half-open: the next real request probes it — one at a time, so a replica
// that is still broken costs one request, not a burst. Success makes it
// healthy again. There is no separate health call: servers differ in what
// they expose (vLLM /health, TGI /health, hosted APIs nothing), while a real
// request tests exactly what the run needs.
//
// Which replica answered is not part of anything stored: the response cache
// namespace of a replicated model is ReplicaCacheNamespace, the same whichever
// replica answers.
type Replicas struct {
	opts ReplicaOptions

	mu   sync.Mutex
	reps []*replica
	next int // round-robin start for ties
}

// ReplicaOptions tune Replicas. Zero values take the defaults.
type ReplicaOptions struct {
	// BaseBackoff is how long a replica sits out after its first failure
	// (default 1s); each further consecutive failure doubles it.
	BaseBackoff time.Duration
	// MaxBackoff caps the back-off (default 60s); a longer Retry-After wins.
	MaxBackoff time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Replica is one replica: its base URL (for stats and errors) and the
// provider that sends to it.
type Replica struct {
	URL      string
	Provider Provider
}

// ReplicaStats count what one replica did.
type ReplicaStats struct {
	URL      string `json:"url"`
	Requests int    `json:"requests"`
	Errors   int    `json:"errors"`
	// MarkedDown counts the times the replica was taken out of rotation.
	MarkedDown int `json:"marked_down"`
	// LatencyMS is the mean latency of the replica's successful requests.
	LatencyMS float64 `json:"latency_ms"`
	// Down is true when the replica is sitting out a back-off right now.
	Down bool `json:"down"`
}

type replica struct {
	Replica
	inFlight  int
	fails     int       // consecutive failures; > 0 means down or half-open
	downUntil time.Time // end of the back-off
	probing   bool      // a half-open replica has its one probe in flight

	requests, errors, markedDown int
	latencySum                   time.Duration
	successes                    int
}

// NewReplicas builds the provider over reps (at least one).
func NewReplicas(reps []Replica, o ReplicaOptions) (*Replicas, error) {
	if len(reps) == 0 {
		return nil, errors.New("replicas: no replica given")
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Replicas{opts: o}
	for _, rep := range reps {
		if rep.Provider == nil {
			return nil, fmt.Errorf("replicas: %s has no provider", rep.URL)
		}
		r.reps = append(r.reps, &replica{Replica: rep})
	}
	return r, nil
}

// Do sends req to a healthy replica, failing over to the others as described
// on Replicas. It makes at most one attempt per replica.
func (r *Replicas) Do(ctx context.Context, req Request) (Response, error) {
	tried := make([]bool, len(r.reps))
	var lastErr error
	var lastURL string
	for {
		i, wait := r.pick(tried)
		if i < 0 {
			return Response{}, r.allDown(lastErr, lastURL, wait)
		}
		tried[i] = true
		rep := r.reps[i]
		t0 := r.opts.Now()
		resp, err := rep.Provider.Do(ctx, req)
		took := r.opts.Now().Sub(t0)
		failover := err != nil && replicaFault(ctx, err)
		r.finish(rep, err, failover, took)
		if !failover {
			return resp, err
		}
		if ctx.Err() != nil {
			return Response{}, err
		}
		lastErr, lastURL = err, rep.URL
	}
}

// replicaFault says whether err speaks against the replica rather than the
// request: a retryable failure, or this attempt's own deadline (not the
// caller cancelling the run).
func replicaFault(ctx context.Context, err error) bool {
	if IsRetryable(err) {
		return true
	}
	return errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// pick chooses an untried replica that is up (or half-open and not already
// probed) with the fewest requests in flight, round-robin among ties, and
// counts the request against it. It returns -1 when none is available, with
// how long until the first one's back-off ends.
func (r *Replicas) pick(tried []bool) (int, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	best := -1
	var wait time.Duration = -1
	n := len(r.reps)
	for k := range n {
		i := (r.next + k) % n
		rep := r.reps[i]
		if rep.fails > 0 && now.Before(rep.downUntil) {
			if d := rep.downUntil.Sub(now); wait < 0 || d < wait {
				wait = d
			}
			continue
		}
		if tried[i] || (rep.fails > 0 && rep.probing) {
			continue
		}
		if best < 0 || rep.inFlight < r.reps[best].inFlight {
			best = i
		}
	}
	if best < 0 {
		return -1, max(wait, 0)
	}
	rep := r.reps[best]
	rep.inFlight++
	rep.requests++
	if rep.fails > 0 {
		rep.probing = true
	}
	r.next = (best + 1) % n
	return best, 0
}

// finish records the outcome of one attempt on rep.
func (r *Replicas) finish(rep *replica, err error, fault bool, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.inFlight--
	rep.probing = false
	switch {
	case err == nil:
		rep.fails = 0
		rep.successes++
		rep.latencySum += took
	case fault:
		rep.errors++
		rep.fails++
		rep.markedDown++
		backoff := r.opts.BaseBackoff
		for range rep.fails - 1 {
			if backoff >= r.opts.MaxBackoff {
				break
			}
			backoff *= 2
		}
		backoff = max(min(backoff, r.opts.MaxBackoff), RetryAfter(err))
		rep.downUntil = r.opts.Now().Add(backoff)
	default:
		rep.errors++
	}
}

// allDown is the error of a Do that found no replica to send to: retryable,
// so that the runner waits (at least until the first replica's back-off
// ends) and tries again, and carrying the last replica's own error so that a
// run whose every request failed names the real cause.
func (r *Replicas) allDown(last error, url string, wait time.Duration) error {
	msg := fmt.Sprintf("all %d replicas are down", len(r.reps))
	if last == nil {
		return &Error{Retryable: true, RetryAfter: wait, Err: errors.New(msg + " (sitting out their back-off)")}
	}
	var pe *Error
	status := 0
	if errors.As(last, &pe) {
		status = pe.Status
	}
	return &Error{Status: status, Retryable: true, RetryAfter: wait, Err: fmt.Errorf("%s; the last, %s: %w", msg, url, unwrapStatus(last))}
}

// unwrapStatus drops the "HTTP nnn: " prefix an *Error prints, since the
// wrapping error prints its status itself.
func unwrapStatus(err error) error {
	var pe *Error
	if errors.As(err, &pe) && pe.Status != 0 && pe.Err != nil {
		return pe.Err
	}
	return err
}

// Stats returns each replica's counts, in the order given.
func (r *Replicas) Stats() []ReplicaStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	out := make([]ReplicaStats, len(r.reps))
	for i, rep := range r.reps {
		s := ReplicaStats{URL: rep.URL, Requests: rep.requests, Errors: rep.errors, MarkedDown: rep.markedDown,
			Down: rep.fails > 0 && now.Before(rep.downUntil)}
		if rep.successes > 0 {
			s.LatencyMS = float64(rep.latencySum) / float64(rep.successes) / float64(time.Millisecond)
		}
		out[i] = s
	}
	return out
}

// FormatReplicaStats renders stats on one line for a log:
// "http://a/v1 120 req 0 err 35ms · http://b/v1 118 req 2 err (down) 41ms".
func FormatReplicaStats(stats []ReplicaStats) string {
	parts := make([]string, len(stats))
	for i, s := range stats {
		down := ""
		if s.Down {
			down = " (down)"
		}
		parts[i] = fmt.Sprintf("%s %d req %d err%s %.0fms", s.URL, s.Requests, s.Errors, down, s.LatencyMS)
	}
	return strings.Join(parts, " · ")
}

// ReplicaCacheNamespace is the cache namespace of a model served by several
// replicas: CacheNamespace of c with the base URL replaced by the sorted,
// normalized list of replica URLs. Whichever replica answers, the key is the
// same; listing another set of replicas (another deployment, perhaps another
// build) starts a cache partition of its own.
func ReplicaCacheNamespace(c Config, urls []string) string {
	if len(urls) == 0 {
		return CacheNamespace(c)
	}
	norm := make([]string, len(urls))
	for i, u := range urls {
		norm[i] = NormalizeBaseURL(u)
	}
	slices.Sort(norm)
	norm = slices.Compact(norm)
	// CacheNamespace of the first replica, with its URL replaced by the list.
	c.BaseURL = norm[0]
	ns := CacheNamespace(c)
	return strings.Replace(ns, "|"+norm[0], "|replicas("+strings.Join(norm, ",")+")", 1)
}
