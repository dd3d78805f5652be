package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

func writerResult(run, item string) Result {
	return Result{RunID: run, Model: "m", Task: "t", ItemID: item, RequestHash: "rh-" + item,
		Request: []byte(`{"item_id":"` + item + `"}`), Response: []byte(`{"text":"` + item + `"}`), Attempts: 1}
}

func hasResult(t *testing.T, s *Store, run, item string) bool {
	t.Helper()
	var n int
	if err := s.db.QueryRow(s.rebind(`SELECT COUNT(*) FROM results WHERE run_id = ? AND item_id = ?`), run, item).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// batchLog records the batches a writer commits, and can hold the first one
// until the queue holds the rest, so that tests know how batches form.
type batchLog struct {
	mu      sync.Mutex
	rows    []int
	waiters []int
	// holdFirst, when > 0, makes the first commit wait until its rows and the
	// queued requests add up to holdFirst; entered is closed when it begins.
	holdFirst int
	entered   chan struct{}
	w         *Writer
	t         *testing.T
	// onBatch, when set, runs before batch n (0-based) is committed.
	onBatch func(n int)
}

func (l *batchLog) before(rows, waiters int) {
	l.mu.Lock()
	n := len(l.rows)
	l.rows = append(l.rows, rows)
	l.waiters = append(l.waiters, waiters)
	l.mu.Unlock()
	if n == 0 && l.holdFirst > 0 {
		close(l.entered)
		deadline := time.Now().Add(30 * time.Second)
		for rows+len(l.w.in) < l.holdFirst {
			if time.Now().After(deadline) {
				l.t.Errorf("the queue holds %d requests after 30s; want %d", len(l.w.in), l.holdFirst-rows)
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	if l.onBatch != nil {
		l.onBatch(n)
	}
}

// commitAll makes n callers commit at once, the first one alone in the first
// batch: the others start once it is held, so they all form the second.
func (l *batchLog) commitAll(n int, commit func(i int)) {
	var wg sync.WaitGroup
	wg.Go(func() { commit(0) })
	<-l.entered
	for i := 1; i < n; i++ {
		wg.Go(func() { commit(i) })
	}
	wg.Wait()
}

func (l *batchLog) batches() ([]int, []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.rows...), append([]int(nil), l.waiters...)
}

// A result and its cache entry are in the database when Commit returns.
func TestWriterCommitIsDurable(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "c", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			// Each transaction starts late, so that a Commit returning before
			// its transaction would find nothing stored.
			w := s.newWriter(WriterOptions{BatchSize: 16}, func(int, int) { time.Sleep(5 * time.Millisecond) })
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := range 10 {
						item := fmt.Sprintf("g%02d-%02d", g, i)
						key := "k-" + item
						if err := w.Commit(ctx, writerResult("c", item), &CacheEntry{Key: key, Value: []byte(`"v"`)}); err != nil {
							t.Error(err)
							return
						}
						if !hasResult(t, s, "c", item) {
							t.Errorf("%s: Commit returned but the result is not stored", item)
						}
						if _, ok, err := s.CacheGet(ctx, key); err != nil || !ok {
							t.Errorf("%s: Commit returned but the cache entry is not stored (%v)", item, err)
						}
					}
				})
			}
			wg.Wait()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s, "c"); n != 160 {
				t.Fatalf("%d results stored; want 160", n)
			}
		})
	}
}

// Callers that queue while a transaction runs share the next one: the writer
// drains the queue without waiting and commits it as one batch.
func TestWriterCommitBatchesWhatIsQueued(t *testing.T) {
	const callers = 40
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "c", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			log := &batchLog{holdFirst: callers, entered: make(chan struct{}), t: t}
			w := s.newWriter(WriterOptions{Linger: -1}, log.before)
			log.w = w
			log.commitAll(callers, func(i int) {
				if err := w.Commit(ctx, writerResult("c", fmt.Sprintf("i%02d", i)), nil); err != nil {
					t.Error(err)
				}
			})
			rows, waiters := log.batches()
			if !slices.Equal(rows, []int{1, callers - 1}) || !slices.Equal(waiters, rows) {
				t.Fatalf("batches of %v rows with %v callers; want the first and then all the others in one", rows, waiters)
			}
			if n := count(t, s, "c"); n != callers {
				t.Fatalf("%d results stored; want %d", n, callers)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Every caller whose result was in a failed transaction gets its error, later
// callers get it too, and nothing more is written.
func TestWriterCommitErrorReachesEveryCaller(t *testing.T) {
	const callers = 24
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "c", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			log := &batchLog{holdFirst: callers, entered: make(chan struct{}), t: t}
			// The second batch meets a finished run: its transaction fails.
			log.onBatch = func(n int) {
				if n == 1 {
					if err := s.FinishRun(ctx, "c", "pass", nil); err != nil {
						t.Error(err)
					}
				}
			}
			w := s.newWriter(WriterOptions{Linger: -1}, log.before)
			log.w = w
			errs := make([]error, callers)
			log.commitAll(callers, func(i int) { errs[i] = w.Commit(ctx, writerResult("c", fmt.Sprintf("i%02d", i)), nil) })
			rows, waiters := log.batches()
			if !slices.Equal(rows, []int{1, callers - 1}) || !slices.Equal(waiters, rows) {
				t.Fatalf("batches of %v rows with %v callers; want the first and then all the others in one", rows, waiters)
			}
			var ok, failed int
			for g, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrRunFinished):
					failed++
				default:
					t.Errorf("caller %d: %v", g, err)
				}
			}
			if ok != rows[0] || failed != rows[1] {
				t.Fatalf("%d callers succeeded and %d got ErrRunFinished; want %d and %d", ok, failed, rows[0], rows[1])
			}
			if n := count(t, s, "c"); n != rows[0] {
				t.Fatalf("%d results stored; want the first batch's %d", n, rows[0])
			}
			if err := w.Commit(ctx, writerResult("c", "late"), nil); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("Commit after a failed batch: %v", err)
			}
			if err := w.Close(); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("Close after a failed batch: %v", err)
			}
			if err := w.Commit(ctx, writerResult("c", "closed"), nil); !errors.Is(err, ErrRunFinished) && !errors.Is(err, ErrWriterClosed) {
				t.Fatalf("Commit after Close: %v", err)
			}
		})
	}
}

// A lone caller never waits for company, however long Linger is.
func TestWriterLoneCallerDoesNotLinger(t *testing.T) {
	ctx := context.Background()
	s := OpenSQLiteForTest(t, t.TempDir()+"/w.db")
	if err := s.CreateRun(ctx, Run{ID: "c", Name: "n", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	w := s.NewWriter(WriterOptions{Linger: time.Hour, MaxLinger: time.Hour})
	defer w.Close()
	done := make(chan error)
	go func() {
		for i := range 20 {
			if err := w.Commit(ctx, writerResult("c", fmt.Sprint(i)), nil); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("20 sequential commits took over a minute: a lone caller waited for company")
	}
}

// After a batch with several callers the next one waits, up to Linger after
// each arrival, for more: two callers 100ms apart share a transaction.
func TestWriterLingersUnderLoad(t *testing.T) {
	ctx := context.Background()
	s := OpenSQLiteForTest(t, t.TempDir()+"/w.db")
	if err := s.CreateRun(ctx, Run{ID: "c", Name: "n", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	const linger = time.Second
	log := &batchLog{holdFirst: 3, entered: make(chan struct{}), t: t}
	w := s.newWriter(WriterOptions{Linger: linger, MaxLinger: 2 * linger}, log.before)
	log.w = w
	defer w.Close()
	log.commitAll(3, func(i int) {
		if err := w.Commit(ctx, writerResult("c", fmt.Sprint("first", i)), nil); err != nil {
			t.Error(err)
		}
	})
	// A batch of two callers: the next one lingers.

	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Go(func() {
		if err := w.Commit(ctx, writerResult("c", "a"), nil); err != nil {
			t.Error(err)
		}
	})
	time.Sleep(100 * time.Millisecond)
	if err := w.Commit(ctx, writerResult("c", "b"), nil); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if d := time.Since(t0); d < 100*time.Millisecond+linger {
		t.Errorf("the batch committed %v after its first caller; want it to wait Linger (%v) after the last", d, linger)
	}
	rows, waiters := log.batches()
	if !slices.Equal(rows, []int{1, 2, 2}) || !slices.Equal(waiters, rows) {
		t.Fatalf("batches of %v rows with %v callers; want 1, 2 and 2", rows, waiters)
	}
}

// BenchmarkWriterCommit measures results/s through group commit into SQLite
// with 256 callers each waiting for its commit, as the runner's workers do at
// concurrency 256, each result with a cache entry.
func BenchmarkWriterCommit(b *testing.B) {
	ctx := context.Background()
	s := OpenSQLiteForTest(b, filepath.Join(b.TempDir(), "w.db"))
	if err := s.CreateRun(ctx, Run{ID: "r", Name: "n", PlanHash: "h"}); err != nil {
		b.Fatal(err)
	}
	var rows, commits atomic.Int64
	w := s.newWriter(WriterOptions{}, func(n, _ int) { rows.Add(int64(n)); commits.Add(1) })
	req := []byte(`{"type":"generate","item_id":"x","messages":[{"role":"user","content":"What is the capital of France? Answer in one word."}],"params":{"max_tokens":16}}`)
	resp := []byte(`{"text":"The capital of France is Paris.","finish_reason":"stop","usage":{"prompt_tokens":24,"completion_tokens":8},"model":"bench"}`)
	var next atomic.Int64
	b.SetParallelism(256 / runtime.GOMAXPROCS(0))
	t0, c0 := time.Now(), cpuclock.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			r := Result{RunID: "r", Model: "m", Task: "t", ItemID: fmt.Sprintf("%09d", i), RequestHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				Request: req, Response: resp, Attempts: 1, LatencyMS: 1.5, PromptTokens: 24, CompletionTokens: 8}
			if err := w.Commit(ctx, r, &CacheEntry{Key: fmt.Sprintf("%064d", i), Value: resp}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed, cpu := time.Since(t0), cpuclock.Process()-c0
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	n := float64(next.Load())
	b.ReportMetric(n/elapsed.Seconds(), "results/s")
	b.ReportMetric(n/cpu.Seconds(), "results/cpu-s")
	b.ReportMetric(float64(rows.Load())/float64(max(commits.Load(), 1)), "rows/commit")
}
