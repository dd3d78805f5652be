package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Run statuses.
const (
	StatusRunning  = "running"
	StatusFinished = "finished"
)

// Run is the record of one execution of a plan.
type Run struct {
	ID       string
	Name     string
	PlanHash string
	// Plan is the plan's canonical JSON.
	Plan        []byte
	ToolVersion string
	Seed        uint64
	// Datasets maps each task to the fingerprint of the dataset it read.
	Datasets map[string]string
	// Models is the JSON of the model endpoints (API keys by env var name only).
	Models []byte
	// Status is StatusRunning or StatusFinished.
	Status  string
	Verdict string
	// Summary is the results.json written when the run finished.
	Summary    []byte
	StartedAt  time.Time
	FinishedAt time.Time
	// Tags label the run with string pairs set when it was created: `run
	// --tag k=v`, or the checkpoint step and path `watch` evaluated.
	Tags map[string]string
}

// NewRunID returns a fresh run id that sorts by start time: 20261123T051300Z-3f9a2c1b.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

const runColumns = `id, name, plan_hash, plan, tool_version, seed, datasets, models, status, verdict, summary, started_at, finished_at, tags`

// CreateRun records a new run. Status defaults to running; a zero StartedAt
// becomes the store clock's time.
func (s *Store) CreateRun(ctx context.Context, r Run) error {
	if r.ID == "" {
		return errors.New("creating run: empty id (use store.NewRunID)")
	}
	if r.Status == "" {
		r.Status = StatusRunning
	}
	if r.Status != StatusRunning && r.Status != StatusFinished {
		return fmt.Errorf("creating run %s: status %q is neither %q nor %q", r.ID, r.Status, StatusRunning, StatusFinished)
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = s.now()
	}
	ds := r.Datasets
	if ds == nil {
		ds = map[string]string{}
	}
	dsJSON, err := json.Marshal(ds) // encoding/json sorts map keys: deterministic
	if err != nil {
		return fmt.Errorf("creating run %s: datasets: %w", r.ID, err)
	}
	tagsJSON, err := encodeTags(r.Tags)
	if err != nil {
		return fmt.Errorf("creating run %s: %w", r.ID, err)
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO runs (`+runColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, r.Name, r.PlanHash, r.Plan, r.ToolVersion, int64(r.Seed), string(dsJSON), r.Models,
		r.Status, r.Verdict, r.Summary, unixNano(r.StartedAt), unixNano(r.FinishedAt), string(tagsJSON))
	if err != nil {
		return fmt.Errorf("creating run %s: %w", r.ID, err)
	}
	return nil
}

// FinishRun marks the run finished with its verdict and summary, at the store
// clock's time (see SetClock). From then on the run and its results are
// immutable: any later write fails with ErrRunFinished.
func (s *Store) FinishRun(ctx context.Context, id, verdict string, summary []byte) error {
	return s.FinishRunWithRecords(ctx, id, verdict, summary, nil)
}

// FinishRunWithRecords is FinishRun that also stores the run's per-item
// records, kept apart from the summary so that listing runs stays cheap
// however many items a run had (see RunRecords).
func (s *Store) FinishRunWithRecords(ctx context.Context, id, verdict string, summary, records []byte) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE runs SET status = ?, verdict = ?, summary = ?, records = ?, finished_at = ? WHERE id = ?`),
		StatusFinished, verdict, summary, records, unixNano(s.now()), id)
	if err != nil {
		return fmt.Errorf("finishing run %s: %w", id, wrapErr(err, id))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("finishing run %s: %w", id, ErrNotFound)
	}
	return nil
}

// ResumableRun returns the most recently started unfinished run of the plan with
// this hash, if there is one. Sharded runs are not resumed this way: their
// shards find them by id (JoinRun).
func (s *Store) ResumableRun(ctx context.Context, planHash string) (Run, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+runColumns+` FROM runs WHERE plan_hash = ? AND status = ?
		AND NOT EXISTS (SELECT 1 FROM run_shards WHERE run_shards.run_id = runs.id) ORDER BY started_at DESC, id DESC LIMIT 1`),
		planHash, StatusRunning)
	if err != nil {
		return Run{}, false, fmt.Errorf("looking for a resumable run: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return Run{}, false, fmt.Errorf("looking for a resumable run: %w", err)
	}
	if len(runs) == 0 {
		return Run{}, false, nil
	}
	return runs[0], true, nil
}

// GetRun returns the run with this id, or the only run whose id starts with it.
func (s *Store) GetRun(ctx context.Context, idOrPrefix string) (Run, error) {
	if idOrPrefix == "" {
		return Run{}, fmt.Errorf("run id is empty: %w", ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+runColumns+` FROM runs WHERE id = ?`), idOrPrefix)
	if err != nil {
		return Run{}, fmt.Errorf("reading run %s: %w", idOrPrefix, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return Run{}, fmt.Errorf("reading run %s: %w", idOrPrefix, err)
	}
	if len(runs) == 1 {
		return runs[0], nil
	}
	// substr rather than LIKE, so that _ and % in what the user typed are literal.
	rows, err = s.db.QueryContext(ctx, s.rebind(`SELECT `+runColumns+` FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6`),
		len(idOrPrefix), idOrPrefix)
	if err != nil {
		return Run{}, fmt.Errorf("reading run %s: %w", idOrPrefix, err)
	}
	runs, err = scanRuns(rows)
	if err != nil {
		return Run{}, fmt.Errorf("reading run %s: %w", idOrPrefix, err)
	}
	switch len(runs) {
	case 0:
		return Run{}, fmt.Errorf("run %q: %w (list runs with `tunecheck runs`)", idOrPrefix, ErrNotFound)
	case 1:
		return runs[0], nil
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	more := ""
	if len(runs) > 5 {
		ids, more = ids[:5], ", …"
	}
	return Run{}, fmt.Errorf("run %q matches %s%s: %w (type more of the id)", idOrPrefix, strings.Join(ids, ", "), more, ErrAmbiguous)
}

// ListRuns returns runs newest first, only those called name when it is not
// empty, at most limit of them when limit > 0.
func (s *Store) ListRuns(ctx context.Context, name string, limit int) ([]Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs`
	var args []any
	if name != "" {
		q += ` WHERE name = ?`
		args = append(args, name)
	}
	q += ` ORDER BY started_at DESC, id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return runs, nil
}

// RunsTagged returns the runs carrying every one of tags (key and value
// equal), newest first. The database narrows the rows by a substring of the
// tags column's JSON; the exact match is checked here, so a value that
// happens to contain another pair's text never matches by accident.
func (s *Store) RunsTagged(ctx context.Context, tags map[string]string) ([]Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs`
	var args []any
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		pair, err := json.Marshal(map[string]string{k: tags[k]})
		if err != nil {
			return nil, fmt.Errorf("listing runs by tag: %w", err)
		}
		// {"k":"v"} → "k":"v", which the column's JSON holds verbatim:
		// encoding/json escapes a string the same way wherever it stands.
		if i == 0 {
			q += ` WHERE `
		} else {
			q += ` AND `
		}
		if s.backend == Postgres {
			q += `strpos(tags, ?) > 0`
		} else {
			q += `instr(tags, ?) > 0`
		}
		args = append(args, string(pair[1:len(pair)-1]))
	}
	q += ` ORDER BY started_at DESC, id DESC`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs by tag: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("listing runs by tag: %w", err)
	}
	out := runs[:0]
	for _, r := range runs {
		if HasTags(r, tags) {
			out = append(out, r)
		}
	}
	return out, nil
}

// HasTags reports whether the run carries every one of tags.
func HasTags(r Run, tags map[string]string) bool {
	for k, v := range tags {
		if got, ok := r.Tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                 Run
			seed              int64
			ds, tags          string
			started, finished int64
		)
		if err := rows.Scan(&r.ID, &r.Name, &r.PlanHash, &r.Plan, &r.ToolVersion, &seed, &ds, &r.Models,
			&r.Status, &r.Verdict, &r.Summary, &started, &finished, &tags); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
			return nil, fmt.Errorf("run %s: tags column: %w", r.ID, err)
		}
		if len(r.Tags) == 0 {
			r.Tags = nil // an untagged run reads back as it was written
		}
		r.Seed = uint64(seed)
		if err := json.Unmarshal([]byte(ds), &r.Datasets); err != nil {
			return nil, fmt.Errorf("run %s: datasets column: %w", r.ID, err)
		}
		r.StartedAt = fromUnixNano(started)
		r.FinishedAt = fromUnixNano(finished)
		out = append(out, r)
	}
	return out, rows.Err()
}

// unixNano stores the zero time as 0 rather than year-1 nanoseconds, which overflow.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// RunRecords returns the per-item records stored with a finished run (nil
// for runs finished without them).
func (s *Store) RunRecords(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT records FROM runs WHERE id = ?`), id).Scan(&b); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("records of run %s: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("records of run %s: %w", id, err)
	}
	return b, nil
}

// encodeTags is a run's tags as stored: a JSON object with sorted keys
// (encoding/json sorts map keys), {} for none.
func encodeTags(tags map[string]string) ([]byte, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	for k := range tags {
		if k == "" {
			return nil, errors.New("a tag has an empty key")
		}
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	return b, nil
}
