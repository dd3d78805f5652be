package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The shard flags and merge refuse bad input with exit 2 and a message
// that says what to do, before anything is sent or stored.
func TestShardFlagsAndMergeErrors(t *testing.T) {
	plan := filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml")
	db := filepath.Join(t.TempDir(), "tc.db")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"index from 0", []string{"run", plan, "--store", db, "--shard", "4/4"}, nil,
			[]string{`--shard "4/4": shards count from 0, so the last of 4 is 3/4`, "JOB_COMPLETION_INDEX"}},
		{"not a fraction", []string{"run", plan, "--store", db, "--shard", "two"}, nil,
			[]string{"not INDEX/COUNT"}},
		{"sqlite refused", []string{"run", plan, "--store", db, "--shard", "0/2", "--run-group", "g"}, nil,
			[]string{"--shard needs a store every shard can reach: this is SQLite", "postgres://"}},
		{"merge: no such run", []string{"merge", "nope", "--plan", plan, "--store", db}, nil,
			[]string{`no sharded run of this plan for "nope"`, "--run-group"}},
		{"merge: group from the environment", []string{"merge", "--plan", plan, "--store", db}, map[string]string{"TUNECHECK_RUN_GROUP": "from-env"},
			[]string{`no sharded run of this plan for "from-env"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := Main(context.Background(), tt.args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
				Getenv: func(k string) string { return tt.env[k] }})
			if code != 2 {
				t.Errorf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}
