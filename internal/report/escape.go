package report

// Everything a report shows about a run is untrusted text: model outputs,
// prompts, references and item ids come from models and datasets; task,
// model and metric names, gate expressions and error messages come from a
// plan, a provider, or a results.json written elsewhere. Each format escapes
// them where they are written, so a report is safe to open:
//
//   - Terminal: termText drops terminal escape sequences and control
//     characters, and turns tabs and newlines into spaces (they would break
//     tabwriter's columns and the rows).
//   - JUnit XML: plainText, then encoding/xml escaping (which also replaces
//     any character XML 1.0 forbids with U+FFFD).
//   - HTML: plainText, then html/template's contextual escaping; section
//     Markdown goes through mdSection and then goldmark with raw HTML off.
//   - JSON: encoding/json, which escapes <, > and & and C0 control
//     characters; JSON escapes C1 control characters as well.
//   - Markdown: one rule: data is either escaped text (mdText) or a code span
//     (mdCode), never raw; see those functions. Sections are Markdown written
//     by our own packages but carry data, so mdSection escapes any raw HTML
//     in them.

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// plainText drops terminal escape sequences (ECMA-48 CSI, OSC and other
// strings, two-byte escapes, and their 8-bit C1 forms) and control
// characters other than tab and newline; CR LF and a lone CR become a
// newline and invalid UTF-8 becomes U+FFFD. What is left is text that
// cannot move a terminal's cursor, set its title or clear it.
func plainText(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\x1b' || (r >= 0x80 && r <= 0x9f):
			n = escapeLen(s[i:])
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte('\n')
			}
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			// other control characters are dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// PlainText is plainText for other packages that print data to a terminal
// (commands that list rows): terminal escapes and control characters go.
func PlainText(s string) string { return plainText(s) }

// isPlain reports whether plainText would return s unchanged.
func isPlain(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			return false
		}
		i += n
	}
	return true
}

// escapeLen is the length in bytes of the escape sequence at the start of s,
// which begins with ESC or a C1 control character. An unterminated string
// sequence (OSC and the like) counts as its introducer only, so that the
// text after it is kept rather than swallowed.
func escapeLen(s string) int {
	var intro byte
	n := 1
	if s[0] == '\x1b' {
		if len(s) < 2 || s[1] < 0x20 || s[1] > 0x7e {
			return 1
		}
		intro, n = s[1], 2
	} else {
		r, size := utf8.DecodeRuneInString(s)
		intro, n = byte(r-0x40), size // C1 0x80–0x9f is ESC followed by 0x40–0x5f
	}
	switch {
	case intro == '[': // CSI: parameter and intermediate bytes, then a final byte
		for ; n < len(s); n++ {
			c := s[n]
			if c >= 0x40 && c <= 0x7e {
				return n + 1
			}
			if c < 0x20 || c > 0x3f {
				return n
			}
		}
		return n
	case strings.IndexByte("]PX^_", intro) >= 0: // strings ended by BEL or ST
		for j := n; j < len(s); j++ {
			switch {
			case s[j] == '\a':
				return j + 1
			case strings.HasPrefix(s[j:], "\x1b\\"), strings.HasPrefix(s[j:], "\u009c"):
				return j + 2
			}
		}
		return n
	case intro >= 0x20 && intro <= 0x2f: // intermediate bytes, then a final byte
		for ; n < len(s); n++ {
			c := s[n]
			if c >= 0x30 && c <= 0x7e {
				return n + 1
			}
			if c < 0x20 || c > 0x2f {
				return n
			}
		}
		return n
	}
	return n
}

// termText is plainText on one line: tabs and newlines become spaces.
func termText(s string) string {
	s = plainText(s)
	if strings.ContainsAny(s, "\t\n") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' {
				return ' '
			}
			return r
		}, s)
	}
	return s
}

// mdText writes s as Markdown text that renders as s and nothing else, in a
// paragraph, a heading, a list item or a table cell:
//   - &, < and > become entities, so no HTML, autolink or blockquote;
//   - \ ` * [ ] | ~ # and _ are backslash-escaped, so no code span, emphasis,
//     strikethrough, link, image or table cell boundary — except _ between
//     two letters or digits, which cannot open or close emphasis (token_f1);
//   - a newline becomes <br>, our own markup, so data cannot end a table row
//     or start a block.
func mdText(s string) string {
	rs := []rune(plainText(s))
	var b strings.Builder
	b.Grow(len(rs))
	for i, r := range rs {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\n':
			b.WriteString("<br>")
		case '\\', '`', '*', '[', ']', '|', '~', '#':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '_':
			if i == 0 || i == len(rs)-1 || !isAlnum(rs[i-1]) || !isAlnum(rs[i+1]) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// mdCode writes a name, id or expression as a code span. Inside a code span
// Markdown and HTML are literal, so s is written as it is (newlines and tabs
// as spaces) between backtick fences one longer than its longest backtick
// run. A | would still split a table cell, so such a string (and an empty
// or blank one, which a code span cannot hold) is written with mdText.
func mdCode(s string) string {
	s = termText(s)
	if strings.TrimSpace(s) == "" || strings.ContainsRune(s, '|') {
		return mdText(s)
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	pad := ""
	if first, last := s[0], s[len(s)-1]; first == '`' || last == '`' || first == ' ' || last == ' ' {
		pad = " " // a code span strips one space from each end
	}
	return fence + pad + s + pad + fence
}

// mdQuote writes multi-line text (a prompt, a reference) as a blockquote,
// each line written with mdText. Block syntax can only start a line, so a
// line's leading spaces become &nbsp; (no indented code block) and a leading
// -, +, = or "1." is escaped (no list, thematic break or setext heading).
func mdQuote(s string) string {
	lines := strings.Split(plainText(s), "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		lead := l[:len(l)-len(trimmed)]
		width := strings.Count(lead, " ") + 4*strings.Count(lead, "\t")
		lines[i] = "> " + strings.Repeat("&nbsp;", width) + mdLineStart(mdText(trimmed))
	}
	return strings.Join(lines, "\n")
}

// mdLineStart escapes the list, thematic break and setext markers that
// mdText leaves alone because they only matter at the start of a line.
func mdLineStart(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte("-+=", s[0]) >= 0 {
		return `\` + s
	}
	digits := 0
	for digits < len(s) && digits < 10 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits > 0 && digits < len(s) && (s[digits] == '.' || s[digits] == ')') {
		return s[:digits] + `\` + s[digits:]
	}
	return s
}

// mdSection makes a report section's Markdown safe to embed: its own
// Markdown (tables, code, images) is kept, but any raw HTML in it — which
// can only have come from data, since no section writes HTML — has its <
// written as &lt;, so it shows as text. Escaping one tag can turn a stray
// backtick into a code span's end and free HTML that was inside a code span,
// so it parses again until no raw HTML is left; each pass removes at least
// one <, so it ends.
func mdSection(md string) string {
	src := []byte(plainText(md))
	for {
		doc := sectionMarkdown.Parser().Parse(text.NewReader(src))
		var raw []text.Segment
		_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering {
				return ast.WalkContinue, nil
			}
			switch n := n.(type) {
			case *ast.RawHTML:
				for i := 0; i < n.Segments.Len(); i++ {
					raw = append(raw, n.Segments.At(i))
				}
			case *ast.HTMLBlock:
				for i := 0; i < n.Lines().Len(); i++ {
					raw = append(raw, n.Lines().At(i))
				}
				if n.HasClosure() {
					raw = append(raw, n.ClosureLine)
				}
			}
			return ast.WalkContinue, nil
		})
		lt := make([]bool, len(src))
		found := false
		for _, seg := range raw {
			for j := max(seg.Start, 0); j < min(seg.Stop, len(src)); j++ {
				if src[j] == '<' {
					lt[j], found = true, true
				}
			}
		}
		if !found {
			return string(src)
		}
		var b []byte
		for j, c := range src {
			if lt[j] {
				b = append(b, "&lt;"...)
			} else {
				b = append(b, c)
			}
		}
		src = b
	}
}

// mdLinkTarget writes a file name tunecheck chose as a Markdown link target:
// percent-encoded, so it cannot end the link or start another.
func mdLinkTarget(name string) string {
	return (&url.URL{Path: name}).EscapedPath()
}
