package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/store"
)

const (
	storeFlagHelp = "store: a SQLite path, sqlite:PATH or postgres://… (default: the plan's store key, else .tunecheck/tunecheck.db)"
	planFlagHelp  = "plan file whose store key says where the store is (default: tunecheck.yaml in the current directory, when there is one)"
)

// storeFlags are --store and --plan of a command that reads stored runs; they
// locate the store by app.LocateStore's rule, the same one `run` follows.
type storeFlags struct {
	store string
	plan  string
}

func (f *storeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.store, "store", "", storeFlagHelp)
	cmd.Flags().StringVar(&f.plan, "plan", "", planFlagHelp)
}

// open opens the located store for reading; it never creates one.
func (f storeFlags) open(ctx context.Context) (*store.Store, error) {
	dsn, _, err := app.LocateStore(f.store, f.plan)
	if err != nil {
		return nil, err
	}
	return openExistingStore(ctx, dsn)
}

// openExistingStore opens the store at dsn for a command that only reads:
// a missing SQLite file is bad input (exit 2), and no empty one is left behind.
func openExistingStore(ctx context.Context, dsn string) (*store.Store, error) {
	st, err := store.OpenExisting(ctx, dsn)
	switch {
	case errors.Is(err, store.ErrNoStore):
		// The message already says where it looked and what to do.
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	case err != nil:
		return nil, exitcode.WithCode(fmt.Errorf("opening the store: %w", err), exitcode.BadInput)
	}
	return st, nil
}

// isPlanFile says whether the value of runs --plan is a plan file rather than
// a plan name: it ends in .yaml or .yml, or names a regular file.
func isPlanFile(v string) bool {
	if v == "" {
		return false
	}
	if strings.HasSuffix(v, ".yaml") || strings.HasSuffix(v, ".yml") {
		return true
	}
	fi, err := os.Stat(v)
	return err == nil && fi.Mode().IsRegular()
}
