package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// WriterOptions tune a Writer. Zero values take the defaults.
type WriterOptions struct {
	// BatchSize is how many results one transaction holds (default 256).
	BatchSize int
	// FlushInterval bounds how long a result waits before it is committed (default 100ms).
	FlushInterval time.Duration
}

// Writer streams results into the store in batched transactions, committing
// every BatchSize results or FlushInterval, whichever comes first, so that a
// killed run loses at most one batch. It is safe for concurrent use.
type Writer struct {
	s    *Store
	opts WriterOptions
	in   chan writeReq
	done chan struct{}
	mu   sync.Mutex
	err  error
	// sending guards in: Add and Flush hold it for reading while they send, Close
	// for writing while it closes, so nothing is ever sent on a closed channel.
	sending sync.RWMutex
	closed  bool
}

type writeReq struct {
	r     Result
	cache *CacheEntry
	flush chan error // non-nil: commit what is pending and report
}

// ErrWriterClosed is returned by Add after Close.
var ErrWriterClosed = errors.New("result writer is closed")

// NewWriter starts a batch writer. Close it to commit the last batch.
func (s *Store) NewWriter(opts WriterOptions) *Writer {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	w := &Writer{s: s, opts: opts, in: make(chan writeReq, 2*opts.BatchSize), done: make(chan struct{})}
	go w.loop()
	return w
}

// Add queues a result. It blocks while the queue is full and returns the first
// error a commit has met, after which nothing more is written.
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
// Add after Close returns ErrWriterClosed.
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
	var cache []CacheEntry
	timer := time.NewTimer(w.opts.FlushInterval)
	timer.Stop()
	defer timer.Stop()
	commit := func() error {
		if len(batch) == 0 {
			return w.Err()
		}
		if err := w.Err(); err != nil {
			batch, cache = batch[:0], cache[:0]
			return err
		}
		// The batch is committed even when the caller's context is cancelled:
		// those results are finished work that a resume must not redo.
		err := w.s.PutBatch(context.Background(), batch, cache)
		batch, cache = batch[:0], cache[:0]
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
		}
		return w.Err()
	}
	for {
		select {
		case req, ok := <-w.in:
			if !ok {
				commit()
				return
			}
			if req.flush != nil {
				req.flush <- commit()
				continue
			}
			batch = append(batch, req.r)
			if req.cache != nil {
				cache = append(cache, *req.cache)
			}
			if len(batch) == 1 {
				timer.Reset(w.opts.FlushInterval)
			}
			if len(batch) >= w.opts.BatchSize {
				timer.Stop()
				commit()
			}
		case <-timer.C:
			commit()
		}
	}
}
