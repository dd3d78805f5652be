package livetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// Sent is one request the proxy passed on: its path, the prompt it asked
// (a completion's prompt, or a chat's last message), whether it asked for
// an echo of the prompt (a loglikelihood or echo-check request), and its body.
type Sent struct {
	Path   string
	Prompt string
	Echo   bool
	// Body is the request body as sent.
	Body string
}

// Proxy is a reverse proxy (net/http/httputil) in front of a server that
// records every request and counts, per prompt, the answers with status 200
// it relayed in full. After HoldAfter such answers it holds new requests
// until Release or until their client goes away, so that a client can be
// killed with nothing in flight that the server answered.
type Proxy struct {
	srv *httptest.Server
	// URL is the proxy's root.
	URL string

	mu        sync.Mutex
	sent      []Sent
	answered  map[string]int
	statuses  map[int]int
	bodies    map[int]string
	total     int
	holdAfter int
	held      int
	release   chan struct{}
}

// NewProxy starts a proxy to target (a server root such as Server.URL),
// closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{answered: map[string]int{}, statuses: map[int]int{}, bodies: map[int]string{}, release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	// A server that is down or killed mid-answer is a 502, as from a real proxy.
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, "livetest proxy: "+err.Error(), http.StatusBadGateway)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s := Sent{Path: r.URL.Path, Body: string(body)}
		s.Prompt, s.Echo = promptOf(body)
		if !p.wait(r) {
			return
		}
		p.mu.Lock()
		p.sent = append(p.sent, s)
		p.mu.Unlock()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(rec, r)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.statuses[rec.status]++
		if rec.status != http.StatusOK && p.bodies[rec.status] == "" {
			p.bodies[rec.status] = rec.body.String()
		}
		if rec.status == http.StatusOK && r.Context().Err() == nil {
			p.answered[s.Prompt]++
			p.total++
		}
	}))
	t.Cleanup(func() {
		p.Release()
		p.srv.Close()
	})
	p.URL = p.srv.URL
	return p
}

// wait holds r while the hold is on; false when the client went away.
func (p *Proxy) wait(r *http.Request) bool {
	p.mu.Lock()
	hold := p.holdAfter > 0 && p.total >= p.holdAfter
	release := p.release
	if hold {
		p.held++
	}
	p.mu.Unlock()
	if !hold {
		return true
	}
	defer func() {
		p.mu.Lock()
		p.held--
		p.mu.Unlock()
	}()
	select {
	case <-r.Context().Done():
		return false
	case <-release:
		return true
	}
}

// promptOf reads a completion's prompt or a chat's last message from a request body.
func promptOf(body []byte) (string, bool) {
	var req struct {
		Prompt   json.RawMessage `json:"prompt"`
		Echo     bool            `json:"echo"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "", false
	}
	if len(req.Messages) > 0 {
		return req.Messages[len(req.Messages)-1].Content, req.Echo
	}
	var s string
	if json.Unmarshal(req.Prompt, &s) == nil {
		return s, req.Echo
	}
	return string(req.Prompt), req.Echo
}

// statusWriter records the status and, for errors, the start of the body.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status != http.StatusOK && w.body.Len() < 512 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// BaseURL is the proxy's OpenAI-compatible root, URL + "/v1".
func (p *Proxy) BaseURL() string { return p.URL + "/v1" }

// Sent returns every request passed on so far, in arrival order.
func (p *Proxy) Sent() []Sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sent(nil), p.sent...)
}

// Answered is how many 200 answers to prompt were relayed.
func (p *Proxy) Answered(prompt string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answered[prompt]
}

// Total is how many 200 answers were relayed.
func (p *Proxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Statuses counts the answers relayed by HTTP status (502: the server
// could not be reached or dropped the connection).
func (p *Proxy) Statuses() map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]int, len(p.statuses))
	for k, v := range p.statuses {
		out[k] = v
	}
	return out
}

// ErrorBody is the start of the first answer relayed with status code.
func (p *Proxy) ErrorBody(code int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bodies[code]
}

// Held is how many requests the hold keeps waiting now.
func (p *Proxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// HoldAfter holds every request that arrives once n answers in all have been
// relayed (0: hold nothing). It replaces an earlier hold, releasing what that held.
func (p *Proxy) HoldAfter(n int) {
	p.Release()
	p.mu.Lock()
	p.holdAfter = n
	p.mu.Unlock()
}

// Release lets held requests through and ends the hold.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdAfter = 0
	close(p.release)
	p.release = make(chan struct{})
}
