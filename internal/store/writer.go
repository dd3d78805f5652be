package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// WriterOptions tune a Writer. Zero values take the defaults.
type WriterOptions struct {
	// BatchSize is the most results one transaction holds (default 256).
	BatchSize int
	// FlushInterval bounds how long a result queued with Add waits before it is
	// committed (default 100ms). Commit never waits for it.
	FlushInterval time.Duration
	// Linger is how long a batch holding Commit callers waits for the next
	// result, and again after each one that arrives, when the previous batch
	// had more than one caller (default 1ms; negative: never). Under load it
	// turns many small transactions into fewer large ones, each of which costs
	// little more than a small one; a lone caller never waits.
	Linger time.Duration
	// MaxLinger bounds the whole wait of one batch (default 10ms). Short, so
	// that under load a batch holds only some of the callers: while it
	// commits, the others keep their requests going.
	MaxLinger time.Duration
}

// Writer streams results into the store in batched transactions. It is safe
// for concurrent use.
//
// Commit is group commit: the caller waits until the transaction holding its
// row has committed. The writer's goroutine takes one request, adds whatever
// else is already queued (up to BatchSize), commits them in one transaction
// and then wakes every caller of that batch. While a transaction runs the next
// batch gathers in the queue, so batches grow with the load and a lone result
// is not held back by a timer. Under load the batch also lingers briefly while
// results keep arriving (WriterOptions.Linger): without that, small fast
// commits follow each other so closely that the writer keeps a core busy with
// per-transaction costs. A caller that counts its work done only when Commit
// returns loses nothing it counted to a crash.
//
// Add only queues: its rows are committed with the next batch that a Commit
// starts, or when BatchSize rows are waiting, or after FlushInterval, so a
// killed process loses up to a batch of them.
type Writer struct {
	s    *Store
	opts WriterOptions
	in   chan writeReq
	done chan struct{}
	mu   sync.Mutex
	err  error
	// sending guards in: Add, Commit and Flush hold it for reading while they
	// send, Close for writing while it closes, so nothing is ever sent on a
	// closed channel.
	sending sync.RWMutex
	closed  bool
	// beforeCommit, set by tests, runs in the writer's goroutine before each
	// batch is committed, with its number of results and of waiting callers.
	beforeCommit func(rows, waiters int)
}

type writeReq struct {
	r     Result
	cache *CacheEntry
	// flush, when non-nil, asks for what is pending to be committed now and
	// receives the outcome; the request then carries no result.
	flush chan error
	// done, when non-nil, receives the outcome of the transaction holding r.
	done chan error
}

// ErrWriterClosed is returned by Add and Commit after Close.
var ErrWriterClosed = errors.New("result writer is closed")

// NewWriter starts a batch writer. Close it to commit the last batch.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	return s.newWriter(opts, nil)
}

func (s *Store) newWriter(opts WriterOptions, beforeCommit func(rows, waiters int)) *Writer {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	if opts.Linger == 0 {
		opts.Linger = time.Millisecond
	}
	if opts.MaxLinger <= 0 {
		opts.MaxLinger = 10 * time.Millisecond
	}
	w := &Writer{s: s, opts: opts, in: make(chan writeReq, 2*opts.BatchSize), done: make(chan struct{}), beforeCommit: beforeCommit}
	go w.loop()
	return w
}

// Commit stores r, and the cache entry of its response when cache is non-nil,
// and returns once the transaction holding them has committed: nil when they
// are durable, else the transaction's error (every caller of a failed batch
// gets it). After the first failed commit nothing more is written and Commit
// returns that error. A cancelled ctx stops the wait, not the commit: the row
// may still be stored.
func (w *Writer) Commit(ctx context.Context, r Result, cache *CacheEntry) error {
	req := writeReq{r: r, done: make(chan error, 1)}
	if cache != nil {
		c := *cache
		req.cache = &c
	}
	if err := w.add(ctx, req); err != nil {
		return err
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Add queues a result without waiting for its commit. It blocks while the
// queue is full and returns the first error a commit has met, after which
// nothing more is written.
func (w *Writer) Add(ctx context.Context, r Result) error {
	return w.add(ctx, writeReq{r: r})
}

// AddWithCache queues a result and the cache entry of its response, committed
// in the same transaction.
func (w *Writer) AddWithCache(ctx context.Context, r Result, c CacheEntry) error {
	return w.add(ctx, writeReq{r: r, cache: &c})
}

func (w *Writer) add(ctx context.Context, req writeReq) error {
	if err := w.Err(); err != nil {
		return err
	}
	w.sending.RLock()
	defer w.sending.RUnlock()
	if w.closed {
		return ErrWriterClosed
	}
	select {
	case w.in <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush commits everything added so far and returns the writer's error.
func (w *Writer) Flush(ctx context.Context) error {
	ch := make(chan error, 1)
	w.sending.RLock()
	if w.closed {
		w.sending.RUnlock()
		return w.Err()
	}
	select {
	case w.in <- writeReq{flush: ch}:
		w.sending.RUnlock()
	case <-ctx.Done():
		w.sending.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close commits the pending results, stops the writer and returns its error.
// Add and Commit after Close return ErrWriterClosed.
func (w *Writer) Close() error {
	w.sending.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.sending.Unlock()
	<-w.done
	return w.Err()
}

// Err returns the first commit error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) loop() {
	defer close(w.done)
	batch := make([]Result, 0, w.opts.BatchSize)
	var (
		cache       []CacheEntry
		waiters     []chan error // Commit and Flush callers of the pending batch
		lastWaiters int          // callers of the last committed batch
		armed       bool         // timer runs for rows queued by Add
	)
	timer := time.NewTimer(w.opts.FlushInterval)
	timer.Stop()
	defer timer.Stop()
	gap := time.NewTimer(w.opts.Linger)
	gap.Stop()
	defer gap.Stop()

	commit := func() {
		timer.Stop()
		armed = false
		if w.beforeCommit != nil && len(batch) > 0 {
			w.beforeCommit(len(batch), len(waiters))
		}
		err := w.Err()
		if err == nil && len(batch) > 0 {
			// The batch is committed even when a caller's context is cancelled:
			// those results are finished work that a resume must not redo.
			if err = w.s.PutBatch(context.Background(), batch, cache); err != nil {
				w.mu.Lock()
				if w.err == nil {
					w.err = err
				}
				w.mu.Unlock()
			}
		}
		for _, ch := range waiters {
			ch <- err // buffered: a caller that stopped waiting does not block us
		}
		clear(batch) // drop the request and response bytes until reused
		lastWaiters = len(waiters)
		batch, cache, waiters = batch[:0], cache[:0], waiters[:0]
	}
	take := func(req writeReq) {
		if req.flush != nil {
			waiters = append(waiters, req.flush)
			return
		}
		batch = append(batch, req.r)
		if req.cache != nil {
			cache = append(cache, *req.cache)
		}
		if req.done != nil {
			waiters = append(waiters, req.done)
		}
	}

	for {
		select {
		case req, ok := <-w.in:
			if !ok {
				commit()
				return
			}
			take(req)
		case <-timer.C:
			armed = false
			commit()
			continue
		}
		// Whatever queued up while the last transaction ran joins this one, and
		// when that batch had several callers more are likely on their way.
		var deadline time.Time
	gather:
		for len(batch) < w.opts.BatchSize {
			select {
			case req, ok := <-w.in:
				if !ok {
					commit()
					return
				}
				take(req)
				continue
			default:
			}
			if len(waiters) == 0 || lastWaiters <= 1 || w.opts.Linger < 0 {
				break
			}
			if deadline.IsZero() {
				deadline = time.Now().Add(w.opts.MaxLinger)
			}
			wait := min(w.opts.Linger, time.Until(deadline))
			if wait <= 0 {
				break
			}
			gap.Reset(wait)
			select {
			case req, ok := <-w.in:
				gap.Stop()
				if !ok {
					commit()
					return
				}
				take(req)
			case <-gap.C:
				break gather // the results stopped coming
			}
		}
		switch {
		case len(waiters) > 0 || len(batch) >= w.opts.BatchSize:
			commit()
		case !armed && len(batch) > 0:
			timer.Reset(w.opts.FlushInterval)
			armed = true
		}
	}
}
