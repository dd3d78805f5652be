package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// httpReplica is a minimal Provider over a real HTTP server: one GET per Do,
// classified with the same rules as the real providers (StatusError,
// TransportError), so the tests exercise real refused connections and real
// status codes without depending on any provider package.
type httpReplica struct {
	url    string
	client *http.Client
}

func (h httpReplica) Do(ctx context.Context, req Request) (Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/?item="+req.ItemID, nil)
	if err != nil {
		return Response{}, err
	}
	resp, err := h.client.Do(hr)
	if err != nil {
		return Response{}, TransportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, TransportError(err)
	}
	if resp.StatusCode != http.StatusOK {
		return Response{}, StatusError(resp.StatusCode, resp.Header, strings.TrimSpace(string(body)), time.Now())
	}
	return Response{Text: string(body)}, nil
}

// replicaServer counts the requests it answers; status, when set, is what it
// answers instead of 200.
type replicaServer struct {
	*httptest.Server
	hits   atomic.Int64
	status atomic.Int64
	header http.Header
}

func newReplicaServer(t *testing.T, delay time.Duration) *replicaServer {
	s := &replicaServer{header: http.Header{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if delay > 0 {
			time.Sleep(delay)
		}
		if st := s.status.Load(); st != 0 {
			for k, v := range s.header {
				w.Header()[k] = v
			}
			http.Error(w, "replica unavailable", int(st))
			return
		}
		io.WriteString(w, "answer "+r.URL.Query().Get("item"))
	}))
	t.Cleanup(s.Close)
	return s
}

func newTestReplicas(t *testing.T, o ReplicaOptions, servers ...*replicaServer) *Replicas {
	t.Helper()
	var reps []Replica
	for _, s := range servers {
		reps = append(reps, Replica{URL: s.URL, Provider: httpReplica{url: s.URL, client: s.Client()}})
	}
	r, err := NewReplicas(reps, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sendAll sends n requests with c in flight and returns the errors.
func sendAll(r *Replicas, n, c int) []error {
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, c)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := r.Do(context.Background(), Request{Type: Generate, ItemID: string(rune('a' + i%26))})
			if err == nil && !strings.HasPrefix(resp.Text, "answer ") {
				err = errors.New("wrong answer " + resp.Text)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

func TestReplicasSpreadEvenly(t *testing.T) {
	a, b, c := newReplicaServer(t, time.Millisecond), newReplicaServer(t, time.Millisecond), newReplicaServer(t, time.Millisecond)
	r := newTestReplicas(t, ReplicaOptions{}, a, b, c)
	if errs := sendAll(r, 600, 12); len(errs) > 0 {
		t.Fatalf("%d errors, first %v", len(errs), errs[0])
	}
	for i, s := range []*replicaServer{a, b, c} {
		// Least-in-flight with round-robin ties: each gets about a third.
		if n := s.hits.Load(); n < 150 || n > 250 {
			t.Errorf("replica %d answered %d of 600 requests; want about 200", i, n)
		}
	}
	total := 0
	for _, s := range r.Stats() {
		total += s.Requests
		if s.Errors != 0 || s.Down {
			t.Errorf("stats %+v: want no errors", s)
		}
	}
	if total != 600 {
		t.Errorf("stats count %d requests, want 600", total)
	}
}

// A replica that answers 503, or whose server is gone (connection refused),
// loses its share to the others, and every request still succeeds.
func TestReplicasFailOver(t *testing.T) {
	for _, mode := range []string{"503", "closed"} {
		t.Run(mode, func(t *testing.T) {
			a, b, bad := newReplicaServer(t, 0), newReplicaServer(t, 0), newReplicaServer(t, 0)
			r := newTestReplicas(t, ReplicaOptions{BaseBackoff: time.Hour}, a, b, bad)
			if mode == "503" {
				bad.status.Store(http.StatusServiceUnavailable)
			} else {
				bad.Close()
			}
			if errs := sendAll(r, 300, 6); len(errs) > 0 {
				t.Fatalf("%d requests failed, first: %v", len(errs), errs[0])
			}
			if n := a.hits.Load() + b.hits.Load(); n != 300 {
				t.Errorf("the healthy replicas answered %d requests, want all 300", n)
			}
			st := r.Stats()
			// Marked down on its first failure, it sits out the (hour-long)
			// back-off: only the requests already on their way to it failed.
			if st[2].Requests > 6 || st[2].Errors != st[2].Requests || !st[2].Down {
				t.Errorf("bad replica stats %+v: want at most the 6 in flight sent to it, all failed, and down", st[2])
			}
			if mode == "503" && bad.hits.Load() > 6 {
				t.Errorf("the 503 replica was sent %d requests, want at most 6", bad.hits.Load())
			}
		})
	}
}

// Every replica down: the endpoint error the runner retries and, in the end,
// reports as a broken endpoint (never a wrong answer), with the server's status.
func TestReplicasAllDown(t *testing.T) {
	a, b := newReplicaServer(t, 0), newReplicaServer(t, 0)
	a.status.Store(http.StatusBadGateway)
	b.status.Store(http.StatusBadGateway)
	r := newTestReplicas(t, ReplicaOptions{BaseBackoff: 5 * time.Second}, a, b)
	_, err := r.Do(context.Background(), Request{Type: Generate, ItemID: "x"})
	var pe *Error
	if !errors.As(err, &pe) || !pe.Retryable || pe.Status != http.StatusBadGateway {
		t.Fatalf("err = %#v; want a retryable *Error with status 502", err)
	}
	if !strings.Contains(err.Error(), "HTTP 502") || !strings.Contains(err.Error(), "all 2 replicas are down") || !strings.Contains(err.Error(), "replica unavailable") {
		t.Errorf("error %q: want the status, the replica count and the server's message", err)
	}
	if a.hits.Load() != 1 || b.hits.Load() != 1 {
		t.Errorf("hits %d, %d: want one attempt per replica", a.hits.Load(), b.hits.Load())
	}
	// While both sit out their back-off nothing is sent, and the error says
	// how long to wait.
	_, err = r.Do(context.Background(), Request{Type: Generate, ItemID: "y"})
	if RetryAfter(err) <= 0 || RetryAfter(err) > 5*time.Second || !IsRetryable(err) {
		t.Errorf("second Do: err %v retry-after %v; want retryable within the 5s back-off", err, RetryAfter(err))
	}
	if a.hits.Load() != 1 || b.hits.Load() != 1 {
		t.Errorf("a replica in back-off was sent a request")
	}
}

// A 429 with Retry-After keeps the replica out for as long as the server
// asked (longer than the back-off); then the next request probes it, one at a
// time, and success puts it back in rotation.
func TestReplicasHonourRetryAfter(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	a, b := newReplicaServer(t, 0), newReplicaServer(t, 0)
	a.status.Store(http.StatusTooManyRequests)
	a.header.Set("Retry-After", "30")
	r := newTestReplicas(t, ReplicaOptions{BaseBackoff: time.Second, Now: clock}, a, b)

	if errs := sendAll(r, 10, 1); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	if a.hits.Load() != 1 || b.hits.Load() != 10 {
		t.Fatalf("hits a=%d b=%d; want a tried once (429) and b answering all 10", a.hits.Load(), b.hits.Load())
	}
	a.status.Store(0)
	advance(29 * time.Second) // past the 1s back-off, short of Retry-After
	sendAll(r, 10, 1)
	if a.hits.Load() != 1 {
		t.Fatalf("replica a was sent a request %d before its Retry-After of 30s ended", a.hits.Load()-1)
	}
	advance(2 * time.Second)
	sendAll(r, 10, 1)
	if got := a.hits.Load(); got < 5 {
		t.Fatalf("after Retry-After replica a answered %d of 10; want it back in rotation (about half)", got-1)
	}
	if st := r.Stats(); st[0].Down || st[0].MarkedDown != 1 {
		t.Errorf("stats %+v: want a up again, marked down once", st[0])
	}
}

// The cache namespace of a replicated model does not depend on which replica
// answers, on the order replicas are listed or on how their URLs are spelled.
func TestReplicaCacheNamespace(t *testing.T) {
	c := Config{Kind: KindOpenAI, Model: "m"}
	x := ReplicaCacheNamespace(c, []string{"http://a:8000/v1", "http://B:8000/v1/"})
	y := ReplicaCacheNamespace(c, []string{"http://b:8000/v1", "http://a:8000/v1"})
	if x != y {
		t.Errorf("namespaces differ: %q vs %q", x, y)
	}
	if want := "openai|replicas(http://a:8000/v1,http://b:8000/v1)|m|chat"; x != want {
		t.Errorf("namespace %q, want %q", x, want)
	}
	single := CacheNamespace(Config{Kind: KindOpenAI, Model: "m", BaseURL: "http://a:8000/v1"})
	if x == single {
		t.Error("a replica set shares the namespace of its first replica alone")
	}
}

func TestReplicasNeedsOne(t *testing.T) {
	if _, err := NewReplicas(nil, ReplicaOptions{}); err == nil {
		t.Error("no replicas accepted")
	}
}

type instant struct{}

func (instant) Do(context.Context, Request) (Response, error) { return Response{Text: "ok"}, nil }

// BenchmarkReplicasDo measures what choosing a replica adds to a request
// (four replicas, requests from every core at once).
func BenchmarkReplicasDo(b *testing.B) {
	reps := make([]Replica, 4)
	for i := range reps {
		reps[i] = Replica{URL: string(rune('a' + i)), Provider: instant{}}
	}
	r, err := NewReplicas(reps, ReplicaOptions{})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Type: Generate, ItemID: "x"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Do(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
