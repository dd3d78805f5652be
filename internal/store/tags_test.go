package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRunTags stores tags with runs and finds runs by every given pair, on
// both backends; values that contain another pair's JSON do not match by
// accident, and tags stay immutable once the run is finished.
func TestRunTags(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := context.Background()
			t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			runs := []Run{
				{ID: "r1", Name: "p", PlanHash: "h1", StartedAt: t0, Tags: map[string]string{"checkpoint_step": "100", "watch_dir": "/out"}},
				{ID: "r2", Name: "p", PlanHash: "h2", StartedAt: t0.Add(time.Second), Tags: map[string]string{"checkpoint_step": "200", "watch_dir": "/out"}},
				// The value holds the text of another pair: the substring
				// narrows, the exact check decides.
				{ID: "r3", Name: "p", PlanHash: "h3", StartedAt: t0.Add(2 * time.Second), Tags: map[string]string{"note": `"checkpoint_step":"100"`, "watch_dir": "/out"}},
				{ID: "r4", Name: "p", PlanHash: "h4", StartedAt: t0.Add(3 * time.Second)},
			}
			for _, r := range runs {
				if err := s.CreateRun(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				tags map[string]string
				want []string
			}{
				{map[string]string{"watch_dir": "/out"}, []string{"r3", "r2", "r1"}},
				{map[string]string{"watch_dir": "/out", "checkpoint_step": "100"}, []string{"r1"}},
				{map[string]string{"checkpoint_step": "100"}, []string{"r1"}},
				{map[string]string{"checkpoint_step": "300"}, nil},
				{nil, []string{"r4", "r3", "r2", "r1"}},
			} {
				got, err := s.RunsTagged(ctx, tc.tags)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, r := range got {
					ids = append(ids, r.ID)
				}
				if len(ids) != len(tc.want) || (len(ids) > 0 && !equalStrings(ids, tc.want)) {
					t.Errorf("RunsTagged(%v) = %v, want %v", tc.tags, ids, tc.want)
				}
			}
			r, err := s.GetRun(ctx, "r2")
			if err != nil || r.Tags["checkpoint_step"] != "200" || r.Tags["watch_dir"] != "/out" {
				t.Fatalf("GetRun tags = %v, %v", r.Tags, err)
			}
			if r, _ := s.GetRun(ctx, "r4"); len(r.Tags) != 0 {
				t.Fatalf("untagged run: tags = %#v, want none", r.Tags)
			}
			if err := s.FinishRun(ctx, "r2", "pass", []byte("{}")); err != nil {
				t.Fatal(err)
			}
			_, err = s.db.ExecContext(ctx, s.rebind(`UPDATE runs SET tags = ? WHERE id = ?`), `{}`, "r2")
			if err == nil || !errors.Is(wrapErr(err, "r2"), ErrRunFinished) {
				t.Fatalf("changing a finished run's tags: %v", err)
			}
			if err := s.CreateRun(ctx, Run{ID: "r5", Tags: map[string]string{"": "x"}}); err == nil {
				t.Fatal("a tag with an empty key was stored")
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
