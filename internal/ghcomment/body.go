// Package ghcomment keeps one tunecheck comment per plan on a GitHub pull
// request up to date: it builds the comment's body from report.md (with a
// hidden marker naming the plan, a footer linking the workflow run whose
// artifacts hold the full reports, and truncation to GitHub's 65,536-character
// limit on a line boundary), reads the pull request's number from the
// workflow's event payload, and finds, creates or updates the comment through
// GitHub's REST API (issue comments: list, create, update).
//
// Everything but Client is a pure function. Client is hand-written over
// net/http rather than a GitHub SDK: it needs three endpoints, and a
// dependency of go-github's size for them would outweigh the code it saves;
// the Link-header pagination it follows is the few lines of RFC 8288 that
// GitHub uses (`<url>; rel="next"`).
//
// References: GitHub REST API "Issue comments" (API version 2022-11-28) and
// the pull_request webhook payload (number, pull_request.head.sha,
// repository.full_name).
package ghcomment

import (
	"fmt"
	"strings"

	"github.com/tunecheck/tunecheck/internal/report"
)

// Limit is the most characters GitHub accepts in a comment's body.
const Limit = report.GitHubLimit

// markerPrefix starts the hidden HTML comment that marks tunecheck's
// comment; the key after it tells several plans in one pull request apart.
const markerPrefix = "<!-- tunecheck:"

// Marker is the hidden first line of the comment for key: an HTML comment,
// which GitHub's Markdown does not show.
func Marker(key string) string { return markerPrefix + key + " -->" }

// CheckKey says whether key can sit in a marker: one line, without "--"
// (which would end or break the HTML comment) or ">".
func CheckKey(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return fmt.Errorf("the comment key is empty")
	case strings.ContainsAny(key, "\r\n"):
		return fmt.Errorf("the comment key %q has a line break", key)
	case strings.Contains(key, "--") || strings.Contains(key, ">"):
		return fmt.Errorf("the comment key %q contains \"--\" or \">\", which would end the hidden HTML comment that marks it", key)
	}
	return nil
}

// IsOurs reports whether a comment's body carries key's marker as a line of
// its own. A quoted reply ("> <!-- tunecheck:… -->") does not count, nor does
// another plan's marker.
func IsOurs(body, key string) bool {
	m := Marker(key)
	for line := range strings.SplitSeq(body, "\n") {
		if strings.TrimRight(line, "\r") == m {
			return true
		}
	}
	return false
}

// Find returns the first of comments (in the order GitHub lists them,
// oldest first) that carries key's marker.
func Find(comments []Comment, key string) (Comment, bool) {
	for _, c := range comments {
		if IsOurs(c.Body, key) {
			return c, true
		}
	}
	return Comment{}, false
}

// Links says where a comment's reader finds what the comment leaves out.
type Links struct {
	// RunURL is the workflow run's page, whose artifacts hold the reports
	// ($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID).
	RunURL string
	// Artifact names the artifact holding report.html, results.json and
	// junit.xml ("" when unknown).
	Artifact string
	// SHA is the commit the reports are about (the pull request's head).
	SHA string
}

// Body is the comment for key: the marker, the report and a footer with
// links. When that is longer than limit characters (counted as
// report.Length counts them), the report is cut at the end of a line so that
// the whole body fits, fenced code blocks and <details> left open by the cut
// are closed, and a note says what was left out and where the whole report
// is. truncated says whether the report was cut. limit ≤ 0 means Limit.
func Body(key, md string, links Links, limit int) (body string, truncated bool) {
	if limit <= 0 {
		limit = Limit
	}
	md = strings.TrimRight(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	head := Marker(key) + "\n\n"
	foot := footer(links)
	whole := head + md + "\n" + foot
	if report.Length(whole) <= limit {
		return whole, false
	}
	total := report.Length(md)
	// The note names the cut's size, and the size depends on where the cut
	// falls; a note written for a cut of total characters is never shorter
	// than the final one, so the budget it leaves always suffices.
	// One more character for the newline that ends the kept part.
	budget := limit - report.Length(head) - report.Length(note(total, total, links)) - report.Length(foot) - 1
	kept := cut(md, budget)
	closing := closers(kept)
	for kept != "" && report.Length(kept)+report.Length(closing) > budget {
		kept = cut(kept, report.Length(kept)-1)
		closing = closers(kept)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(kept)
	if kept != "" {
		b.WriteString("\n")
	}
	b.WriteString(closing)
	b.WriteString(note(report.Length(kept), total, links))
	b.WriteString(foot)
	return b.String(), true
}

// cut is the longest prefix of md within budget characters that ends at a
// line's end (without its newline). When not even the first line fits, it
// cuts that line at a character boundary: a report whose first line is
// longer than a comment still shows its beginning.
func cut(md string, budget int) string {
	if budget <= 0 {
		return ""
	}
	n, end, found := 0, 0, false
	for i, r := range md {
		if r == '\n' {
			end, found = i, true // md[:i] is n ≤ budget characters
		}
		w := 1
		if r >= 0x10000 {
			w = 2 // a surrogate pair, as report.Length counts it
		}
		if n+w > budget {
			if found {
				return md[:end]
			}
			return md[:i] // no whole line fits: keep the characters that do
		}
		n += w
	}
	return md
}

// closers closes what a cut left open in md: a fenced code block (``` or
// ~~~, as CommonMark opens and closes them) and <details> elements, so the
// note after the cut is neither code nor folded away.
func closers(md string) string {
	var fence string // the open fence's marker run, "" when none is open
	details := 0
	for line := range strings.SplitSeq(md, "\n") {
		t := strings.TrimLeft(line, " ")
		if len(line)-len(t) > 3 {
			continue // indented code, not a fence
		}
		if fence != "" {
			if run := fenceRun(t); run != "" && run[0] == fence[0] && len(run) >= len(fence) && strings.TrimSpace(t[len(run):]) == "" {
				fence = ""
			}
			continue
		}
		if run := fenceRun(t); run != "" {
			fence = run
			continue
		}
		lower := strings.ToLower(t)
		details += strings.Count(lower, "<details") - strings.Count(lower, "</details>")
	}
	var b strings.Builder
	if fence != "" {
		b.WriteString(fence + "\n")
	}
	for ; details > 0; details-- {
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// fenceRun is the run of three or more backticks or tildes a line starts with.
func fenceRun(t string) string {
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return ""
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return ""
	}
	return t[:n]
}

// note says that the report was cut, how much of it the comment shows and
// where the whole report is.
func note(kept, total int, links Links) string {
	where := "in the reports of this run"
	if links.RunURL != "" {
		where = fmt.Sprintf("in the artifacts of [the workflow run](%s)", links.RunURL)
	}
	if links.Artifact != "" {
		where += fmt.Sprintf(" (artifact `%s`: report.md, report.html, results.json, junit.xml)", links.Artifact)
	}
	return fmt.Sprintf("\n> [!WARNING]\n> This comment shows the first %s of the report's %s characters: GitHub holds at most %s in a comment. The whole report is %s.\n",
		thousands(kept), thousands(total), thousands(Limit), where)
}

// footer links the run and names the commit, under a rule.
func footer(links Links) string {
	var parts []string
	if links.RunURL != "" {
		s := fmt.Sprintf("[workflow run](%s)", links.RunURL)
		if links.Artifact != "" {
			s += fmt.Sprintf(" · reports in artifact `%s`", links.Artifact)
		}
		parts = append(parts, s)
	}
	if links.SHA != "" {
		sha := links.SHA
		if len(sha) > 12 {
			sha = sha[:12]
		}
		parts = append(parts, "commit "+sha)
	}
	s := "\n---\n<sub>tunecheck"
	if len(parts) > 0 {
		s += " · " + strings.Join(parts, " · ")
	}
	return s + " · this comment is updated on every push</sub>\n"
}

// thousands writes n with commas between thousands: 65,536.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
