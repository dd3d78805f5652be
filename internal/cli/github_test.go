package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/ghcomment"
	"github.com/tunecheck/tunecheck/internal/ghcomment/ghtest"
	"github.com/tunecheck/tunecheck/internal/report"
)

const ghToken = "ghs_S3cretTokenValue0123456789abcdefXYZ"

// ghEnv is the environment of a GitHub Actions job for the recorded
// pull_request event (testdata: number 42, acme/support-bot).
func ghEnv(s *ghtest.Server, event, payload string) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_TOKEN":      ghToken,
		"GITHUB_EVENT_NAME": event,
		"GITHUB_EVENT_PATH": filepath.Join("..", "ghcomment", "testdata", payload),
		"GITHUB_REPOSITORY": "acme/support-bot",
		"GITHUB_API_URL":    s.URL,
		"GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID":     "9876543210",
	}
}

func runGitHubCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"github", "comment"}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return vars[k] },
	})
	// Whatever happened, the token is never printed.
	if strings.Contains(out.String(), ghToken) || strings.Contains(errOut.String(), ghToken) {
		t.Fatalf("the token was printed:\nstdout: %s\nstderr: %s", out.String(), errOut.String())
	}
	return code, out.String(), errOut.String()
}

func writeReport(t *testing.T, md string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "report.md")
	if err := os.WriteFile(p, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGitHubCommentCreatesThenUpdates(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", ghToken)
	for range 150 {
		s.Seed(42, "mira", "review note")
	}
	s.Seed(42, "codecov[bot]", "<!-- codecov -->\ncoverage 81%")
	s.Seed(42, "github-actions[bot]", "<!-- tunecheck:evals/safety.yaml -->\n\nthe other plan's report")
	vars := ghEnv(s, "pull_request", "pull_request.json")

	rep := writeReport(t, "# tickets\n\n**Verdict: PASS**\n")
	code, out, errOut := runGitHubCLI(t, vars, "--report", rep, "--key", "evals/tickets.yaml", "--artifact-name", "tunecheck-report")
	if code != 0 || !strings.Contains(out, "created the comment on acme/support-bot#42: https://github.com/acme/support-bot/pull/42#issuecomment-") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	rep2 := writeReport(t, "# tickets\n\n**Verdict: FAIL**\n")
	code, out, errOut = runGitHubCLI(t, vars, "--report", rep2, "--key", "evals/tickets.yaml", "--artifact-name", "tunecheck-report")
	if code != 0 || !strings.Contains(out, "updated the comment on acme/support-bot#42") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}

	var ours []ghtest.Stored
	for _, c := range s.Comments(42) {
		if ghcomment.IsOurs(c.Body, "evals/tickets.yaml") {
			ours = append(ours, c)
		}
		if c.Login == "codecov[bot]" && c.Body != "<!-- codecov -->\ncoverage 81%" {
			t.Errorf("the other bot's comment changed: %q", c.Body)
		}
		if strings.Contains(c.Body, "evals/safety.yaml") && c.Body != "<!-- tunecheck:evals/safety.yaml -->\n\nthe other plan's report" {
			t.Errorf("the other plan's comment changed: %q", c.Body)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("%d tunecheck comments for the plan, want exactly 1", len(ours))
	}
	want := "<!-- tunecheck:evals/tickets.yaml -->\n\n# tickets\n\n**Verdict: FAIL**\n\n---\n" +
		"<sub>tunecheck · [workflow run](https://github.com/acme/support-bot/actions/runs/9876543210) · reports in artifact `tunecheck-report` · commit 9c3b1d7e2f4a · this comment is updated on every push</sub>\n"
	if ours[0].Body != want {
		t.Fatalf("comment:\n%q\nwant:\n%q", ours[0].Body, want)
	}
	if got := len(s.Comments(42)); got != 153 {
		t.Fatalf("%d comments, want the 152 seeded and ours", got)
	}
}

func TestGitHubCommentTruncates(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", ghToken)
	var b strings.Builder
	for report.Length(b.String()) < 80000 {
		b.WriteString("| 微调 | 🚀 the candidate's answer, longer than the base's |\n")
	}
	code, _, errOut := runGitHubCLI(t, ghEnv(s, "pull_request", "pull_request.json"), "--report", writeReport(t, b.String()))
	if code != 0 || !strings.Contains(errOut, "longer than a GitHub comment holds") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cs := s.Comments(42)
	if len(cs) != 1 || report.Length(cs[0].Body) > ghcomment.Limit || !strings.Contains(cs[0].Body, "> [!WARNING]") ||
		!strings.Contains(cs[0].Body, "https://github.com/acme/support-bot/actions/runs/9876543210") {
		t.Fatalf("stored %d comments; first is %d characters", len(cs), report.Length(cs[0].Body))
	}
}

// A fork's pull request gets a read-only token: a warning, exit 0.
func TestGitHubCommentForbiddenWarns(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", ghToken)
	s.SetReadOnly(true)
	code, out, errOut := runGitHubCLI(t, ghEnv(s, "pull_request_target", "pull_request_target_fork.json"), "--report", writeReport(t, "# r\n"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "warning: could not comment on acme/support-bot#7") || !strings.Contains(errOut, "HTTP 403: Resource not accessible by integration") {
		t.Fatalf("stderr: %s", errOut)
	}
	if !strings.HasPrefix(out, "::warning title=tunecheck comment::could not comment on acme/support-bot#7") {
		t.Fatalf("stdout lacks the workflow warning: %s", out)
	}
	if len(s.Comments(7)) != 0 {
		t.Fatal("a comment was stored")
	}
}

func TestGitHubCommentPushIsNoOp(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", ghToken)
	code, out, errOut := runGitHubCLI(t, ghEnv(s, "push", "push.json"), "--report", writeReport(t, "# r\n"))
	if code != 0 || out != "tunecheck: the push event has no pull request; no comment posted (the report is in the job summary)\n" {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(s.Requests()); n != 0 {
		t.Fatalf("%d requests for a push", n)
	}
}

func TestGitHubCommentErrors(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", ghToken)
	rep := writeReport(t, "# r\n")
	with := func(k, v string) map[string]string {
		m := ghEnv(s, "pull_request", "pull_request.json")
		m[k] = v
		return m
	}
	for _, c := range []struct {
		name string
		vars map[string]string
		args []string
		code exitcode.Code
		want string
	}{
		{"no report flag", with("", ""), nil, exitcode.BadInput, "--report is required"},
		{"missing report", with("", ""), []string{"--report", "nope/report.md"}, exitcode.BadInput, "run `tunecheck run PLAN --format md -o DIR` first"},
		{"bad key", with("", ""), []string{"--report", rep, "--key", "a-->b"}, exitcode.BadInput, "--key"},
		{"no event", with("GITHUB_EVENT_NAME", ""), []string{"--report", rep}, exitcode.BadInput, "GITHUB_EVENT_NAME is not set"},
		{"no token", with("GITHUB_TOKEN", ""), []string{"--report", rep}, exitcode.BadInput, "pull-requests: write"},
		{"no payload", with("GITHUB_EVENT_PATH", "missing.json"), []string{"--report", rep}, exitcode.BadInput, "GITHUB_EVENT_PATH=missing.json"},
		{"wrong token", with("GITHUB_TOKEN", "ghs_wrong"), []string{"--report", rep}, exitcode.BadInput, "HTTP 401: Bad credentials"},
		{"no repository", func() map[string]string {
			m := with("GITHUB_REPOSITORY", "")
			m["GITHUB_EVENT_NAME"] = ""
			return m
		}(), []string{"--report", rep, "--pr", "3"}, exitcode.BadInput, "GITHUB_REPOSITORY is not set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runGitHubCLI(t, c.vars, c.args...)
			if exitcode.Code(code) != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, errOut)
			}
		})
	}
	// GitHub down: exit 3, as an unreachable endpoint.
	s.SetFail(http.StatusServiceUnavailable)
	code, _, errOut := runGitHubCLI(t, ghEnv(s, "pull_request", "pull_request.json"), "--report", rep)
	if exitcode.Code(code) != exitcode.Unreachable || !strings.Contains(errOut, "HTTP 503") {
		t.Fatalf("503: exit %d: %s", code, errOut)
	}
}

// --pr names the pull request without an event (a workflow_run workflow).
func TestGitHubCommentExplicitPR(t *testing.T) {
	s := ghtest.New(t, "acme", "support-bot", ghToken)
	vars := ghEnv(s, "workflow_run", "push.json")
	code, out, errOut := runGitHubCLI(t, vars, "--report", writeReport(t, "# r\n"), "--pr", "9")
	if code != 0 || !strings.Contains(out, "created the comment on acme/support-bot#9") || len(s.Comments(9)) != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestGitHubCommandHidden(t *testing.T) {
	var out bytes.Buffer
	Main(context.Background(), []string{"--help"}, Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }})
	if strings.Contains(out.String(), "github") {
		t.Fatalf("the github command shows in help:\n%s", out.String())
	}
}
