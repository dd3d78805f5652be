package runner

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/store"
)

// fake is a provider.Provider whose behaviour a test scripts per call.
type fake struct {
	mu    sync.Mutex
	calls map[string]int // Do calls per item id
	times []time.Time    // start of every Do call
	// answer decides one call; n is the 1-based call number for this item.
	answer func(ctx context.Context, req provider.Request, n int) (provider.Response, error)
}

func newFake(answer func(ctx context.Context, req provider.Request, n int) (provider.Response, error)) *fake {
	if answer == nil {
		answer = echo
	}
	return &fake{calls: map[string]int{}, answer: answer}
}

func echo(_ context.Context, req provider.Request, _ int) (provider.Response, error) {
	return provider.Response{Text: "answer to " + req.Prompt, Usage: provider.Usage{PromptTokens: 7, CompletionTokens: 3}}, nil
}

func (f *fake) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	f.mu.Lock()
	f.calls[req.ItemID]++
	n := f.calls[req.ItemID]
	f.times = append(f.times, time.Now())
	f.mu.Unlock()
	return f.answer(ctx, req, n)
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stores opens a fresh store per backend: SQLite always, PostgreSQL when
// TUNECHECK_TEST_POSTGRES is set (scripts/pg-test.sh), required when CI=true;
// "off" makes the PostgreSQL cases SKIP (refused in CI).
func stores(t *testing.T) map[string]func(t *testing.T) *store.Store {
	t.Helper()
	out := map[string]func(t *testing.T) *store.Store{"sqlite": openStore}
	dsn := os.Getenv("TUNECHECK_TEST_POSTGRES")
	switch {
	case dsn == "off" && os.Getenv("CI") == "true":
		t.Fatal("TUNECHECK_TEST_POSTGRES=off is refused in CI: CI tests the PostgreSQL store")
	case dsn == "off":
		out["postgres"] = func(t *testing.T) *store.Store {
			t.Skip("SKIP: PostgreSQL not tested (TUNECHECK_TEST_POSTGRES=off)")
			return nil
		}
	case dsn != "":
		out["postgres"] = func(t *testing.T) *store.Store {
			admin, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			schema := fmt.Sprintf("runner_%d", time.Now().UnixNano())
			if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
				t.Fatalf("creating a schema: %v (is the server from scripts/pg-test.sh running?)", err)
			}
			t.Cleanup(func() {
				if admin, err := sql.Open("pgx", dsn); err == nil {
					admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
					admin.Close()
				}
			})
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			s, err := store.Open(context.Background(), dsn+sep+"search_path="+schema)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	case os.Getenv("CI") == "true":
		t.Fatal("TUNECHECK_TEST_POSTGRES is unset in CI: run `eval \"$(scripts/pg-test.sh start)\"` before go test")
	}
	return out
}

func newRun(t *testing.T, s *store.Store, id string) {
	t.Helper()
	if err := s.CreateRun(context.Background(), store.Run{ID: id, Name: "test", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
}

func makeJobs(models, tasks []string, items int) []Job {
	var jobs []Job
	for _, m := range models {
		for _, task := range tasks {
			for i := range items {
				jobs = append(jobs, Job{Model: m, Task: task, Request: provider.Request{
					Type: provider.Generate, ItemID: fmt.Sprintf("%s-%04d", task, i), Prompt: fmt.Sprintf("question %d of %s", i, task)}})
			}
		}
	}
	return jobs
}

func TestRunStoresEveryJob(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	newRun(t, s, "r1")
	base, tuned := newFake(nil), newFake(func(_ context.Context, req provider.Request, _ int) (provider.Response, error) {
		if strings.HasSuffix(req.ItemID, "7") {
			return provider.Response{}, &provider.Error{Status: 400, Err: errors.New("prompt too long")}
		}
		return provider.Response{Text: "tuned"}, nil
	})
	eps := map[string]Endpoint{
		"base":  {Name: "base", Provider: base, CacheNamespace: "ns-base", Concurrency: 3},
		"tuned": {Name: "tuned", Provider: tuned, CacheNamespace: "ns-tuned", Concurrency: 5, MaxRetries: 3},
	}
	jobs := makeJobs([]string{"base", "tuned"}, []string{"qa", "sum"}, 40)
	sum, err := Run(ctx, eps, "r1", jobs, Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	want := []ModelSummary{
		{Model: "base", Jobs: 80, Sent: 80, PromptTokens: 560, CompletionTokens: 240},
		{Model: "tuned", Jobs: 80, Sent: 80, Failed: 8},
	}
	for i := range sum.Models {
		sum.Models[i].LatencyP50MS, sum.Models[i].LatencyP95MS = 0, 0
	}
	if fmt.Sprint(sum.Models) != fmt.Sprint(want) {
		t.Fatalf("summary:\n got %+v\nwant %+v", sum.Models, want)
	}
	results, err := s.Results(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(jobs) {
		t.Fatalf("%d results; want %d", len(results), len(jobs))
	}
	hash := map[string]string{}
	for _, r := range results {
		switch {
		case r.Model == "tuned" && strings.HasSuffix(r.ItemID, "7"):
			// A non-retryable failure: stored with its error, one attempt, never scored.
			if r.Error != "HTTP 400: prompt too long" || r.Attempts != 1 || r.Response != nil || r.Scores != nil {
				t.Fatalf("failed result = %+v", r)
			}
		case r.Error != "" || r.Attempts != 1 || r.Cached:
			t.Fatalf("result = %+v", r)
		}
		// Base and tuned got byte-identical requests.
		key := r.Task + "/" + r.ItemID
		if h, ok := hash[key]; ok && h != r.RequestHash {
			t.Fatalf("%s: request hashes differ between models", key)
		}
		hash[key] = r.RequestHash
	}
	if base.total() != 80 || tuned.total() != 80 {
		t.Fatalf("calls: base %d, tuned %d; want 80 each", base.total(), tuned.total())
	}
}

func TestValidate(t *testing.T) {
	p := newFake(nil)
	eps := map[string]Endpoint{"m": {Provider: p}}
	for _, tc := range []struct {
		name string
		eps  map[string]Endpoint
		jobs []Job
		want string
	}{
		{"unknown model", eps, []Job{{Model: "x", Task: "t", Request: provider.Request{ItemID: "1"}}}, `"x", which is not an endpoint`},
		{"duplicate item", eps, []Job{{Model: "m", Task: "t", Request: provider.Request{ItemID: "1"}}, {Model: "m", Task: "t", Request: provider.Request{ItemID: "1"}}}, `item "1" appears twice`},
		{"no provider", map[string]Endpoint{"m": {}}, nil, "has no provider"},
		{"negative", map[string]Endpoint{"m": {Provider: p, MaxRetries: -1}}, nil, "must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			defer s.Close()
			_, err := Run(context.Background(), tc.eps, "r", tc.jobs, Options{Store: s})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

// A second run of the same requests is answered by the cache: zero requests sent.
func TestCache(t *testing.T) {
	for backend, open := range stores(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			defer s.Close()
			p := newFake(nil)
			eps := map[string]Endpoint{"m": {Provider: p, CacheNamespace: "openai|http://x/v1|m", Concurrency: 4}}
			jobs := makeJobs([]string{"m"}, []string{"qa"}, 30)
			newRun(t, s, "first")
			if _, err := Run(ctx, eps, "first", jobs, Options{Store: s}); err != nil {
				t.Fatal(err)
			}
			if p.total() != 30 {
				t.Fatalf("first run sent %d; want 30", p.total())
			}
			newRun(t, s, "second")
			sum, err := Run(ctx, eps, "second", jobs, Options{Store: s})
			if err != nil {
				t.Fatal(err)
			}
			if p.total() != 30 {
				t.Fatalf("second run sent %d requests; want 0", p.total()-30)
			}
			if m := sum.Models[0]; m.Cached != 30 || m.Sent != 0 {
				t.Fatalf("second run summary %+v; want 30 cached, 0 sent", m)
			}
			first, _ := s.Results(ctx, "first")
			second, _ := s.Results(ctx, "second")
			for i := range second {
				if !second[i].Cached || second[i].Attempts != 0 || !bytes.Equal(second[i].Response, first[i].Response) || second[i].RequestHash != first[i].RequestHash {
					t.Fatalf("cached result %+v; want the first run's response, Cached", second[i])
				}
			}

			// Another namespace (another endpoint or model) does not share entries, nor does NoCache read them.
			other := map[string]Endpoint{"m": {Provider: p, CacheNamespace: "openai|http://y/v1|m", Concurrency: 4}}
			newRun(t, s, "third")
			if _, err := Run(ctx, other, "third", jobs, Options{Store: s}); err != nil {
				t.Fatal(err)
			}
			newRun(t, s, "fourth")
			if _, err := Run(ctx, eps, "fourth", jobs, Options{Store: s, NoCache: true}); err != nil {
				t.Fatal(err)
			}
			if p.total() != 90 {
				t.Fatalf("after another namespace and NoCache: %d requests; want 90", p.total())
			}
		})
	}
}

// Cancel mid-run, run again: every request is answered once and stored once.
func TestResume(t *testing.T) {
	for backend, open := range stores(t) {
		t.Run(backend, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			newRun(t, s, "r")
			ctx, cancel := context.WithCancel(context.Background())
			var answered atomic.Int64
			perItem := sync.Map{}
			p := newFake(func(ctx context.Context, req provider.Request, _ int) (provider.Response, error) {
				if answered.Load() >= 25 {
					<-ctx.Done() // in flight when the user pressed Ctrl-C
					return provider.Response{}, ctx.Err()
				}
				if answered.Add(1) == 25 {
					cancel()
				}
				v, _ := perItem.LoadOrStore(req.ItemID, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				return provider.Response{Text: "ok"}, nil
			})
			eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 4}}
			jobs := makeJobs([]string{"m"}, []string{"qa"}, 100)
			sum, err := Run(ctx, eps, "r", jobs, Options{Store: s})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: err = %v; want context.Canceled", err)
			}
			if m := sum.Models[0]; m.Sent != 25 || m.Unfinished != 75 {
				t.Fatalf("interrupted summary %+v; want 25 sent, 75 unfinished", m)
			}
			done, _ := s.DoneKeys(context.Background(), "r")
			if len(done) != 25 {
				t.Fatalf("%d results stored after the interrupt; want the 25 that finished", len(done))
			}

			answered.Store(-1 << 40) // no more interrupts
			sum, err = Run(context.Background(), eps, "r", jobs, Options{Store: s})
			if err != nil {
				t.Fatal(err)
			}
			if m := sum.Models[0]; m.Resumed != 25 || m.Sent != 75 || m.Unfinished != 0 {
				t.Fatalf("resumed summary %+v; want 25 resumed, 75 sent", m)
			}
			results, _ := s.Results(context.Background(), "r")
			if len(results) != 100 {
				t.Fatalf("%d results; want 100", len(results))
			}
			for _, r := range results {
				v, ok := perItem.Load(r.ItemID)
				if !ok || v.(*atomic.Int64).Load() != 1 {
					t.Fatalf("item %s answered %v times; want once", r.ItemID, v)
				}
			}
		})
	}
}

// A resumed run retries the items that failed, and their successes replace the failures.
func TestResumeRetriesFailures(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	newRun(t, s, "r")
	down := true
	p := newFake(func(_ context.Context, req provider.Request, _ int) (provider.Response, error) {
		if down && strings.HasSuffix(req.ItemID, "3") {
			return provider.Response{}, &provider.Error{Status: 404, Err: errors.New("model not loaded")}
		}
		return provider.Response{Text: "ok"}, nil
	})
	eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 2}}
	jobs := makeJobs([]string{"m"}, []string{"qa"}, 20)
	sum, err := Run(ctx, eps, "r", jobs, Options{Store: s})
	if err != nil || sum.Models[0].Failed != 2 {
		t.Fatalf("first run: %+v, %v; want 2 failed", sum.Models, err)
	}
	down = false
	sum, err = Run(ctx, eps, "r", jobs, Options{Store: s})
	if err != nil || sum.Models[0].Resumed != 18 || sum.Models[0].Sent != 2 || sum.Models[0].Failed != 0 {
		t.Fatalf("second run: %+v, %v; want 18 resumed, 2 sent", sum.Models, err)
	}
	results, _ := s.Results(ctx, "r")
	for _, r := range results {
		if r.Error != "" {
			t.Fatalf("failure not replaced: %+v", r)
		}
	}
	if p.total() != 22 {
		t.Fatalf("%d calls; want 22", p.total())
	}
}

func TestStoreFailureStopsRun(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	newRun(t, s, "r")
	if err := s.FinishRun(ctx, "r", "pass", nil); err != nil {
		t.Fatal(err)
	}
	eps := map[string]Endpoint{"m": {Provider: newFake(nil), Concurrency: 2}}
	_, err := Run(ctx, eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 600), Options{Store: s})
	if !errors.Is(err, store.ErrRunFinished) {
		t.Fatalf("err = %v; want ErrRunFinished", err)
	}
}

// A job counts as done only once its result is committed, so when a request
// goes out at most one answered result per worker is not yet stored: a run
// killed at any moment sends again at most the requests it had in flight.
func TestResultStoredBeforeNextJob(t *testing.T) {
	const workers = 4
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			defer s.Close()
			newRun(t, s, "r")
			var answered, worst atomic.Int64
			p := newFake(func(ctx context.Context, req provider.Request, n int) (provider.Response, error) {
				// Answered first, stored after: the lag can only be overstated.
				a := answered.Load()
				done, err := s.DoneKeys(ctx, "r")
				if err != nil {
					return provider.Response{}, err
				}
				for lag := a - int64(len(done)); ; {
					w := worst.Load()
					if lag <= w || worst.CompareAndSwap(w, lag) {
						break
					}
				}
				defer answered.Add(1)
				return echo(ctx, req, n)
			})
			eps := map[string]Endpoint{"m": {Provider: p, Concurrency: workers}}
			sum, err := Run(ctx, eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 300), Options{Store: s})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Models[0].Sent != 300 {
				t.Fatalf("summary %+v", sum.Models[0])
			}
			if w := worst.Load(); w > workers {
				t.Fatalf("up to %d answered results were not stored when a request went out; want at most %d (one per worker)", w, workers)
			}
		})
	}
}

// syncRun runs fn in a synctest bubble with its own store.
func syncRun(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	path := filepath.Join(t.TempDir(), "t.db")
	synctest.Test(t, func(t *testing.T) {
		s, err := store.Open(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		newRun(t, s, "r")
		fn(t, s)
	})
}

func gaps(ts []time.Time) []time.Duration {
	var d []time.Duration
	for i := 1; i < len(ts); i++ {
		d = append(d, ts[i].Sub(ts[i-1]))
	}
	return d
}

func retryable(after time.Duration) error {
	return &provider.Error{Status: 503, Retryable: true, RetryAfter: after, Err: errors.New("overloaded")}
}

func TestBackoff(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		p := newFake(func(_ context.Context, _ provider.Request, n int) (provider.Response, error) {
			if n <= 4 {
				return provider.Response{}, retryable(0)
			}
			return provider.Response{Text: "ok"}, nil
		})
		eps := map[string]Endpoint{"m": {Provider: p, MaxRetries: 5}}
		opts := Options{Store: s, BaseBackoff: time.Second, MaxBackoff: 3 * time.Second, Seed: 42}
		sum, err := Run(context.Background(), eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 1), opts)
		if err != nil {
			t.Fatal(err)
		}
		// Full jitter: retry n waits within [0, min(3s, 1s·2ⁿ)].
		ceil := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
		g := gaps(p.times)
		if len(g) != 4 {
			t.Fatalf("%d calls; want 5", len(p.times))
		}
		distinct := map[time.Duration]bool{}
		for i, d := range g {
			if d < 0 || d > ceil[i] {
				t.Errorf("retry %d waited %v; want within [0, %v]", i, d, ceil[i])
			}
			distinct[d] = true
		}
		if len(distinct) < 3 {
			t.Errorf("delays %v are not jittered", g)
		}
		if m := sum.Models[0]; m.Retries != 4 || m.Sent != 1 || m.Failed != 0 {
			t.Fatalf("summary %+v", m)
		}
		res, _ := s.Results(context.Background(), "r")
		if res[0].Attempts != 5 || res[0].Error != "" {
			t.Fatalf("result %+v; want 5 attempts, success", res[0])
		}

		// The same seed replays the same delays.
		p2 := newFake(p.answer)
		newRun(t, s, "r2")
		opts.NoCache = true
		if _, err := Run(context.Background(), map[string]Endpoint{"m": {Provider: p2, MaxRetries: 5}}, "r2", makeJobs([]string{"m"}, []string{"qa"}, 1), opts); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(gaps(p2.times)) != fmt.Sprint(g) {
			t.Fatalf("seeded delays differ: %v vs %v", gaps(p2.times), g)
		}
	})
}

func TestRetryAfterAndGiveUp(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		p := newFake(func(_ context.Context, req provider.Request, n int) (provider.Response, error) {
			switch {
			case req.ItemID == "qa-0000": // the server asks for 7s each time; we give up after 2 retries
				return provider.Response{}, retryable(7 * time.Second)
			case req.ItemID == "qa-0001" && n == 1:
				return provider.Response{}, &provider.Error{Status: 401, Err: errors.New("bad key")}
			}
			return provider.Response{Text: "ok"}, nil
		})
		eps := map[string]Endpoint{"m": {Provider: p, MaxRetries: 2, Concurrency: 1}}
		opts := Options{Store: s, BaseBackoff: 100 * time.Millisecond}
		sum, err := Run(context.Background(), eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 2), opts)
		if err != nil {
			t.Fatal(err)
		}
		if g := gaps(p.times[:3]); fmt.Sprint(g) != "[7s 7s]" {
			t.Fatalf("gaps between attempts %v; want Retry-After's 7s each", g)
		}
		if m := sum.Models[0]; m.Failed != 2 || m.Retries != 2 || m.Sent != 2 {
			t.Fatalf("summary %+v", m)
		}
		res, _ := s.Results(context.Background(), "r")
		if res[0].Attempts != 3 || res[0].Error != "after 3 attempts: HTTP 503: overloaded" {
			t.Fatalf("exhausted result %+v", res[0])
		}
		if res[1].Attempts != 1 || res[1].Error != "HTTP 401: bad key" {
			t.Fatalf("non-retryable result %+v", res[1])
		}
	})
}

func TestTimeout(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		p := newFake(func(ctx context.Context, _ provider.Request, _ int) (provider.Response, error) {
			<-ctx.Done()
			return provider.Response{}, ctx.Err()
		})
		eps := map[string]Endpoint{"m": {Provider: p, Timeout: 2 * time.Second, MaxRetries: 1}}
		start := time.Now()
		if _, err := Run(context.Background(), eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 1), Options{Store: s, BaseBackoff: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		res, _ := s.Results(context.Background(), "r")
		if res[0].Attempts != 2 || !strings.Contains(res[0].Error, "attempt timed out after 2s") {
			t.Fatalf("result %+v; want 2 timed-out attempts", res[0])
		}
		if el := time.Since(start); el < 4*time.Second || el > 4*time.Second+10*time.Millisecond {
			t.Fatalf("took %v; want two 2s timeouts", el)
		}
	})
}

func TestRequestRate(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		p := newFake(nil)
		eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 8, RequestsPerSecond: 4}}
		if _, err := Run(context.Background(), eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 21), Options{Store: s}); err != nil {
			t.Fatal(err)
		}
		for i, g := range gaps(p.times) {
			if g < 250*time.Millisecond {
				t.Fatalf("call %d came %v after the previous; want >= 250ms at 4 requests/s", i+1, g)
			}
		}
		if el := p.times[20].Sub(p.times[0]); el != 5*time.Second {
			t.Fatalf("21 requests at 4/s spanned %v; want 5s", el)
		}
	})
}

func TestTokenRate(t *testing.T) {
	prompt := strings.Repeat("abcd", 100) // estimated at 100 tokens
	for _, tc := range []struct {
		name       string
		completion int
		min, max   time.Duration
	}{
		// 12 requests × 100 tokens against 600/min (burst 600, 10/s): the first 6
		// go at once, then one every 10s → the 12th starts at 60s.
		{"estimate exact", 0, 60 * time.Second, 60 * time.Second},
		// Usage reports 100 more tokens each: the 12th waits until 11·200+100
		// tokens fit in 600 + 10/s → 170s.
		{"corrected by usage", 100, 170 * time.Second, 171 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			syncRun(t, func(t *testing.T, s *store.Store) {
				p := newFake(func(context.Context, provider.Request, int) (provider.Response, error) {
					return provider.Response{Text: "ok", Usage: provider.Usage{PromptTokens: 100, CompletionTokens: tc.completion}}, nil
				})
				jobs := makeJobs([]string{"m"}, []string{"qa"}, 12)
				for i := range jobs {
					jobs[i].Request.Prompt = prompt
				}
				eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 1, TokensPerMinute: 600}}
				if _, err := Run(context.Background(), eps, "r", jobs, Options{Store: s}); err != nil {
					t.Fatal(err)
				}
				if el := p.times[11].Sub(p.times[0]); el < tc.min || el > tc.max {
					t.Fatalf("12th request started after %v; want within [%v, %v]", el, tc.min, tc.max)
				}
			})
		})
	}
}

// lockedBuffer lets the progress goroutines and the test share a buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogProgress(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		var buf lockedBuffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
		p := newFake(func(context.Context, provider.Request, int) (provider.Response, error) {
			time.Sleep(time.Second)
			return provider.Response{Text: "ok"}, nil
		})
		eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 1}}
		if _, err := Run(context.Background(), eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 5), Options{Store: s, Logger: logger, LogEvery: 2500 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{
			// At 2.5s two of five are done: 0.8/s, 3 left → 3.75s, rounded.
			"msg=progress model=m done=2 total=5 resumed=0 failed=0 per_second=0.8 eta=4s",
			"msg=finished model=m done=5 total=5 resumed=0 failed=0 per_second=1.0 eta=0s",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestTerminalProgress(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	defer s.Close()
	newRun(t, s, "r")
	var buf lockedBuffer
	p := newFake(func(_ context.Context, req provider.Request, _ int) (provider.Response, error) {
		if strings.HasSuffix(req.ItemID, "1") {
			return provider.Response{}, errors.New("boom")
		}
		return provider.Response{Text: "ok"}, nil
	})
	eps := map[string]Endpoint{"base": {Provider: p, Concurrency: 2}}
	if _, err := Run(ctx, eps, "r", makeJobs([]string{"base"}, []string{"qa", "summarise"}, 20), Options{Store: s, Terminal: true, Progress: &buf}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"base/qa", "base/summarise", "20/20", "2 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%s", want, out)
		}
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		p    float64
		want float64
	}{
		{nil, 0.5, 0},
		{[]float64{5}, 0.95, 5},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5}, // numpy.percentile([1,2,3,4], 50)
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.95, 9.55}, // numpy.percentile(range(1,11), 95)
	} {
		if got := percentile(tc.in, tc.p); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", tc.want) {
			t.Errorf("percentile(%v, %v) = %v; want %v", tc.in, tc.p, got, tc.want)
		}
	}
}

func TestCacheKey(t *testing.T) {
	req := []byte(`{"type":"generate","item_id":"1","params":{}}`)
	a, b := CacheKey("openai|http://a/v1|m", req), CacheKey("openai|http://b/v1|m", req)
	if a == b || len(a) != 64 {
		t.Fatalf("cache keys %s and %s", a, b)
	}
	// sha256 of the namespace followed by the canonical request, fixed here so a change is noticed.
	if got := CacheKey("", []byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("CacheKey(\"\", abc) = %s", got)
	}
}

// Ctrl-C while a job waits out a long Retry-After: Run returns at once with
// ctx.Err(), stores the finished job and not the interrupted one.
func TestCancelDuringBackoff(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		p := newFake(func(_ context.Context, req provider.Request, _ int) (provider.Response, error) {
			if req.ItemID == "qa-0001" {
				return provider.Response{}, retryable(time.Hour)
			}
			return provider.Response{Text: "ok"}, nil
		})
		eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 2, MaxRetries: 5}}
		time.AfterFunc(3*time.Second, cancel)
		start := time.Now()
		sum, err := Run(ctx, eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 2), Options{Store: s})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want context.Canceled", err)
		}
		if el := time.Since(start); el != 3*time.Second {
			t.Fatalf("returned after %v; want right at the 3s cancel", el)
		}
		if m := sum.Models[0]; m.Sent != 1 || m.Unfinished != 1 || m.Failed != 0 {
			t.Fatalf("summary %+v; want 1 sent, 1 unfinished", m)
		}
		res, _ := s.Results(context.Background(), "r")
		if len(res) != 1 || res[0].ItemID != "qa-0000" {
			t.Fatalf("stored %+v; want only the finished item", res)
		}
	})
}

// An interrupted run with progress bars returns instead of waiting for bars
// that will never fill.
func TestTerminalProgressInterrupted(t *testing.T) {
	s := openStore(t)
	defer s.Close()
	newRun(t, s, "r")
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	p := newFake(func(ctx context.Context, _ provider.Request, _ int) (provider.Response, error) {
		if n.Add(1) == 10 {
			cancel()
		}
		if ctx.Err() != nil {
			return provider.Response{}, ctx.Err()
		}
		return provider.Response{Text: "ok"}, nil
	})
	var buf lockedBuffer
	eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 1}}
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 100), Options{Store: s, Terminal: true, Progress: &buf})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancellation with progress bars")
	}
	if out := buf.String(); !strings.Contains(out, "m/qa") || !strings.Contains(out, "9/100") {
		t.Fatalf("progress output lacks the bar as it stood:\n%s", out)
	}
}

func TestNoJobs(t *testing.T) {
	s := openStore(t)
	defer s.Close()
	var buf lockedBuffer
	eps := map[string]Endpoint{"m": {Provider: newFake(nil)}}
	for _, terminal := range []bool{false, true} {
		sum, err := Run(context.Background(), eps, "r", nil, Options{Store: s, Terminal: terminal, Progress: &buf})
		if err != nil || len(sum.Models) != 0 {
			t.Fatalf("Run(no jobs, terminal=%v) = %+v, %v", terminal, sum, err)
		}
	}
}
