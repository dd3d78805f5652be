package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
)

// Shard is one shard of a sharded run (table run_shards).
type Shard struct {
	RunID  string
	Index  int // 0-based
	Count  int
	Group  string
	Done   bool
	DoneAt int64 // Unix nanoseconds; 0 while running
}

// ErrShardCount is wrapped when a shard joins a run that other shards
// started with another number of shards.
var ErrShardCount = errors.New("shard count differs from the run's")

// JoinRun creates r unless a run with its id exists, and returns the run as
// stored: the first of several shards creates it, the others (and a
// restarted shard) find it. created says which happened.
func (s *Store) JoinRun(ctx context.Context, r Run) (Run, bool, error) {
	if r.ID == "" {
		return Run{}, false, errors.New("joining run: empty id")
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = s.now()
	}
	ds := r.Datasets
	if ds == nil {
		ds = map[string]string{}
	}
	dsJSON, err := json.Marshal(ds)
	if err != nil {
		return Run{}, false, fmt.Errorf("joining run %s: datasets: %w", r.ID, err)
	}
	tagsJSON, err := encodeTags(r.Tags)
	if err != nil {
		return Run{}, false, fmt.Errorf("joining run %s: %w", r.ID, err)
	}
	created := false
	err = func() error {
		// ON CONFLICT DO NOTHING (SQLite ≥ 3.24 and PostgreSQL): shards that
		// start together race for the insert, and exactly one wins.
		res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO runs (`+runColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
			r.ID, r.Name, r.PlanHash, r.Plan, r.ToolVersion, int64(r.Seed), string(dsJSON), r.Models,
			StatusRunning, "", nil, unixNano(r.StartedAt), int64(0), string(tagsJSON))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		created = err == nil && n == 1
		return nil
	}()
	if err != nil {
		return Run{}, false, fmt.Errorf("joining run %s: %w", r.ID, err)
	}
	got, err := s.GetRun(ctx, r.ID)
	if err != nil {
		return Run{}, false, err
	}
	if got.ID != r.ID {
		return Run{}, false, fmt.Errorf("joining run %s: found %s instead", r.ID, got.ID)
	}
	return got, created, nil
}

// StartShard records that shard index of count of runID is running. Every
// shard of a run must give the same count; a restarted shard keeps its row.
func (s *Store) StartShard(ctx context.Context, runID, group string, index, count int) error {
	if count < 1 || index < 0 || index >= count {
		return fmt.Errorf("shard %d/%d: the index must be in 0..%d", index, count, count-1)
	}
	var other int
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT shards FROM run_shards WHERE run_id = ? AND shards <> ? LIMIT 1`), runID, count).Scan(&other)
	if err == nil {
		return fmt.Errorf("run %s was started as %d shards, this shard says %d: %w", runID, other, count, ErrShardCount)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("starting shard %d/%d of run %s: %w", index, count, runID, err)
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO run_shards (run_id, shard, shards, run_group, started_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, shard) DO NOTHING`),
		runID, index, count, group, unixNano(s.now()))
	if err != nil {
		return fmt.Errorf("starting shard %d/%d of run %s: %w", index, count, runID, err)
	}
	return nil
}

// FinishShard stamps shard index of runID done.
func (s *Store) FinishShard(ctx context.Context, runID string, index int) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE run_shards SET done_at = ? WHERE run_id = ? AND shard = ?`), unixNano(s.now()), runID, index)
	if err != nil {
		return fmt.Errorf("finishing shard %d of run %s: %w", index, runID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("finishing shard %d of run %s: %w (StartShard first)", index, runID, ErrNotFound)
	}
	return nil
}

// Shards lists the shards recorded for runID, by index (none for a run that
// was not sharded).
func (s *Store) Shards(ctx context.Context, runID string) ([]Shard, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT run_id, shard, shards, run_group, done_at FROM run_shards WHERE run_id = ? ORDER BY shard`), runID)
	if err != nil {
		return nil, fmt.Errorf("shards of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Shard
	for rows.Next() {
		var sh Shard
		if err := rows.Scan(&sh.RunID, &sh.Index, &sh.Count, &sh.Group, &sh.DoneAt); err != nil {
			return nil, fmt.Errorf("shards of run %s: %w", runID, err)
		}
		sh.Done = sh.DoneAt != 0
		out = append(out, sh)
	}
	return out, rows.Err()
}

// MissingShards returns the indexes of the shards of a count-shard run that
// are not done (never started, or still running).
func MissingShards(shards []Shard, count int) []int {
	done := make([]bool, count)
	for _, sh := range shards {
		if sh.Index < count && sh.Done {
			done[sh.Index] = true
		}
	}
	var missing []int
	for i, d := range done {
		if !d {
			missing = append(missing, i)
		}
	}
	return missing
}

// WithRunLock runs fn while holding a lock on runID that every tunecheck
// process sharing this store respects: on PostgreSQL a session advisory
// lock (pg_advisory_lock), so that of several shards finishing at once
// exactly one merges and the others, when they get the lock, find the run
// finished. SQLite stores are not shared between machines (sharded runs need
// PostgreSQL), and there fn runs at once: a second finisher there fails on
// the finished run's immutability instead.
func (s *Store) WithRunLock(ctx context.Context, runID string, fn func() error) error {
	if s.backend != Postgres {
		return fn()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("locking run %s: %w", runID, err)
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte("tunecheck-run-lock\x00" + runID))
	key := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("locking run %s: %w", runID, err)
	}
	// Unlocked on this session even when ctx is done; closing the
	// connection would release it as well.
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
	return fn()
}
