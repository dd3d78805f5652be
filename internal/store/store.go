// Package store owns tunecheck's persistent state: runs, per-item results and the
// response cache, in one SQL store over database/sql. SQLite (modernc.org/sqlite,
// pure Go, WAL, busy timeout) is the default at .tunecheck/tunecheck.db;
// PostgreSQL (pgx/v5 stdlib) is chosen by a postgres:// DSN so that shards of one
// run can write to one database.
//
// Queries are written once with ? placeholders and rebound to $n for PostgreSQL;
// only the DDL differs per backend (BLOB vs BYTEA, trigger syntax). Migrations are
// embedded, numbered NNNN_name.sql, and applied together in one transaction that
// records each version in schema_version.
//
// A finished run is immutable: triggers in the database refuse any change to it or
// to its results, and the Go API reports that as ErrRunFinished.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// DefaultPath is where the SQLite store lives when no DSN is given.
const DefaultPath = ".tunecheck/tunecheck.db"

// Backend names a database engine.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

var (
	// ErrNotFound is wrapped when a run id or prefix matches nothing.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous is wrapped when a run id prefix matches more than one run.
	ErrAmbiguous = errors.New("ambiguous run id prefix")
	// ErrRunFinished is wrapped when a write targets a finished (immutable) run.
	ErrRunFinished = errors.New("run is finished and immutable")
)

// immutableMarker is the text the database triggers raise; see migrations/.
const immutableMarker = "tunecheck: run is finished and immutable"

//go:embed migrations
var migrationsFS embed.FS

// Store is an open tunecheck database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	backend Backend
	where   string // the file or server, for error messages
	now     func() time.Time

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // hot statements, prepared once (see exec)
}

// SetClock replaces the clock that stamps run start and finish times and cache
// entries (time.Now by default). Call it before using the store.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Open opens (creating and migrating when needed) the store named by dsn:
//
//	""                         .tunecheck/tunecheck.db (directory created)
//	"sqlite:PATH" or "PATH"    an SQLite file (directory created)
//	"postgres://…", "postgresql://…"  a PostgreSQL database
func Open(ctx context.Context, dsn string) (*Store, error) {
	backend, target := ParseDSN(dsn)
	var s *Store
	switch backend {
	case Postgres:
		db, err := sql.Open("pgx", target)
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL store: %w", err)
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		s = &Store{db: db, backend: Postgres, where: redactDSN(target), now: time.Now, stmts: map[string]*sql.Stmt{}}
	default:
		if dir := filepath.Dir(target); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("creating the store directory %s: %w (choose another path with --store)", dir, err)
			}
		}
		// _txlock=immediate: every transaction takes the write lock at BEGIN, so two
		// writers wait on the busy timeout instead of deadlocking on a lock upgrade.
		q := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err := sql.Open("sqlite", target+q)
		if err != nil {
			return nil, fmt.Errorf("opening SQLite store %s: %w", target, err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		s = &Store{db: db, backend: SQLite, where: target, now: time.Now, stmts: map[string]*sql.Stmt{}}
	}
	if err := s.ping(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connecting to the %s store %s: %w", s.backend, s.where, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("migrating the %s store %s: %w", s.backend, s.where, err)
	}
	return s, nil
}

// ping opens the first connection. On SQLite, processes that open a new file
// at once race to switch it to WAL, and SQLite answers the loser SQLITE_BUSY
// at once, without its busy handler (TestConcurrentOpenFresh met it under
// load); the switch is done once per file, so the loser asks again.
func (s *Store) ping(ctx context.Context) error {
	for wait := 5 * time.Millisecond; ; wait *= 2 {
		err := s.db.PingContext(ctx)
		if err == nil || s.backend != SQLite || !strings.Contains(err.Error(), "SQLITE_BUSY") || wait > 2*time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// ParseDSN says which backend dsn names and what to hand its driver.
func ParseDSN(dsn string) (Backend, string) {
	switch {
	case dsn == "":
		return SQLite, DefaultPath
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn
	case strings.HasPrefix(dsn, "sqlite://"):
		return SQLite, strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		return SQLite, strings.TrimPrefix(dsn, "sqlite:")
	}
	return SQLite, dsn
}

// redactDSN drops the password from a PostgreSQL URL so errors can show where.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		userinfo = userinfo[:i] + ":xxxxx"
	}
	return dsn[:scheme+3] + userinfo + dsn[at:]
}

// Backend reports which database engine the store uses.
func (s *Store) Backend() Backend { return s.backend }

// Close closes the database.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	return s.db.Close()
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Our queries never
// contain a literal question mark, so a plain scan is enough.
func (s *Store) rebind(q string) string {
	if s.backend != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// wrapErr maps the immutability trigger to ErrRunFinished.
func wrapErr(err error, runID string) error {
	if err != nil && strings.Contains(err.Error(), immutableMarker) {
		return fmt.Errorf("run %s: %w (start a new run instead of changing a finished one)", runID, ErrRunFinished)
	}
	return err
}

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(s.backend))
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("embedded migration %s/%s: name must be NNNN_description.sql", dir, name)
		}
		b, err := migrationsFS.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the pending embedded migrations in one transaction. Two
// processes opening the same fresh database serialise on the write lock
// (SQLite) or an advisory lock (PostgreSQL), and the second finds nothing to do.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.backend == Postgres {
		// Any constant will do; it only has to be the same in every tunecheck.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7375726) `); err != nil {
			return err
		}
	}
	// Created under the lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not
	// safe against a concurrent creator.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than this tunecheck knows (%d): upgrade tunecheck", current, latest)
	}
	if current == latest {
		return nil
	}
	now := s.now().UnixNano()
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`), m.version, m.name, now); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
	}
	return tx.Commit()
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}
