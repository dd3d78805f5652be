package ghcomment

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/internal/report"
)

var links = Links{RunURL: "https://github.com/acme/support-bot/actions/runs/123456", Artifact: "tunecheck-report", SHA: "9c3b1d7e2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c1e"}

func TestMarkerAndIsOurs(t *testing.T) {
	body, _ := Body("evals/tickets.yaml", "# report\n", links, 0)
	if !strings.HasPrefix(body, "<!-- tunecheck:evals/tickets.yaml -->\n") {
		t.Fatalf("body does not start with the marker:\n%s", body)
	}
	for _, c := range []struct {
		body, key string
		want      bool
	}{
		{body, "evals/tickets.yaml", true},
		{body, "evals/other.yaml", false},
		{body, "evals/tickets", false},
		{"> <!-- tunecheck:evals/tickets.yaml -->\n> quoted", "evals/tickets.yaml", false},
		{"text\r\n<!-- tunecheck:k -->\r\nmore", "k", true},
		{"<!-- tunecheck:k --> trailing", "k", false},
		{"", "k", false},
	} {
		if got := IsOurs(c.body, c.key); got != c.want {
			t.Errorf("IsOurs(%q, %q) = %v, want %v", c.body, c.key, got, c.want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, ok := range []string{"tunecheck.yaml", "evals/a b.yaml", "plan-1", "ключ"} {
		if err := CheckKey(ok); err != nil {
			t.Errorf("CheckKey(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "  ", "a\nb", "a-->b", "a--b", "a>b"} {
		if err := CheckKey(bad); err == nil {
			t.Errorf("CheckKey(%q) accepted it", bad)
		}
	}
}

func TestFindFirstOfOurs(t *testing.T) {
	cs := []Comment{
		{ID: 1, Body: "LGTM"},
		{ID: 2, Body: Marker("other") + "\n\nother plan"},
		{ID: 3, Body: Marker("k") + "\n\nours"},
		{ID: 4, Body: Marker("k") + "\n\na duplicate from a race"},
	}
	got, ok := Find(cs, "k")
	if !ok || got.ID != 3 {
		t.Fatalf("Find = %v, %v; want comment 3", got.ID, ok)
	}
	if _, ok := Find(cs[:2], "k"); ok {
		t.Fatal("Find found a comment without the marker")
	}
}

// A report that fits is the comment whole, between the marker and the footer.
func TestBodyWhole(t *testing.T) {
	md := "# quickstart\r\n\r\n**Verdict: PASS**\r\n\r\n\n"
	body, cut := Body("k", md, links, 0)
	if cut {
		t.Fatal("a short report was cut")
	}
	want := "<!-- tunecheck:k -->\n\n# quickstart\n\n**Verdict: PASS**\n" +
		"\n---\n<sub>tunecheck · [workflow run](https://github.com/acme/support-bot/actions/runs/123456) · reports in artifact `tunecheck-report` · commit 9c3b1d7e2f4a · this comment is updated on every push</sub>\n"
	if body != want {
		t.Fatalf("body:\n%q\nwant:\n%q", body, want)
	}
	// Without links the footer still says what the comment is.
	body, _ = Body("k", "x", Links{}, 0)
	if !strings.HasSuffix(body, "\n---\n<sub>tunecheck · this comment is updated on every push</sub>\n") {
		t.Fatalf("footer without links: %q", body)
	}
}

// multibyteReport is lines of ASCII, CJK (3 bytes, 1 UTF-16 unit) and emoji
// (4 bytes, 2 UTF-16 units) until it is over n characters.
func multibyteReport(n int) string {
	var b strings.Builder
	b.WriteString("# report\n\n| item | output |\n|---|---|\n")
	for i := 0; report.Length(b.String()) <= n; i++ {
		switch i % 3 {
		case 0:
			b.WriteString("| 1 | plain ascii text of a row |\n")
		case 1:
			b.WriteString("| 2 | 微调后的模型回答得更好 |\n")
		default:
			b.WriteString("| 3 | 🚀🔥✅ emoji 👍 |\n")
		}
	}
	return b.String()
}

func TestBodyTruncatedAtLimit(t *testing.T) {
	for _, limit := range []int{Limit, 2000, 1001} {
		md := multibyteReport(limit + 5000)
		body, cut := Body("evals/tickets.yaml", md, links, limit)
		if !cut {
			t.Fatalf("limit %d: a report of %d characters was not cut", limit, report.Length(md))
		}
		if n := report.Length(body); n > limit {
			t.Fatalf("limit %d: body is %d characters", limit, n)
		}
		if !utf8.ValidString(body) {
			t.Fatalf("limit %d: body is not valid UTF-8", limit)
		}
		if !strings.HasPrefix(body, Marker("evals/tickets.yaml")+"\n\n# report\n") {
			t.Fatalf("limit %d: body lost its head", limit)
		}
		// The kept report is a prefix of whole lines of the original.
		kept, _, ok := strings.Cut(strings.TrimPrefix(body, Marker("evals/tickets.yaml")+"\n\n"), "\n\n> [!WARNING]")
		if !ok {
			t.Fatalf("limit %d: no truncation note in:\n%s", limit, body[len(body)-600:])
		}
		if !strings.HasPrefix(md, kept+"\n") {
			t.Fatalf("limit %d: the kept part is not whole lines of the report; it ends %q", limit, kept[max(0, len(kept)-40):])
		}
		for _, want := range []string{
			"This comment shows the first " + thousands(report.Length(kept)) + " of the report's " + thousands(report.Length(strings.TrimRight(md, "\n"))) + " characters",
			"GitHub holds at most 65,536 in a comment",
			"[the workflow run](https://github.com/acme/support-bot/actions/runs/123456)",
			"artifact `tunecheck-report`",
			"this comment is updated on every push</sub>\n",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("limit %d: body lacks %q", limit, want)
			}
		}
		// Close to the limit: no further whole line would have fit.
		rest := strings.TrimPrefix(md, kept+"\n")
		nextLine, _, _ := strings.Cut(rest, "\n")
		if report.Length(body)+report.Length(nextLine)+1 <= limit-len(",") {
			t.Errorf("limit %d: body is %d characters; the next line (%d) would have fit", limit, report.Length(body), report.Length(nextLine))
		}
	}
}

// A body exactly at the limit is not cut; one character over it is.
func TestBodyEdgeOfLimit(t *testing.T) {
	base, _ := Body("k", "", links, 0)
	room := Limit - report.Length(base)
	// Emoji count two each; fill room with one line of them plus ASCII.
	line := strings.Repeat("🚀", room/2) + strings.Repeat("a", room%2)
	body, cut := Body("k", line, links, 0)
	if cut || report.Length(body) != Limit {
		t.Fatalf("at the limit: cut=%v, %d characters", cut, report.Length(body))
	}
	body, cut = Body("k", line+"b", links, 0)
	if !cut || report.Length(body) > Limit {
		t.Fatalf("one over: cut=%v, %d characters", cut, report.Length(body))
	}
	// One line longer than the comment: its start is kept, cut between characters.
	if !strings.Contains(body, "\n\n🚀🚀") || !utf8.ValidString(body) {
		t.Fatalf("a single long line lost its start")
	}
}

func TestBodyClosesFenceAndDetails(t *testing.T) {
	var b strings.Builder
	b.WriteString("# r\n\n<details><summary>examples</summary>\n\n````text\n")
	for range 200 {
		b.WriteString("line of output inside a fence ``` not closing it\n")
	}
	b.WriteString("````\n\n</details>\n")
	body, cut := Body("k", b.String(), Links{}, 3000)
	if !cut {
		t.Fatal("not cut")
	}
	if report.Length(body) > 3000 {
		t.Fatalf("body is %d characters", report.Length(body))
	}
	if !strings.Contains(body, "\n````\n\n</details>\n\n> [!WARNING]") {
		t.Fatalf("the fence and <details> were not closed before the note:\n%s", body[len(body)-400:])
	}
	if !strings.Contains(body, "in the reports of this run") {
		t.Fatalf("the note without a run URL does not say where the report is")
	}
	if closers("```go\nx\n```\n<details>\n</details>\n") != "" {
		t.Fatal("closers closed a closed fence or details")
	}
	if closers("    ```\nindented code\n") != "" {
		t.Fatal("an indented ``` opened a fence")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 65536: "65,536", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
}

// FuzzBody checks Body's promises on any report and limit: within the limit
// (when the limit leaves room for the marker, note and footer), valid UTF-8
// for valid input, the marker first, and the note exactly when it was cut.
func FuzzBody(f *testing.F) {
	f.Add("# r\n\n| a | b |\n|---|---|\n| 微调 | 🚀 |\n", 600)
	f.Add("```\ncode\n", 500)
	f.Add(strings.Repeat("🚀", 400), 700)
	f.Add("<details>\n\n"+strings.Repeat("line\n", 300), 800)
	f.Fuzz(func(t *testing.T, md string, limit int) {
		if !utf8.ValidString(md) || limit < 0 || limit > 4*Limit {
			return
		}
		body, cut := Body("k", md, links, limit)
		if limit == 0 {
			limit = Limit
		}
		if !strings.HasPrefix(body, Marker("k")+"\n\n") || !utf8.ValidString(body) {
			t.Fatalf("body %q", body)
		}
		floor, _ := Body("k", "", links, 0)
		room := report.Length(floor) + report.Length(note(report.Length(md), report.Length(md), links)) + 64
		if limit >= room && report.Length(body) > limit {
			t.Fatalf("limit %d: body is %d characters", limit, report.Length(body))
		}
		if cut != strings.Contains(body, "\n> [!WARNING]\n> This comment shows the first ") {
			t.Fatalf("cut %v, but the note is there: %v", cut, !cut)
		}
	})
}

// BenchmarkBody cuts a 200,000-character report (CJK and emoji lines) to a comment.
func BenchmarkBody(b *testing.B) {
	md := multibyteReport(200000)
	for b.Loop() {
		Body("evals/tickets.yaml", md, links, 0)
	}
}
