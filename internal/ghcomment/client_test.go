package ghcomment

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/ghcomment/ghtest"
)

const token = "ghs_TESTtoken0123456789abcdefABCDEF"

func client(s *ghtest.Server) *Client {
	return &Client{BaseURL: s.URL, Token: token, HTTP: s.Client(), UserAgent: "tunecheck-test"}
}

// First call creates, second updates the same comment; others' comments,
// another plan's comment and more than 100 comments before ours (two pages)
// change nothing.
func TestUpsertCreatesThenUpdates(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", token)
	for i := range 130 {
		s.Seed(42, "mira", fmt.Sprintf("comment %d", i))
	}
	otherBot := s.Seed(42, "codecov[bot]", "<!-- codecov -->\ncoverage 81%")
	otherPlan := s.Seed(42, "github-actions[bot]", Marker("evals/safety.yaml")+"\n\nsafety report")
	s.Seed(42, "mira", "> "+Marker("evals/tickets.yaml")+"\n> quoting the bot")
	ctx := context.Background()
	c := client(s)

	out, err := c.Upsert(ctx, "acme/support-bot", 42, "evals/tickets.yaml", Marker("evals/tickets.yaml")+"\n\nfirst")
	if err != nil || !out.Created {
		t.Fatalf("first upsert: %+v, %v", out, err)
	}
	firstID := out.Comment.ID
	if out.Comment.HTMLURL == "" || out.Comment.User.Login != "github-actions[bot]" {
		t.Fatalf("created comment not decoded: %+v", out.Comment)
	}
	for i := range 120 { // more comments after ours: it stays on page 2 of 3
		s.Seed(42, "mira", fmt.Sprintf("later %d", i))
	}
	out, err = c.Upsert(ctx, "acme/support-bot", 42, "evals/tickets.yaml", Marker("evals/tickets.yaml")+"\n\nsecond")
	if err != nil || out.Created || out.Comment.ID != firstID || !strings.HasSuffix(out.Comment.Body, "second") {
		t.Fatalf("second upsert: %+v, %v; want comment %d updated", out, err, firstID)
	}
	var ours int
	for _, cm := range s.Comments(42) {
		switch {
		case IsOurs(cm.Body, "evals/tickets.yaml"):
			ours++
		case cm.ID == otherBot && cm.Body != "<!-- codecov -->\ncoverage 81%":
			t.Errorf("the other bot's comment changed: %q", cm.Body)
		case cm.ID == otherPlan && cm.Body != Marker("evals/safety.yaml")+"\n\nsafety report":
			t.Errorf("the other plan's comment changed: %q", cm.Body)
		}
	}
	if ours != 1 {
		t.Fatalf("%d comments carry the marker, want 1", ours)
	}
	// The requests: pages of 100 followed through Link, GitHub's headers.
	var lists []string
	for _, r := range s.Requests() {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("Accept") != "application/vnd.github+json" ||
			r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
			t.Errorf("%s %s: headers %v", r.Method, r.Path, r.Header)
		}
		if r.Method == http.MethodGet {
			lists = append(lists, r.Path+"?"+r.RawQuery)
		}
	}
	want := []string{
		"/repos/acme/support-bot/issues/42/comments?per_page=100",
		"/repositories/1296269/issues/42/comments?per_page=100&page=2",
		"/repos/acme/support-bot/issues/42/comments?per_page=100",
		"/repositories/1296269/issues/42/comments?per_page=100&page=2",
	}
	if fmt.Sprint(lists) != fmt.Sprint(want) {
		t.Fatalf("list requests:\n%v\nwant:\n%v", lists, want)
	}
}

func TestUpsertReadOnlyToken(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", token)
	s.SetReadOnly(true)
	_, err := client(s).Upsert(context.Background(), "acme/support-bot", 7, "k", Marker("k")+"\n\nx")
	if !Forbidden(err) {
		t.Fatalf("want a 403, got %v", err)
	}
	if !strings.Contains(err.Error(), "Resource not accessible by integration") || strings.Contains(err.Error(), token) {
		t.Fatalf("error: %v", err)
	}
	if len(s.Comments(7)) != 0 {
		t.Fatal("a read-only token posted a comment")
	}
}

func TestClientErrors(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", token)
	ctx := context.Background()
	bad := &Client{BaseURL: s.URL, Token: "ghs_wrong", HTTP: s.Client()}
	_, err := bad.Upsert(ctx, "acme/support-bot", 1, "k", "x")
	if err == nil || Forbidden(err) || !strings.Contains(err.Error(), "HTTP 401: Bad credentials") || strings.Contains(err.Error(), "ghs_wrong") {
		t.Fatalf("bad token: %v", err)
	}
	s.SetFail(http.StatusBadGateway)
	if _, err := client(s).Upsert(ctx, "acme/support-bot", 1, "k", "x"); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("502: %v", err)
	}
	s.SetFail(0)
	for _, repo := range []string{"acme", "/x", "a/b/c", ""} {
		if _, err := client(s).Upsert(ctx, repo, 1, "k", "x"); err == nil || !strings.Contains(err.Error(), "want OWNER/NAME") {
			t.Errorf("repo %q: %v", repo, err)
		}
	}
	if _, err := (&Client{BaseURL: "ftp://x", Token: token}).Upsert(ctx, "a/b", 1, "k", "x"); err == nil {
		t.Error("an ftp API URL was accepted")
	}
}

func TestNextPage(t *testing.T) {
	c := &Client{BaseURL: "https://api.github.com"}
	for _, tc := range []struct{ link, want, err string }{
		{"", "", ""},
		{`<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last"`,
			"https://api.github.com/repositories/1/issues/2/comments?page=2", ""},
		{`<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first"`, "", ""},
		{`<https://api.github.com/x?page=3>; rel="next last"`, "https://api.github.com/x?page=3", ""},
		{`<https://evil.example/x?page=2>; rel="next"`, "", "not following it"},
		{`<http://api.github.com/x?page=2>; rel="next"`, "", "not following it"},
	} {
		got, err := c.nextPage(tc.link)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v", tc.link, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.link, got, err, tc.want)
		}
	}
}

// GitHub Enterprise Server's API lives under /api/v3.
func TestEnterpriseBaseURL(t *testing.T) {
	c := &Client{BaseURL: "https://ghe.example.com/api/v3/"}
	u, err := c.url("/repos/a/b/issues/1/comments?per_page=100")
	if err != nil || u != "https://ghe.example.com/api/v3/repos/a/b/issues/1/comments?per_page=100" {
		t.Fatalf("%q %v", u, err)
	}
}
