package pii

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"sync"
)

// E-mail: local@domain, found from each "@". The local part is letters,
// digits and . _ % + - ' (no leading, trailing or doubled dot, at most 64
// bytes); the domain is dot-separated labels of letters, digits and inner
// hyphens with an alphabetic top-level label of 2+ letters. Refused: the
// user-info of a URL ("ftp://user@host", "https://u:p@host") and SSH remotes
// ("git@github.com:org/repo").
func findEmails(text string, out []Match) []Match {
	for at := strings.IndexByte(text, '@'); at >= 0; {
		if m, ok := emailAt(text, at); ok {
			out = append(out, m)
		}
		n := strings.IndexByte(text[at+1:], '@')
		if n < 0 {
			break
		}
		at += 1 + n
	}
	return out
}

func isLocal(b byte) bool {
	return isAlnum(b) || strings.IndexByte("._%+-'", b) >= 0
}

func emailAt(text string, at int) (Match, bool) {
	s := at
	for s > 0 && isLocal(text[s-1]) && at-s < 64 {
		s--
	}
	for s < at && (text[s] == '.' || text[s] == '\'' || text[s] == '-') {
		s++
	}
	if s == at || text[at-1] == '.' || strings.Contains(text[s:at], "..") || isWord(byteAt(text, s-1)) {
		return Match{}, false
	}
	// URL user-info: a "://" earlier in the same token with no "/" after it.
	// Looking back at most 2 KiB keeps a text of many "@" linear.
	from := max(0, s-2048)
	tok := from + strings.LastIndexAny(text[from:s], " \t\r\n\"'<>()[]{}") + 1
	if p := strings.Index(text[tok:s], "://"); p >= 0 && !strings.Contains(text[tok+p+3:s], "/") {
		return Match{}, false
	}
	e := at + 1
	lastDot := -1
	for e < len(text) && (isAlnum(text[e]) || text[e] == '-' || text[e] == '.') {
		if text[e] == '.' {
			if e+1 >= len(text) || !isAlnum(text[e+1]) || !isAlnum(text[e-1]) {
				break
			}
			lastDot = e
		}
		e++
	}
	for e > at+1 && text[e-1] == '-' {
		e--
	}
	if lastDot < 0 || lastDot >= e || isWord(byteAt(text, e)) {
		return Match{}, false
	}
	tld := text[lastDot+1 : e]
	if len(tld) < 2 {
		return Match{}, false
	}
	for k := 0; k < len(tld); k++ {
		if isDigit(tld[k]) || tld[k] == '-' {
			return Match{}, false
		}
	}
	for _, label := range strings.Split(text[at+1:e], ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return Match{}, false
		}
	}
	if byteAt(text, e) == ':' && !isSpace(byteAt(text, e+1)) && byteAt(text, e+1) != 0 {
		return Match{}, false // git@github.com:org/repo.git
	}
	return Match{Kind: Email, Start: s, End: e, Text: text[s:e], Valid: true}, true
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// IBAN: two upper-case letters of a country in ibanLength, two check digits
// and the BBAN (upper-case letters and digits), unbroken or in space-separated
// groups of four (the last may be shorter), exactly the country's length and
// not glued to more letters or digits. Valid is the mod-97 check.
func findIBANs(text string, out []Match) []Match {
	for i := 0; i+4 <= len(text); i++ {
		if !isUpper(text[i]) || !isUpper(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) || isWord(byteAt(text, i-1)) {
			continue
		}
		want, ok := ibanLength[text[i:i+2]]
		if !ok {
			continue
		}
		var b []byte
		e := i
		group := 0
		spaced := false
		for e < len(text) && len(b) < want {
			c := text[e]
			if c == ' ' && group == 4 && e+1 < len(text) && (isUpper(text[e+1]) || isDigit(text[e+1])) && (spaced || len(b) == 4) {
				spaced = true
				group = 0
				e++
				continue
			}
			if !isUpper(c) && !isDigit(c) {
				break
			}
			if spaced && group == 4 {
				break
			}
			b = append(b, c)
			group++
			e++
		}
		if len(b) != want || isWord(byteAt(text, e)) {
			continue
		}
		out = append(out, Match{Kind: IBAN, Start: i, End: e, Text: text[i:e], Valid: ibanMod97(b)})
		i = e - 1
	}
	return out
}

// IPv6: a stretch of hex digits, colons and dots with at least two colons
// that net/netip parses as an IPv6 address (compressed "::" forms and
// IPv4-mapped tails included), with at least one decimal digit so that
// "a::b" or C++'s "::" are not taken, and not glued to a word. A zone
// ("fe80::1%eth0") is left out of the match.
func findIPv6(text string, out []Match) []Match {
	isHex := func(b byte) bool {
		return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') || b == ':' || b == '.'
	}
	for i := strings.IndexByte(text, ':'); i >= 0 && i < len(text); {
		s, e := i, i
		for s > 0 && isHex(text[s-1]) {
			s--
		}
		for e < len(text) && isHex(text[e]) {
			e++
		}
		next := e
		for s < e && text[s] == '.' {
			s++
		}
		for e > s && text[e-1] == '.' {
			e--
		}
		if e > s && text[e-1] == ':' && (e-s < 2 || text[e-2] != ':') {
			e--
		}
		tok := text[s:e]
		if strings.Count(tok, ":") >= 2 && strings.ContainsAny(tok, "0123456789") &&
			!isWord(byteAt(text, s-1)) && !isWord(byteAt(text, e)) {
			if a, err := netip.ParseAddr(tok); err == nil && a.Is6() {
				out = append(out, Match{Kind: IP, Start: s, End: e, Text: tok, Valid: true})
			}
		}
		n := strings.IndexByte(text[next:], ':')
		if n < 0 {
			break
		}
		i = next + n
	}
	return out
}

// secretRule is one credential format: a literal prefix found with
// strings.Index, then a regexp anchored at the prefix.
type secretRule struct {
	kind   Kind
	prefix string
	re     *regexp.Regexp
	check  func(string) bool // extra test on the matched text, may be nil
}

// secretRules are compiled on first use: the bounded repeats ({36,251})
// make large programs, and compiling them at init cost every command,
// --help included, a few milliseconds (issue 15).
var secretRules = sync.OnceValue(func() []secretRule {
	return []secretRule{
		{AWSKey, "AKIA", regexp.MustCompile(`^AKIA[A-Z0-9]{16}`), nil},
		// "ASIA" starts English words ("ASIAPACIFICCOUNTRIES"), so temporary
		// key ids need a digit; "AKIA" starts none.
		{AWSKey, "ASIA", regexp.MustCompile(`^ASIA[A-Z0-9]{16}`), hasDigit},
		{GitHubToken, "gh", regexp.MustCompile(`^gh[pousr]_[A-Za-z0-9]{36,251}`), nil},
		{GitHubToken, "github_pat_", regexp.MustCompile(`^github_pat_[A-Za-z0-9_]{22,255}`), nil},
		{SlackToken, "xox", regexp.MustCompile(`^xox[abposr]-[A-Za-z0-9-]{10,250}`), nil},
		{SlackToken, "https://hooks.slack.com/", regexp.MustCompile(`^https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]+`), nil},
		{JWT, "eyJ", regexp.MustCompile(`^eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`), jwtHeader},
		{APIKey, "sk-", regexp.MustCompile(`^sk-[A-Za-z0-9_-]{20,250}`), mixedKey},
	}
})

var privateKeyRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----`)
})

// findSecrets: AWS access key ids (AKIA + 16, or ASIA + 16 with a digit), GitHub tokens, Slack
// tokens and webhook URLs, JWTs whose header decodes to JSON with "alg",
// sk- keys with upper case, lower case and digits after the prefix, and
// private key blocks from BEGIN to the matching END line (or, with no END,
// the BEGIN line and the base64 lines after it).
func findSecrets(text string, out []Match) []Match {
	for _, r := range secretRules() {
		for off := 0; ; {
			n := strings.Index(text[off:], r.prefix)
			if n < 0 {
				break
			}
			s := off + n
			off = s + 1
			b := byteAt(text, s-1)
			if isWord(b) || (r.kind != SlackToken && b == '-') {
				continue
			}
			lim := min(len(text), s+300)
			loc := r.re.FindStringIndex(text[s:lim])
			if loc == nil {
				continue
			}
			e := s + loc[1]
			if isWord(byteAt(text, e)) || (r.check != nil && !r.check(text[s:e])) {
				continue
			}
			out = append(out, Match{Kind: r.kind, Start: s, End: e, Text: text[s:e], Valid: true})
			off = e
		}
	}
	for off := 0; ; {
		n := strings.Index(text[off:], "-----BEGIN ")
		if n < 0 {
			break
		}
		s := off + n
		off = s + 1
		loc := privateKeyRe().FindStringSubmatchIndex(text[s:min(len(text), s+100)])
		if loc == nil {
			continue
		}
		e := s + loc[1]
		label := text[s+len("-----BEGIN ") : e-len("-----")]
		end := "-----END " + label + "-----"
		// Keys are a few KiB; looking further would make many unterminated
		// BEGIN lines quadratic.
		if k := strings.Index(text[e:min(len(text), e+64<<10)], end); k >= 0 {
			e += k + len(end)
		} else {
			e = base64Lines(text, e)
		}
		out = append(out, Match{Kind: PrivateKey, Start: s, End: e, Text: text[s:e], Valid: true})
		off = e
	}
	return out
}

// base64Lines extends e over the following lines that look like the body of
// a PEM block (base64 and "Header: value" lines), for blocks cut short.
func base64Lines(text string, e int) int {
	for {
		if byteAt(text, e) == '\r' {
			e++
		}
		if byteAt(text, e) != '\n' {
			return e
		}
		k := e + 1
		for k < len(text) && (isAlnum(text[k]) || text[k] == '+' || text[k] == '/' || text[k] == '=') {
			k++
		}
		if k-(e+1) < 16 {
			return e
		}
		e = k
	}
}

func hasDigit(tok string) bool { return strings.ContainsAny(tok, "0123456789") }

func jwtHeader(tok string) bool {
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "="))
	if err != nil {
		return false
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m["alg"]
	return ok
}

// mixedKey keeps sk- keys with upper case, lower case and digits after the
// prefix: real keys are random, "sk-some-long-hyphenated-words" is not.
func mixedKey(tok string) bool {
	var up, low, dig bool
	for i := 3; i < len(tok); i++ {
		up = up || isUpper(tok[i])
		low = low || isLower(tok[i])
		dig = dig || isDigit(tok[i])
	}
	return up && low && dig
}
