package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A model served by three replicas, one of which refuses connections and one
// answers 503: the healthy one takes their share and the run completes with
// every item answered once; with every replica down the run is a broken
// endpoint (exit 3), not a regressed model.
func TestReplicasRun(t *testing.T) {
	srv := newShardServer()
	good := httptest.NewServer(srv)
	defer good.Close()
	var unavailable atomic.Int64
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unavailable.Add(1)
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // its port now refuses connections

	dir := t.TempDir()
	shardPlan(t, dir, good.URL)
	plan, err := os.ReadFile(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	replicated := strings.ReplaceAll(string(plan), "base_url: "+good.URL+"/v1",
		fmt.Sprintf("base_urls: [\"%s/v1\", \"%s/v1\", \"%s/v1\"]", gone.URL, busy.URL, good.URL))
	writeFile(t, filepath.Join(dir, "replicas.yaml"), replicated)

	out, err := tc(dir, "run", "replicas.yaml", "--store", filepath.Join(dir, "r.db"), "-o", "out").CombinedOutput()
	if c := exitOf(err); c != 0 && c != 1 {
		t.Fatalf("exit %d with one healthy replica of three:\n%s", c, out)
	}
	if srv.total != 2*260 {
		t.Errorf("the healthy replica answered %d requests, want all %d", srv.total, 2*260)
	}
	for k, n := range srv.answered {
		if n != 1 {
			t.Errorf("%q answered %d times", k, n)
		}
	}
	// Marked down on its first 503 (per model), it sits out its back-off.
	if n := unavailable.Load(); n > 2*8 {
		t.Errorf("the 503 replica was sent %d requests; want no more than were in flight when it failed", n)
	}
	if !strings.Contains(string(out), "replicas") || !strings.Contains(string(out), busy.URL) {
		t.Errorf("the run log has no per-replica counts:\n%s", out)
	}

	// Every replica down.
	dead := strings.ReplaceAll(string(plan), "base_url: "+good.URL+"/v1", fmt.Sprintf("base_urls: [\"%s/v1\", \"%s/v1\"]", gone.URL, busy.URL))
	dead = strings.ReplaceAll(dead, "max_retries: 0", "max_retries: 1")
	writeFile(t, filepath.Join(dir, "dead.yaml"), dead)
	out, err = tc(dir, "run", "dead.yaml", "--store", filepath.Join(dir, "d.db"), "-o", "out-dead", "--limit", "3").CombinedOutput()
	if c := exitOf(err); c != 3 || !strings.Contains(string(out), "replicas are down") {
		t.Errorf("every replica down: exit %d, want 3 naming the replicas:\n%s", c, out)
	}
}
