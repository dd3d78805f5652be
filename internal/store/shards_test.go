package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// Shards of one run: they race to create the run and exactly one does; each
// records itself; a shard with another count is refused; the run is complete
// only once every shard is done; the run lock lets exactly one finisher
// finish it.
func TestShards(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := context.Background()
			r := Run{ID: "sharded-abc", Name: "p", PlanHash: "h", Datasets: map[string]string{"qa": "fp"}}
			var created atomic.Int64
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Go(func() {
					got, c, err := s.JoinRun(ctx, r)
					if err != nil {
						t.Error(err)
						return
					}
					if c {
						created.Add(1)
					}
					if got.Status != StatusRunning || got.Datasets["qa"] != "fp" {
						t.Errorf("joined %+v", got)
					}
					if err := s.StartShard(ctx, r.ID, "g", i, 4); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if created.Load() != 1 {
				t.Fatalf("%d shards created the run, want exactly 1", created.Load())
			}
			// An unsharded run of the same plan does not resume the sharded one.
			if got, ok, err := s.ResumableRun(ctx, r.PlanHash); ok || err != nil {
				t.Errorf("ResumableRun found %s, %v; want the sharded run left to its shards", got.ID, err)
			}
			if err := s.StartShard(ctx, r.ID, "g", 1, 3); !errors.Is(err, ErrShardCount) {
				t.Errorf("a shard of 3 joined a run of 4: %v", err)
			}
			if err := s.StartShard(ctx, r.ID, "g", 4, 4); err == nil {
				t.Error("shard 4/4 accepted")
			}
			// A restarted shard keeps its row.
			if err := s.StartShard(ctx, r.ID, "g", 2, 4); err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{0, 2} {
				if err := s.FinishShard(ctx, r.ID, i); err != nil {
					t.Fatal(err)
				}
			}
			shards, err := s.Shards(ctx, r.ID)
			if err != nil || len(shards) != 4 {
				t.Fatalf("shards %+v, %v", shards, err)
			}
			if got := MissingShards(shards, 4); !slices.Equal(got, []int{1, 3}) {
				t.Errorf("missing %v, want [1 3]", got)
			}
			if err := s.FinishShard(ctx, "other", 0); !errors.Is(err, ErrNotFound) {
				t.Errorf("finishing a shard never started: %v", err)
			}

			// Several finishers at once: under the lock, exactly one finds
			// the run unfinished and finishes it.
			var finished atomic.Int64
			for range 4 {
				wg.Go(func() {
					err := s.WithRunLock(ctx, r.ID, func() error {
						got, err := s.GetRun(ctx, r.ID)
						if err != nil || got.Status == StatusFinished {
							return err
						}
						finished.Add(1)
						return s.FinishRun(ctx, r.ID, "pass", []byte("{}"))
					})
					if err != nil && b.name == "postgres" {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if b.name == "postgres" && finished.Load() != 1 {
				t.Errorf("%d finishers finished the run, want 1", finished.Load())
			}
			// A finished run cannot be joined as new: JoinRun returns it as it is.
			got, c, err := s.JoinRun(ctx, r)
			if err != nil || c || got.Status != StatusFinished {
				t.Errorf("joining a finished run: %+v created=%v %v", got, c, err)
			}
		})
	}
}
