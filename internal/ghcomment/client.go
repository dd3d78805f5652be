package ghcomment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is GitHub.com's REST API; GitHub Enterprise Server runners
// set GITHUB_API_URL to their own.
const DefaultAPIURL = "https://api.github.com"

// Comment is an issue comment as the REST API returns it (the fields used here).
type Comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	User    struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"user"`
}

// Client calls GitHub's REST API with a token. The token goes only into the
// Authorization header of requests to BaseURL's host; no error or result
// carries it.
type Client struct {
	BaseURL   string // GITHUB_API_URL; DefaultAPIURL when empty
	Token     string
	HTTP      *http.Client
	UserAgent string
}

// APIError is a response GitHub answered with a status other than the one
// the call expects.
type APIError struct {
	Method, Path string // the request (the path, without host or query)
	Status       int
	Message      string // GitHub's "message", or the start of the body
}

func (e *APIError) Error() string {
	return fmt.Sprintf("GitHub API %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// Forbidden reports whether err is GitHub's 403: the token may not write
// here, as a pull_request workflow's token from a fork may not.
func Forbidden(err error) bool {
	var a *APIError
	return errors.As(err, &a) && a.Status == http.StatusForbidden
}

// Outcome is what Upsert did.
type Outcome struct {
	Created bool // a new comment; else the existing one was updated
	Comment Comment
}

// Upsert makes the pull request's comment for key hold body: it updates the
// first comment that carries key's marker, or creates one when none does.
// Other comments, other bots' and other keys', are never touched.
func (c *Client) Upsert(ctx context.Context, repo string, number int, key, body string) (Outcome, error) {
	found, ok, err := c.FindComment(ctx, repo, number, key)
	if err != nil {
		return Outcome{}, err
	}
	if ok {
		upd, err := c.UpdateComment(ctx, repo, found.ID, body)
		return Outcome{Comment: upd}, err
	}
	made, err := c.CreateComment(ctx, repo, number, body)
	return Outcome{Created: true, Comment: made}, err
}

// FindComment pages through the pull request's comments, oldest first, 100
// a page, and returns the first that carries key's marker; it stops at the
// page that holds it.
func (c *Client) FindComment(ctx context.Context, repo string, number int, key string) (Comment, bool, error) {
	path, err := repoPath(repo)
	if err != nil {
		return Comment{}, false, err
	}
	next, err := c.url(fmt.Sprintf("%s/issues/%d/comments?per_page=100", path, number))
	if err != nil {
		return Comment{}, false, err
	}
	for pages := 0; next != ""; pages++ {
		if pages == 1000 {
			return Comment{}, false, fmt.Errorf("GitHub API: more than 1000 pages of comments on #%d; stopped following Link: rel=\"next\"", number)
		}
		var page []Comment
		resp, err := c.do(ctx, http.MethodGet, next, nil, http.StatusOK, &page)
		if err != nil {
			return Comment{}, false, err
		}
		if found, ok := Find(page, key); ok {
			return found, true, nil
		}
		next, err = c.nextPage(resp.Header.Get("Link"))
		if err != nil {
			return Comment{}, false, err
		}
	}
	return Comment{}, false, nil
}

// CreateComment posts a new comment on the pull request (an issue comment).
func (c *Client) CreateComment(ctx context.Context, repo string, number int, body string) (Comment, error) {
	path, err := repoPath(repo)
	if err != nil {
		return Comment{}, err
	}
	u, err := c.url(fmt.Sprintf("%s/issues/%d/comments", path, number))
	if err != nil {
		return Comment{}, err
	}
	var made Comment
	_, err = c.do(ctx, http.MethodPost, u, map[string]string{"body": body}, http.StatusCreated, &made)
	return made, err
}

// UpdateComment replaces a comment's body.
func (c *Client) UpdateComment(ctx context.Context, repo string, id int64, body string) (Comment, error) {
	path, err := repoPath(repo)
	if err != nil {
		return Comment{}, err
	}
	u, err := c.url(fmt.Sprintf("%s/issues/comments/%d", path, id))
	if err != nil {
		return Comment{}, err
	}
	var upd Comment
	_, err = c.do(ctx, http.MethodPatch, u, map[string]string{"body": body}, http.StatusOK, &upd)
	return upd, err
}

// repoPath is /repos/OWNER/NAME for "OWNER/NAME".
func repoPath(repo string) (string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("repository %q: want OWNER/NAME", repo)
	}
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

func (c *Client) base() (*url.URL, error) {
	raw := c.BaseURL
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q: want an http(s) URL such as %s", raw, DefaultAPIURL)
	}
	return u, nil
}

// url joins the API base URL (which may have a path, /api/v3 on GitHub
// Enterprise Server) and an API path with its query.
func (c *Client) url(pathQuery string) (string, error) {
	b, err := c.base()
	if err != nil {
		return "", err
	}
	return b.String() + pathQuery, nil
}

// nextPage is the rel="next" URL of a Link header, "" when there is none.
// It must be on the API's own scheme and host: the token is sent with it.
func (c *Client) nextPage(link string) (string, error) {
	next := ""
	for part := range strings.SplitSeq(link, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		target = strings.TrimSpace(target)
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "rel") && containsField(strings.Trim(strings.TrimSpace(v), `"`), "next") {
				next = target[1 : len(target)-1]
			}
		}
	}
	if next == "" {
		return "", nil
	}
	b, err := c.base()
	if err != nil {
		return "", err
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != b.Scheme || u.Host != b.Host {
		return "", fmt.Errorf("GitHub API: the Link header's next page %q is not on %s://%s; not following it with the token", next, b.Scheme, b.Host)
	}
	return next, nil
}

// containsField says whether the space-separated list s has f (rel="next last").
func containsField(s, f string) bool {
	for _, x := range strings.Fields(s) {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// do sends one request and decodes the JSON answer into out when the status
// is want.
func (c *Client) do(ctx context.Context, method, u string, in any, want int, out any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	path := req.URL.Path
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The *url.Error names the URL, which holds no token.
		return nil, fmt.Errorf("GitHub API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp, fmt.Errorf("GitHub API %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return resp, &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: apiMessage(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp, fmt.Errorf("GitHub API %s %s: HTTP %d with an answer that is not the documented JSON: %w", method, path, resp.StatusCode, err)
	}
	return resp, nil
}

// apiMessage is GitHub's error "message" (with its documentation_url), or
// the body's first 200 bytes when it is not GitHub's error JSON.
func apiMessage(data []byte) string {
	var e struct {
		Message string `json:"message"`
		Doc     string `json:"documentation_url"`
	}
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		if e.Doc != "" {
			return e.Message + " (" + e.Doc + ")"
		}
		return e.Message
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		s = "(empty answer)"
	}
	return s
}
