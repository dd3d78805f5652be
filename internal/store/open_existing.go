package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNoStore is wrapped when OpenExisting finds no SQLite file at the location.
var ErrNoStore = errors.New("no store")

// noStoreError names the missing file; its message says what to do.
type noStoreError struct{ path string }

func (e *noStoreError) Error() string {
	return fmt.Sprintf("no store at %s; run a plan first or pass --store", e.path)
}

func (e *noStoreError) Is(target error) bool { return target == ErrNoStore }

// OpenExisting opens the store named by dsn as Open does, but never creates an
// SQLite file or its directory: commands that only read runs use it, so that
// looking in the wrong place fails instead of leaving an empty database
// behind. A PostgreSQL DSN is opened as by Open.
func OpenExisting(ctx context.Context, dsn string) (*Store, error) {
	if backend, target := ParseDSN(dsn); backend == SQLite {
		fi, err := os.Stat(target)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, &noStoreError{path: target}
		case err != nil:
			return nil, fmt.Errorf("opening SQLite store %s: %w", target, err)
		case fi.IsDir():
			return nil, fmt.Errorf("opening SQLite store %s: it is a directory, not a database file (pass the file with --store)", target)
		}
	}
	return Open(ctx, dsn)
}
