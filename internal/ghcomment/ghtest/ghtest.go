// Package ghtest is an in-memory GitHub REST API for tests: the issue
// comments endpoints (list, create, update) as GitHub documents them for API
// version 2022-11-28 — status codes 200 and 201, the comment object's shape,
// per_page (default 30, at most 100) with Link-header pagination whose URLs,
// like GitHub's, name the repository by id (/repositories/ID/issues/N/comments),
// 401 for a wrong token and 403 "Resource not accessible by integration" for
// a read-only one (a pull request from a fork).
package ghtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the server received.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// Server is a GitHub API holding one repository's issue comments.
type Server struct {
	*httptest.Server
	Owner, Repo string
	RepoID      int64
	Token       string // the token a request must carry as "Bearer TOKEN"
	Login       string // who the token's comments are by

	mu       sync.Mutex
	readOnly bool               // writes answer 403, as a fork's pull_request token
	fail     int                // when non-zero, every request answers this status
	comments map[int][]*comment // by issue number, oldest first
	nextID   int64
	requests []Request
}

type user struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	AvatarURL string `json:"avatar_url"`
	HTMLURL   string `json:"html_url"`
	Type      string `json:"type"`
	SiteAdmin bool   `json:"site_admin"`
}

type comment struct {
	ID                    int64     `json:"id"`
	NodeID                string    `json:"node_id"`
	URL                   string    `json:"url"`
	HTMLURL               string    `json:"html_url"`
	Body                  string    `json:"body"`
	User                  user      `json:"user"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
	IssueURL              string    `json:"issue_url"`
	AuthorAssociation     string    `json:"author_association"`
	PerformedViaGitHubApp any       `json:"performed_via_github_app"`
	issue                 int
}

// New starts a server for owner/repo whose token is token; it is closed when
// the test ends.
func New(t testing.TB, owner, repo, token string) *Server {
	s := &Server{Owner: owner, Repo: repo, RepoID: 1296269, Token: token, Login: "github-actions[bot]",
		comments: map[int][]*comment{}, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// SetReadOnly makes writes answer 403 "Resource not accessible by
// integration", as they do for a pull_request workflow's token from a fork.
func (s *Server) SetReadOnly(ro bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readOnly = ro
}

// SetFail makes every request answer status (0: answer normally).
func (s *Server) SetFail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = status
}

// Seed adds a comment by login to issue number, as if posted before.
func (s *Server) Seed(number int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(number, login, body).ID
}

// Stored is a comment as the server holds it.
type Stored struct {
	ID          int64
	Login, Body string
}

// Comments returns issue number's comments, oldest first.
func (s *Server) Comments(number int) []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Stored
	for _, c := range s.comments[number] {
		out = append(out, Stored{c.ID, c.User.Login, c.Body})
	}
	return out
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) add(number int, login, body string) *comment {
	s.nextID++
	id := s.nextID
	kind := "User"
	if strings.HasSuffix(login, "[bot]") {
		kind = "Bot"
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Minute)
	c := &comment{
		ID: id, NodeID: fmt.Sprintf("IC_kwDO%d", id),
		URL:     fmt.Sprintf("%s/repos/%s/%s/issues/comments/%d", s.URL, s.Owner, s.Repo, id),
		HTMLURL: fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", s.Owner, s.Repo, number, id),
		Body:    body, CreatedAt: now, UpdatedAt: now,
		User:              user{Login: login, ID: int64(len(login)) * 1000, NodeID: "U_" + login, Type: kind, HTMLURL: "https://github.com/" + login},
		IssueURL:          fmt.Sprintf("%s/repos/%s/%s/issues/%d", s.URL, s.Owner, s.Repo, number),
		AuthorAssociation: "NONE", issue: number,
	}
	s.comments[number] = append(s.comments[number], c)
	return c
}

func (s *Server) answerError(w http.ResponseWriter, status int, msg, doc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	body := string(raw)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	if s.fail != 0 {
		s.answerError(w, s.fail, http.StatusText(s.fail), "https://docs.github.com/rest")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		s.answerError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return
	}
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	repoPrefix := len(parts) >= 3 && parts[0] == "repos" && parts[1] == s.Owner && parts[2] == s.Repo
	byID := len(parts) >= 2 && parts[0] == "repositories" && parts[1] == strconv.FormatInt(s.RepoID, 10)
	var rest []string
	switch {
	case repoPrefix:
		rest = parts[3:]
	case byID:
		rest = parts[2:]
	default:
		s.answerError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		return
	}
	switch {
	case len(rest) == 3 && rest[0] == "issues" && rest[2] == "comments":
		number, err := strconv.Atoi(rest[1])
		if err != nil {
			s.answerError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, number)
		case http.MethodPost:
			s.create(w, number, body)
		default:
			s.answerError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
		}
	case len(rest) == 3 && rest[0] == "issues" && rest[1] == "comments" && r.Method == http.MethodPatch:
		id, _ := strconv.ParseInt(rest[2], 10, 64)
		s.update(w, id, body)
	default:
		s.answerError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, number int) {
	q := r.URL.Query()
	per := 30
	if v := q.Get("per_page"); v != "" {
		per, _ = strconv.Atoi(v)
		if per <= 0 {
			per = 30
		}
		if per > 100 {
			per = 100
		}
	}
	page := 1
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
		if page <= 0 {
			page = 1
		}
	}
	all := s.comments[number]
	last := (len(all) + per - 1) / per
	if last == 0 {
		last = 1
	}
	from, to := (page-1)*per, page*per
	from, to = min(from, len(all)), min(to, len(all))
	link := func(p int) string {
		return fmt.Sprintf("<%s/repositories/%d/issues/%d/comments?per_page=%d&page=%d>", s.URL, s.RepoID, number, per, p)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1)+`; rel="prev"`)
	}
	if page < last {
		links = append(links, link(page+1)+`; rel="next"`, link(last)+`; rel="last"`)
	}
	if page > 1 {
		links = append(links, link(1)+`; rel="first"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	out := all[from:to]
	if out == nil {
		out = []*comment{}
	}
	json.NewEncoder(w).Encode(out)
}

func (s *Server) readBody(w http.ResponseWriter, raw string) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		s.answerError(w, http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/rest")
		return "", false
	}
	if in.Body == nil {
		s.answerError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest")
		return "", false
	}
	// GitHub counts a body's characters; 65,536 is the most it takes.
	if n := utf16Len(*in.Body); n > 65536 {
		s.answerError(w, http.StatusUnprocessableEntity, "Validation Failed: body is too long (maximum is 65536 characters)", "https://docs.github.com/rest")
		return "", false
	}
	return *in.Body, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

func (s *Server) create(w http.ResponseWriter, number int, raw string) {
	if s.readOnly {
		s.answerError(w, http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
		return
	}
	body, ok := s.readBody(w, raw)
	if !ok {
		return
	}
	c := s.add(number, s.Login, body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Location", c.URL)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(c)
}

func (s *Server) update(w http.ResponseWriter, id int64, raw string) {
	if s.readOnly {
		s.answerError(w, http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
		return
	}
	for _, cs := range s.comments {
		for _, c := range cs {
			if c.ID != id {
				continue
			}
			if c.User.Login != s.Login {
				// A token may edit only its own comments (short of admin rights).
				s.answerError(w, http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
				return
			}
			body, ok := s.readBody(w, raw)
			if !ok {
				return
			}
			c.Body = body
			c.UpdatedAt = c.UpdatedAt.Add(time.Hour)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			json.NewEncoder(w).Encode(c)
			return
		}
	}
	s.answerError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
}
