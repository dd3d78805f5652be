package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"0/4", Shard{Index: 0, Count: 4}, ""},
		{" 3/4 ", Shard{Index: 3, Count: 4}, ""},
		{"0/1", Shard{Index: 0, Count: 1}, ""},
		{"4/4", Shard{}, "shards count from 0, so the last of 4 is 3/4"},
		{"5/4", Shard{}, "INDEX must be from 0 to 3"},
		{"-1/4", Shard{}, "INDEX must be from 0 to 3"},
		{"1/0", Shard{}, "COUNT must be from 1"},
		{"1", Shard{}, "not INDEX/COUNT"},
		{"a/4", Shard{}, "whole numbers"},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseShard(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitcode.Of(err) != exitcode.BadInput || exitcode.Hint(err) == "" {
			t.Errorf("ParseShard(%q) error %v (code %d); want %q, exit 2 and a hint", tt.in, err, exitcode.Of(err), tt.wantErr)
		}
	}
}

func TestShardRunID(t *testing.T) {
	a := ShardRunID("h1", "eval-job-7")
	if a != ShardRunID("h1", "eval-job-7") {
		t.Error("not deterministic")
	}
	if !strings.HasPrefix(a, "sharded-eval-job-7-") {
		t.Errorf("id %q does not show the group", a)
	}
	for _, other := range []string{ShardRunID("h2", "eval-job-7"), ShardRunID("h1", "eval-job-8"), ShardRunID("h1", "")} {
		if other == a {
			t.Errorf("%q collides", other)
		}
	}
	if id := ShardRunID("h1", "a b/c\x00ü"); strings.ContainsAny(id, " /\x00ü") {
		t.Errorf("id %q keeps characters unsafe in a path or a shell", id)
	}
}

// The shards' items partition each task's items: every item on exactly one
// shard, its slice labels with it, and roughly n/k per shard.
func TestShardTasksPartition(t *testing.T) {
	const n, k = 1000, 4
	bt := &builtTask{Name: "qa"}
	for i := range n {
		id := fmt.Sprintf("q%04d", i)
		bt.Items = append(bt.Items, task.Item{ID: id})
		bt.Labels = append(bt.Labels, map[string]string{"id": id})
	}
	seen := map[string]int{}
	for s := range k {
		own := Shard{Index: s, Count: k}.tasks([]*builtTask{bt})[0]
		if len(own.Items) < n/k*8/10 || len(own.Items) > n/k*12/10 {
			t.Errorf("shard %d holds %d of %d items; want about %d", s, len(own.Items), n, n/k)
		}
		for i, it := range own.Items {
			seen[it.ID]++
			if own.Labels[i]["id"] != it.ID {
				t.Fatalf("shard %d item %s carries the labels of %s", s, it.ID, own.Labels[i]["id"])
			}
		}
	}
	if len(seen) != n {
		t.Errorf("%d items on some shard, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("item %s is on %d shards", id, c)
		}
	}
	if len(bt.Items) != n {
		t.Error("sharding changed the task itself")
	}
	if got := (Shard{}).tasks([]*builtTask{bt})[0]; got != bt {
		t.Error("an unsharded run does not run every item")
	}
}

// A pairwise judge needs both models' answers to an item: sharding by item
// id keeps them on one shard, so three shards running at once judge every
// pair exactly once and the run the last of them merges equals the
// unsharded run (results.json less run ids, times and latencies).
func TestShardedJudgedRunEqualsUnsharded(t *testing.T) {
	dsn := os.Getenv("TUNECHECK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TUNECHECK_TEST_POSTGRES is unset in CI: run the tests with ./scripts/test.sh")
		}
		t.Skip("sharding needs PostgreSQL: run ./scripts/test.sh, or set TUNECHECK_TEST_POSTGRES")
	}
	j := &loopbackJudge{shorter: true}
	srv := httptest.NewServer(j)
	defer srv.Close()
	planPath := judgePlan(t, srv.URL, "    judge: {with: [loop], mode: pairwise}\n")
	dir := filepath.Dir(planPath)
	if _, err := Run(context.Background(), Options{PlanPath: planPath, StoreDSN: filepath.Join(dir, "a.db"), OutputDir: filepath.Join(dir, "a")}); err != nil {
		t.Fatal(err)
	}
	unsharded := j.requests

	group := fmt.Sprintf("judged-%d", time.Now().UnixNano())
	outs := make([]*Outcome, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			outs[i], errs[i] = Run(context.Background(), Options{PlanPath: planPath, StoreDSN: dsn, OutputDir: filepath.Join(dir, "b"),
				Shard: Shard{Index: i, Count: 3, Group: group, FinishLast: true}})
		})
	}
	wg.Wait()
	merged := 0
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		if outs[i].Shard.Merged {
			merged++
		}
	}
	if merged != 1 {
		t.Fatalf("%d shards merged the run, want 1", merged)
	}
	if j.requests != 2*unsharded {
		t.Errorf("the shards asked the judge %d times, the unsharded run %d", j.requests-unsharded, unsharded)
	}
	a, b := strippedJSON(t, filepath.Join(dir, "a", "results.json")), strippedJSON(t, filepath.Join(dir, "b", "results.json"))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the merged run differs from the unsharded one")
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 3 {
		if outs[i].RunID != outs[0].RunID || !strings.HasPrefix(outs[i].RunID, "sharded-"+group+"-") {
			t.Errorf("shard %d joined run %s, shard 0 %s", i, outs[i].RunID, outs[0].RunID)
		}
	}
	if r, err := st.GetRun(context.Background(), outs[0].RunID); err != nil || r.Status != store.StatusFinished {
		t.Errorf("run %+v, %v: want finished", r.ID, err)
	}
}

// strippedJSON reads a results.json without what differs between two runs
// of one plan by nature: run ids, times, latencies.
func strippedJSON(t *testing.T, path string) any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any)
	strip = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, sub := range x {
				if k == "run_id" || strings.Contains(k, "latency") || strings.HasSuffix(k, "_at") || k == "tool_version" {
					delete(x, k)
					continue
				}
				strip(sub)
			}
		case []any:
			for _, sub := range x {
				strip(sub)
			}
		}
	}
	strip(v)
	return v
}
