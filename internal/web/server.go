// Package web is tunecheck's local viewer: a net/http handler that serves the
// embedded page (assets/, owned by the front-end) and a JSON API over the
// store — runs, a run's report, its items side by side, labels, and the
// progress of a running run as server-sent events. It reads the store and
// writes only labels. The API is documented in docs/viewer.md.
//
// The server never builds HTML from data: every model output, prompt and
// label goes out as a JSON string, and the page renders it as text. Every
// answer carries a strict Content-Security-Policy; state-changing requests
// need the per-server CSRF token and a same-origin request; bodies are
// bounded; and without an access token only loopback Host names are served
// (DNS rebinding).
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/store"
)

//go:embed assets
var embedded embed.FS

// MaxBody bounds every request body (label posts and imports).
const MaxBody = 1 << 20

// CSP is the Content-Security-Policy of every answer.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"

// tokenCookie carries the access token after a page opened with ?token=.
const tokenCookie = "tunecheck_token"

// Options configure the viewer.
type Options struct {
	// User is the name labels are recorded under when a request names none.
	User string
	// Blind makes blind mode the default of the items pages.
	Blind bool
	// Run is the run named on the command line ("" for none), told to the page.
	Run string
	// Token, when set, must come with every request (see docs/viewer.md).
	Token string
	// PollInterval is how often /events looks at a running run (default 1s).
	PollInterval time.Duration
	// Assets replaces the embedded page (tests); it holds index.html and the
	// files served under /assets/.
	Assets fs.FS
	// CachedRuns is how many runs' item indexes stay in memory (default 4).
	CachedRuns int
	// MaskPII replaces personal data and secrets in every item text the API
	// returns (the store keeps the raw text).
	MaskPII bool
	// Warm builds the item index of Run in the background as the server
	// starts, so that the first items page of a large run does not wait for
	// it (about 5 s at 100,000 items; filters then answer in milliseconds).
	Warm bool
	// Logger receives server errors (default: discarded).
	Logger *slog.Logger
}

type server struct {
	st     *store.Store
	o      Options
	csrf   string
	assets fs.FS
	cache  *indexCache
	sums   summaries
	log    *slog.Logger
}

// New returns the viewer's handler over st.
func New(st *store.Store, o Options) http.Handler { return newServer(st, o).handler() }

func newServer(st *store.Store, o Options) *server {
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.CachedRuns <= 0 {
		o.CachedRuns = 4
	}
	if o.User == "" {
		o.User = "anonymous"
	}
	s := &server{st: st, o: o, csrf: randomHex(32), assets: o.Assets, log: o.Logger}
	if s.assets == nil {
		sub, err := fs.Sub(embedded, "assets")
		if err != nil {
			panic(err) // the embed directive guarantees the directory
		}
		s.assets = sub
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.cache = newIndexCache(o.CachedRuns, s.buildIndex)
	if o.Warm && o.Run != "" {
		go func() {
			if _, err := s.finishedIndex(context.Background(), o.Run); err != nil {
				s.log.Debug("warming the item index", "run", o.Run, "err", err)
			}
		}()
	}
	return s
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/session", s.session)
	mux.HandleFunc("GET /api/runs", s.runs)
	mux.HandleFunc("GET /api/runs/{id}", s.run)
	mux.HandleFunc("GET /api/runs/{id}/items", s.items)
	mux.HandleFunc("GET /api/runs/{id}/items/{task}/{item}", s.item)
	mux.HandleFunc("GET /api/compare", s.compare)
	mux.HandleFunc("GET /api/runs/{id}/labels", s.labels)
	mux.HandleFunc("POST /api/runs/{id}/labels", s.postLabel)
	mux.HandleFunc("DELETE /api/runs/{id}/labels/{label}", s.deleteLabel)
	mux.HandleFunc("GET /api/runs/{id}/labels/export", s.exportLabels)
	mux.HandleFunc("POST /api/runs/{id}/labels/import", s.importLabels)
	mux.HandleFunc("GET /api/runs/{id}/labels/agreement", s.agreement)
	mux.HandleFunc("GET /api/runs/{id}/events", s.events)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path+" (see docs/viewer.md)")
	})
	mux.HandleFunc("GET /assets/{file...}", s.asset)
	mux.HandleFunc("/", s.index)
	return s.guard(mux)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// guard sets the security headers, checks the access token or the Host,
// and checks every state-changing request for CSRF before the routes see it.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if s.o.Token != "" {
			if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet && equal(t, s.o.Token) {
				http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.o.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				u := *r.URL
				q := u.Query()
				q.Del("token")
				u.RawQuery = q.Encode()
				http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
				return
			}
			if !s.hasToken(r) {
				writeError(w, http.StatusForbidden, "this viewer needs its access token: open the URL `tunecheck view` printed (with ?token=…)")
				return
			}
		} else if !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "host "+r.Host+" is not served: open the viewer at 127.0.0.1 or localhost")
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if err := s.checkCSRF(r); err != nil {
				writeError(w, http.StatusForbidden, err.Error())
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		}
		next.ServeHTTP(w, r)
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *server) hasToken(r *http.Request) bool {
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(auth, s.o.Token) {
		return true
	}
	c, err := r.Cookie(tokenCookie)
	return err == nil && equal(c.Value, s.o.Token)
}

// loopbackHost reports whether a request's Host names this machine: a page
// on another name reaching 127.0.0.1 is DNS rebinding.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkCSRF accepts a state-changing request only from this server's own
// page: it carries the session's token, and neither Origin nor
// Sec-Fetch-Site says it came from elsewhere.
func (s *server) checkCSRF(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errors.New("cross-site request refused")
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errors.New("request from origin " + o + " refused: only this viewer's page may change labels")
		}
	}
	if !equal(r.Header.Get("X-CSRF-Token"), s.csrf) {
		return errors.New("missing or wrong X-CSRF-Token: reload the page (GET /api/session gives the token)")
	}
	return nil
}

func (s *server) session(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"csrf": s.csrf, "user": s.o.User, "blind_default": s.o.Blind, "run": s.o.Run})
}

// index serves the page for / and every page route (permalinks).
func (s *server) index(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": only GET")
		return
	}
	b, err := fs.ReadFile(s.assets, "index.html")
	if err != nil {
		writeError(w, http.StatusNotFound, "the viewer's page (internal/web/assets/index.html) is not in this build")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" || !fs.ValidPath(name) || strings.HasPrefix(path.Base(name), ".") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(s.assets, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := map[string]string{
		".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
		".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json", ".woff2": "font/woff2",
	}[path.Ext(name)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail answers err with the status its kind calls for.
func (s *server) fail(w http.ResponseWriter, err error) {
	var he *httpError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		writeError(w, he.status, he.msg)
	case errors.As(err, &mb):
		writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrAmbiguous):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		s.log.Error("viewer", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{http.StatusBadRequest, msg} }
func notFound(msg string) error   { return &httpError{http.StatusNotFound, msg} }
