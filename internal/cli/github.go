package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/ghcomment"
)

type githubCommentOptions struct {
	report, key, artifact string
	pr                    int
}

// newGitHubCmd holds the commands the GitHub Action (action.yml) calls. It is
// hidden: users reach it through the action, and docs/ci.md documents it.
func newGitHubCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "github",
		Short:  "Commands the tunecheck GitHub Action runs",
		Hidden: true,
	}
	cmd.AddCommand(newGitHubCommentCmd(env))
	return cmd
}

func newGitHubCommentCmd(env Env) *cobra.Command {
	var o githubCommentOptions
	cmd := &cobra.Command{
		Use:   "comment --report DIR/report.md [--key NAME]",
		Short: "Post report.md on the workflow's pull request, updating tunecheck's comment for --key",
		Long: `comment keeps one comment per --key (the plan, by default) on the pull request a
GitHub Actions workflow runs for: the first run creates it, later runs update it. The
comment starts with a hidden marker, <!-- tunecheck:KEY -->, which tells several plans
in one pull request apart; comments without it are never touched. A report longer than
GitHub's 65,536 characters is cut on a line boundary with a note linking the run.

It reads GITHUB_TOKEN, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY,
GITHUB_API_URL, GITHUB_SERVER_URL and GITHUB_RUN_ID, as GitHub Actions sets them. For
an event other than pull_request or pull_request_target it posts nothing and says so
(give --pr to name the pull request yourself, e.g. from a workflow_run workflow). A
token that may not write (a pull request from a fork) is a warning, not a failure.`,
		Example: `  tunecheck github comment --report reports/report.md --key nightly`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGitHubComment(cmd, env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.report, "report", "", "the Markdown report to post (tunecheck run --format md writes DIR/report.md)")
	f.StringVar(&o.key, "key", "tunecheck", "what tells this comment apart from other tunecheck comments on the pull request (the action passes the plan)")
	f.StringVar(&o.artifact, "artifact-name", "", "the artifact that holds the full reports, named in the comment's footer")
	f.IntVar(&o.pr, "pr", 0, "the pull request's number (default: from the pull_request event's payload)")
	return cmd
}

func runGitHubComment(cmd *cobra.Command, env Env, o githubCommentOptions) error {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	bad := func(err error, hint string) error {
		return exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), hint)
	}
	if o.report == "" {
		return bad(errors.New("--report is required"), "give the report.md that `tunecheck run --format md -o DIR` wrote: --report DIR/report.md")
	}
	if err := ghcomment.CheckKey(o.key); err != nil {
		return bad(fmt.Errorf("--key: %w", err), "use a plan path or a short name without \"--\" or \">\"")
	}
	md, err := os.ReadFile(o.report)
	if err != nil {
		return bad(fmt.Errorf("reading the report: %w", err), "run `tunecheck run PLAN --format md -o DIR` first and pass --report DIR/report.md")
	}

	pr := ghcomment.PullRequest{Repo: getenv("GITHUB_REPOSITORY"), Number: o.pr}
	if o.pr < 0 {
		return bad(fmt.Errorf("--pr %d: a pull request number is positive", o.pr), "")
	}
	if o.pr == 0 {
		event := getenv("GITHUB_EVENT_NAME")
		if event == "" {
			return bad(errors.New("GITHUB_EVENT_NAME is not set, so there is no pull request to comment on"),
				"run this in a GitHub Actions job, or give --pr NUMBER with GITHUB_REPOSITORY and GITHUB_TOKEN set")
		}
		if !ghcomment.IsPullRequestEvent(event) {
			fmt.Fprintf(env.Stdout, "tunecheck: the %s event has no pull request; no comment posted (the report is in the job summary)\n", event)
			return nil
		}
		path := getenv("GITHUB_EVENT_PATH")
		if path == "" {
			return bad(fmt.Errorf("GITHUB_EVENT_PATH is not set for the %s event", event), "GitHub Actions sets it; outside Actions give --pr NUMBER")
		}
		payload, err := os.ReadFile(path)
		if err != nil {
			return bad(fmt.Errorf("reading the event payload GITHUB_EVENT_PATH=%s: %w", path, err), "")
		}
		got, _, err := ghcomment.ParseEvent(event, payload)
		if err != nil {
			return bad(fmt.Errorf("%s: %w", path, err), "")
		}
		if pr.Repo == "" {
			pr.Repo = got.Repo
		}
		pr.Number, pr.HeadSHA = got.Number, got.HeadSHA
	}
	if pr.Repo == "" {
		return bad(errors.New("GITHUB_REPOSITORY is not set"), "set it to OWNER/NAME (GitHub Actions does)")
	}
	token := getenv("GITHUB_TOKEN")
	if token == "" {
		return bad(errors.New("GITHUB_TOKEN is not set"),
			"pass the token in the step's env (GITHUB_TOKEN: ${{ github.token }}) and grant the job `permissions: pull-requests: write`")
	}

	links := ghcomment.Links{Artifact: o.artifact, SHA: pr.HeadSHA}
	if run := getenv("GITHUB_RUN_ID"); run != "" {
		server := strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/")
		if server == "" {
			server = "https://github.com"
		}
		links.RunURL = fmt.Sprintf("%s/%s/actions/runs/%s", server, pr.Repo, run)
	}
	body, truncated := ghcomment.Body(o.key, string(md), links, ghcomment.Limit)
	if truncated {
		fmt.Fprintf(env.Stderr, "tunecheck: %s is longer than a GitHub comment holds; the comment shows its beginning and links the run\n", o.report)
	}

	client := &ghcomment.Client{BaseURL: getenv("GITHUB_API_URL"), Token: token,
		HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "tunecheck/" + toolVersion()}
	out, err := client.Upsert(cmd.Context(), pr.Repo, pr.Number, o.key, body)
	if ghcomment.Forbidden(err) {
		msg := fmt.Sprintf("could not comment on %s#%d: %v. A pull request from a fork gets a read-only token; the report is in the job summary and the artifacts (docs/ci.md shows how to comment on forks' pull requests)", pr.Repo, pr.Number, err)
		fmt.Fprintf(env.Stderr, "warning: %s\n", msg)
		if getenv("GITHUB_ACTIONS") == "true" {
			// A workflow command: GitHub shows it as an annotation on the run.
			fmt.Fprintf(env.Stdout, "::warning title=tunecheck comment::%s\n", escapeWorkflowData(msg))
		}
		return nil
	}
	if err != nil {
		var api *ghcomment.APIError
		if errors.As(err, &api) && api.Status < 500 && api.Status != http.StatusTooManyRequests {
			return bad(fmt.Errorf("commenting on %s#%d: %w", pr.Repo, pr.Number, err),
				"check the token and that the job has `permissions: pull-requests: write`")
		}
		return exitcode.WithCode(fmt.Errorf("commenting on %s#%d: %w", pr.Repo, pr.Number, err), exitcode.Unreachable)
	}
	how := "updated"
	if out.Created {
		how = "created"
	}
	fmt.Fprintf(env.Stdout, "tunecheck: %s the comment on %s#%d: %s\n", how, pr.Repo, pr.Number, out.Comment.HTMLURL)
	return nil
}

// escapeWorkflowData escapes a workflow command's message as the runner
// reads it: %, CR and LF.
func escapeWorkflowData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}
