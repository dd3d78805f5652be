package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// groupTotal is one model × task: what progress is counted against.
type groupTotal struct {
	model, task    string
	total, resumed int
}

// progress reports jobs as they finish: bars on a terminal, log lines elsewhere.
type progress interface {
	done(group int, failed bool, took time.Duration)
	finish()
}

func newProgress(ctx context.Context, opts Options, groups []groupTotal) progress {
	if opts.Terminal {
		return newBars(opts, groups)
	}
	return newLogProgress(ctx, opts, groups)
}

// bars draws one mpb bar per model × task with counts, rate, ETA and errors.
type bars struct {
	p    *mpb.Progress
	bars []*mpb.Bar
	fail []atomic.Int64
	now  func() time.Time

	mu   sync.Mutex
	last []time.Time
}

func newBars(opts Options, groups []groupTotal) *bars {
	b := &bars{
		p:    mpb.New(mpb.WithOutput(opts.Progress), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh()),
		fail: make([]atomic.Int64, len(groups)),
		last: make([]time.Time, len(groups)),
		now:  opts.Now,
	}
	width := 0
	for _, g := range groups {
		width = max(width, len(g.model)+1+len(g.task))
	}
	start := opts.Now()
	for i, g := range groups {
		bar := b.p.AddBar(int64(g.total),
			mpb.PrependDecorators(
				decor.Name(g.model+"/"+g.task, decor.WC{W: width, C: decor.DindentRight}),
				decor.CountersNoUnit(" %d/%d", decor.WCSyncWidth),
			),
			mpb.AppendDecorators(
				decor.EwmaSpeed(nil, " %.1f/s", 30, decor.WCSyncSpace),
				decor.OnComplete(decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WCSyncSpace), " done"),
				decor.Any(func(decor.Statistics) string {
					if n := b.fail[i].Load(); n > 0 {
						return fmt.Sprintf(" %d failed", n)
					}
					return ""
				}),
			),
		)
		if g.resumed > 0 {
			bar.SetCurrent(int64(g.resumed))
		}
		b.bars = append(b.bars, bar)
		b.last[i] = start
	}
	return b
}

func (b *bars) done(group int, failed bool, _ time.Duration) {
	if failed {
		b.fail[group].Add(1)
	}
	// The rate is completions per wall-clock second, so each increment is timed
	// from the previous completion in its group, not by its own latency (which,
	// with many requests in flight, would understate the rate).
	now := b.now()
	b.mu.Lock()
	since := now.Sub(b.last[group])
	b.last[group] = now
	b.mu.Unlock()
	b.bars[group].EwmaIncrement(since)
}

func (b *bars) finish() {
	for _, bar := range b.bars {
		if !bar.Completed() {
			bar.Abort(false) // interrupted: keep the bar on screen as it stood
		}
	}
	b.p.Wait()
}

// logProgress writes one slog line per model when the run starts (with its
// total, so a run shorter than LogEvery still shows what it is doing before it
// ends), then one every LogEvery, and a last one at the end.
type logProgress struct {
	opts   Options
	groups []groupTotal
	done_  []atomic.Int64
	fail   []atomic.Int64
	start  time.Time
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newLogProgress(ctx context.Context, opts Options, groups []groupTotal) *logProgress {
	l := &logProgress{
		opts: opts, groups: groups,
		done_: make([]atomic.Int64, len(groups)), fail: make([]atomic.Int64, len(groups)),
		start: opts.Now(), stop: make(chan struct{}),
	}
	l.log(ctx, "started")
	l.wg.Go(func() {
		t := time.NewTicker(opts.LogEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.log(ctx, "progress")
			case <-l.stop:
				return
			}
		}
	})
	return l
}

func (l *logProgress) done(group int, failed bool, _ time.Duration) {
	l.done_[group].Add(1)
	if failed {
		l.fail[group].Add(1)
	}
}

func (l *logProgress) finish() {
	close(l.stop)
	l.wg.Wait()
	l.log(context.Background(), "finished")
}

// log aggregates the groups per model, in the order models first appear.
func (l *logProgress) log(ctx context.Context, msg string) {
	type agg struct{ total, resumed, done, failed int64 }
	var order []string
	per := map[string]*agg{}
	for i, g := range l.groups {
		a := per[g.model]
		if a == nil {
			a = &agg{}
			per[g.model] = a
			order = append(order, g.model)
		}
		a.total += int64(g.total)
		a.resumed += int64(g.resumed)
		a.done += l.done_[i].Load()
		a.failed += l.fail[i].Load()
	}
	elapsed := l.opts.Now().Sub(l.start)
	for _, m := range order {
		a := per[m]
		rate := 0.0
		if elapsed > 0 {
			rate = float64(a.done) / elapsed.Seconds()
		}
		left := a.total - a.resumed - a.done
		var eta time.Duration
		if rate > 0 {
			eta = time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second)
		}
		l.opts.Logger.InfoContext(ctx, msg, "model", m, "done", a.done+a.resumed, "total", a.total,
			"resumed", a.resumed, "failed", a.failed, "per_second", fmt.Sprintf("%.1f", rate), "eta", eta.String())
	}
}
