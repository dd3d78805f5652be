package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Result is one item answered (or not) by one model in one run.
type Result struct {
	RunID, Model, Task, ItemID string
	// Stage names the task stage the result belongs to ("" for the first
	// stage of runs stored before stages existed).
	Stage string
	// Endpoint is the endpoint that answered when it is not Model itself (a
	// judge grading Model's output); empty otherwise.
	Endpoint string
	// RequestHash is the sha256 of the request's canonical JSON: the same for the
	// base and the tuned model on the same item.
	RequestHash string
	// Request and Response are JSON (provider.Request, provider.Response).
	Request, Response []byte
	// Error is the final error after all retries; empty on success. A failed item
	// is stored, never dropped, and never scored.
	Error            string
	Attempts         int
	LatencyMS        float64
	Cached           bool
	PromptTokens     int
	CompletionTokens int
	Scores           map[string]float64
}

// Key identifies a result within a run.
type Key struct {
	Model, Task, Stage, ItemID string
}

const resultColumns = `run_id, model, task, stage, item_id, endpoint, request_hash, request, response, error, attempts, latency_ms, cached, prompt_tokens, completion_tokens, scores`

// upsertResult inserts a result; on a key already stored it replaces the row only
// when the stored one is a failure, so a resumed run can turn failures into
// successes while a success is never duplicated or overwritten.
const upsertResult = `INSERT INTO results (` + resultColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, model, task, stage, item_id) DO UPDATE SET
	endpoint = excluded.endpoint, request_hash = excluded.request_hash, request = excluded.request, response = excluded.response,
	error = excluded.error, attempts = excluded.attempts, latency_ms = excluded.latency_ms,
	cached = excluded.cached, prompt_tokens = excluded.prompt_tokens,
	completion_tokens = excluded.completion_tokens, scores = excluded.scores
WHERE results.error <> ''`

// CacheEntry is a response cache row written together with results.
type CacheEntry struct {
	Key   string
	Value []byte
}

// PutResults writes results in one transaction (see Writer for streaming).
func (s *Store) PutResults(ctx context.Context, rs []Result) error {
	return s.PutBatch(ctx, rs, nil)
}

// PutBatch writes results and cache entries in one transaction, so that a
// response is cached exactly when its result is stored.
func (s *Store) PutBatch(ctx context.Context, rs []Result, cache []CacheEntry) error {
	if len(rs) == 0 && len(cache) == 0 {
		return nil
	}
	rs, cache = dedupe(rs), dedupeCache(cache)
	// Rows in key order: two processes writing overlapping keys (a run resumed
	// twice at once) then lock them in the same order and cannot deadlock.
	slices.SortFunc(rs, func(a, b Result) int {
		return cmp.Or(cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Task, b.Task), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.ItemID, b.ItemID))
	})
	slices.SortFunc(cache, func(a, b CacheEntry) int { return cmp.Compare(a.Key, b.Key) })
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	defer tx.Rollback()
	// Many rows per statement: with modernc's SQLite the per-statement overhead,
	// not the row, dominates a batch (64 rows a statement cost a third of the CPU
	// of one; docs/benchmarks/runner.md).
	args := make([]any, 0, rowsPerInsert*16)
	for start := 0; start < len(rs); start += rowsPerInsert {
		part := rs[start:min(start+rowsPerInsert, len(rs))]
		args = args[:0]
		for _, r := range part {
			scores, err := encodeScores(r.Scores)
			if err != nil {
				return fmt.Errorf("writing result %s/%s/%s of run %s: %w", r.Model, r.Task, r.ItemID, r.RunID, err)
			}
			args = append(args, r.RunID, r.Model, r.Task, r.Stage, r.ItemID, r.Endpoint, r.RequestHash, r.Request, r.Response,
				r.Error, r.Attempts, r.LatencyMS, boolInt(r.Cached), r.PromptTokens, r.CompletionTokens, scores)
		}
		if _, err := s.exec(ctx, tx, upsertResults(len(part)), len(part) == rowsPerInsert, args); err != nil {
			r := part[0]
			return fmt.Errorf("writing %d results of run %s from %s/%s/%s on: %w", len(part), r.RunID, r.Model, r.Task, r.ItemID, wrapErr(err, r.RunID))
		}
	}
	now := s.now().UnixNano()
	for start := 0; start < len(cache); start += rowsPerInsert {
		part := cache[start:min(start+rowsPerInsert, len(cache))]
		args = args[:0]
		for _, c := range part {
			args = append(args, c.Key, nonNil(c.Value), now)
		}
		if _, err := s.exec(ctx, tx, cachePuts(len(part)), len(part) == rowsPerInsert, args); err != nil {
			return fmt.Errorf("writing the response cache: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		id := ""
		if len(rs) > 0 {
			id = rs[0].RunID
		}
		return fmt.Errorf("writing results: %w", wrapErr(err, id))
	}
	return nil
}

// exec runs q in tx; with keep, through a statement prepared once per
// connection and kept (parsing a 64-row statement costs as much as running it).
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, keep bool, args []any) (sql.Result, error) {
	q = s.rebind(q)
	if !keep {
		return tx.ExecContext(ctx, q, args...)
	}
	s.stmtMu.Lock()
	st, ok := s.stmts[q]
	if !ok {
		var err error
		if st, err = s.db.PrepareContext(ctx, q); err != nil {
			s.stmtMu.Unlock()
			return nil, err
		}
		s.stmts[q] = st
	}
	s.stmtMu.Unlock()
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// rowsPerInsert keeps a statement's parameters (16 a row) far below SQLite's
// and PostgreSQL's limits (32766 and 65535).
const rowsPerInsert = 64

// upsertResults is upsertResult for n rows.
func upsertResults(n int) string {
	one := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	head, tail, _ := strings.Cut(upsertResult, one)
	return head + one + strings.Repeat(", "+one, n-1) + tail
}

func cachePuts(n int) string {
	one := "(?, ?, ?)"
	head, tail, _ := strings.Cut(cachePut, one)
	return head + one + strings.Repeat(", "+one, n-1) + tail
}

// dedupe keeps one result per key, as the upsert would row by row: the first
// success, else the last failure. PostgreSQL refuses a statement that touches
// one row twice, so the batch must not carry duplicates.
func dedupe(rs []Result) []Result {
	type rk struct{ run, model, task, stage, item string }
	idx := make(map[rk]int, len(rs))
	out := rs[:0:0]
	for _, r := range rs {
		k := rk{r.RunID, r.Model, r.Task, r.Stage, r.ItemID}
		i, ok := idx[k]
		switch {
		case !ok:
			idx[k] = len(out)
			out = append(out, r)
		case out[i].Error != "":
			out[i] = r
		}
	}
	return out
}

// dedupeCache keeps the last value per key.
func dedupeCache(cs []CacheEntry) []CacheEntry {
	idx := make(map[string]int, len(cs))
	out := cs[:0:0]
	for _, c := range cs {
		if i, ok := idx[c.Key]; ok {
			out[i] = c
			continue
		}
		idx[c.Key] = len(out)
		out = append(out, c)
	}
	return out
}

// UpdateScores sets the scores of already stored results, matched by
// (Model, Task, Stage, ItemID) within runID; other fields of rs are ignored. Scores are
// set here rather than at write time because scoring runs after all responses
// are in (corpus-level metrics need the whole set). Every key must exist.
func (s *Store) UpdateScores(ctx context.Context, runID string, rs []Result) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("updating scores of run %s: %w", runID, err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, s.rebind(`UPDATE results SET scores = ? WHERE run_id = ? AND model = ? AND task = ? AND stage = ? AND item_id = ?`))
	if err != nil {
		return fmt.Errorf("updating scores of run %s: %w", runID, err)
	}
	defer stmt.Close()
	for _, r := range rs {
		scores, err := encodeScores(r.Scores)
		if err != nil {
			return fmt.Errorf("updating scores of %s/%s/%s in run %s: %w", r.Model, r.Task, r.ItemID, runID, err)
		}
		res, err := stmt.ExecContext(ctx, scores, runID, r.Model, r.Task, r.Stage, r.ItemID)
		if err != nil {
			return fmt.Errorf("updating scores of %s/%s/%s in run %s: %w", r.Model, r.Task, r.ItemID, runID, wrapErr(err, runID))
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("updating scores of %s/%s/%s in run %s: no such result: %w", r.Model, r.Task, r.ItemID, runID, ErrNotFound)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("updating scores of run %s: %w", runID, wrapErr(err, runID))
	}
	return nil
}

// Results returns every result of the run ordered by model, task, stage and item id
// (byte order on both backends).
func (s *Store) Results(ctx context.Context, runID string) ([]Result, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+resultColumns+` FROM results WHERE run_id = ? ORDER BY model, task, stage, item_id`), runID)
	if err != nil {
		return nil, fmt.Errorf("reading results of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var (
			r      Result
			cached int
			scores string
		)
		if err := rows.Scan(&r.RunID, &r.Model, &r.Task, &r.Stage, &r.ItemID, &r.Endpoint, &r.RequestHash, &r.Request, &r.Response, &r.Error,
			&r.Attempts, &r.LatencyMS, &cached, &r.PromptTokens, &r.CompletionTokens, &scores); err != nil {
			return nil, fmt.Errorf("reading results of run %s: %w", runID, err)
		}
		r.Cached = cached != 0
		if err := json.Unmarshal([]byte(scores), &r.Scores); err != nil {
			return nil, fmt.Errorf("reading results of run %s: scores of %s/%s/%s: %w", runID, r.Model, r.Task, r.ItemID, err)
		}
		if len(r.Scores) == 0 {
			r.Scores = nil
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading results of run %s: %w", runID, err)
	}
	return out, nil
}

// DoneKeys returns the keys of the run's successful results: what a resumed run
// skips. Failed results are left out so that a resume retries them.
func (s *Store) DoneKeys(ctx context.Context, runID string) (map[Key]bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM results WHERE run_id = ?`), runID).Scan(&n); err != nil {
		return nil, fmt.Errorf("reading finished items of run %s: %w", runID, err)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT model, task, stage, item_id FROM results WHERE run_id = ? AND error = ''`), runID)
	if err != nil {
		return nil, fmt.Errorf("reading finished items of run %s: %w", runID, err)
	}
	defer rows.Close()
	done := make(map[Key]bool, n)
	for rows.Next() {
		var k Key
		if err := rows.Scan(&k.Model, &k.Task, &k.Stage, &k.ItemID); err != nil {
			return nil, fmt.Errorf("reading finished items of run %s: %w", runID, err)
		}
		done[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading finished items of run %s: %w", runID, err)
	}
	return done, nil
}

func encodeScores(m map[string]float64) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m) // fails on NaN/Inf: a scorer bug we want to see
	if err != nil {
		return "", fmt.Errorf("scores: %w", err)
	}
	return string(b), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
