package pii

import "strings"

// A numeric run is a stretch of digit groups joined by short separators
// ("4111 1111", "(415) 555-2671", "10.0.0.1", "2024-01-05"). Cards, SSNs,
// phone numbers and IPv4 addresses are windows of consecutive groups of one
// run; the rules below decide which windows count. Tokenising once keeps the
// numeric detectors to one pass over the text.
type run struct {
	lead   byte     // '+' or '(' just before the first digit, else 0
	start  int      // offset of lead, or of the first digit
	groups [][2]int // [start, end) of each digit group
	seps   []string // seps[k] joins groups[k] and groups[k+1]
}

// sepOK lists the separators a run may continue over.
func sepOK(s string) bool {
	switch s {
	case " ", "-", ".", "/", "(", ")", " (", ") ", ")-":
		return true
	}
	return false
}

func findNumeric(text string, out []Match) []Match {
	var r run // reused: most runs are one short group
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		r = run{start: i, groups: r.groups[:0], seps: r.seps[:0]}
		if b := byteAt(text, i-1); b == '+' || b == '(' {
			r.lead, r.start = b, i-1
		}
		j := i
		for {
			k := j
			for k < len(text) && isDigit(text[k]) {
				k++
			}
			r.groups = append(r.groups, [2]int{j, k})
			// A separator is one or two bytes followed by a digit.
			next := -1
			for n := 1; n <= 2 && k+n < len(text); n++ {
				if isDigit(text[k+n]) && sepOK(text[k:k+n]) {
					next = k + n
					break
				}
			}
			if next < 0 {
				j = k
				break
			}
			r.seps = append(r.seps, text[k:next])
			j = next
		}
		out = r.matches(text, out)
		i = j
	}
	return out
}

// digits appends the digits of groups i..j to d.
func (r *run) digits(d []byte, text string, i, j int) []byte {
	for k := i; k <= j; k++ {
		d = append(d, text[r.groups[k][0]:r.groups[k][1]]...)
	}
	return d
}

func (r *run) glen(k int) int { return r.groups[k][1] - r.groups[k][0] }

func (r *run) match(text string, kind Kind, i, j int, valid bool) Match {
	s, e := r.groups[i][0], r.groups[j][1]
	if i == 0 && (kind == Phone) && r.lead != 0 {
		s = r.start
	}
	return Match{Kind: kind, Start: s, End: e, Text: text[s:e], Valid: valid}
}

// bounded reports whether window i..j stands apart from the rest of the run
// and the text: at the ends of the run the neighbouring bytes must not be
// word bytes, and inside the run the neighbouring separator must not be one
// of joined (for an IPv4 address, "." joins: 10.0.0.0.1 is no address).
func (r *run) bounded(text string, i, j int, joined string) bool {
	if i == 0 {
		if b := byteAt(text, r.groups[0][0]-1); isWord(b) || b == '.' {
			return false
		}
	} else if strings.Contains(joined, r.seps[i-1]) {
		return false
	}
	if j == len(r.groups)-1 {
		if b := byteAt(text, r.groups[j][1]); isWord(b) {
			return false
		}
	} else if strings.Contains(joined, r.seps[j]) {
		return false
	}
	return true
}

func (r *run) matches(text string, out []Match) []Match {
	out = r.cards(text, out)
	out = r.ssns(text, out)
	out = r.ipv4s(text, out)
	if m, ok := r.phone(text); ok {
		out = append(out, m)
	}
	return out
}

// cards: 13–19 digits with a known issuer prefix, either unbroken or in
// groups joined by one kind of separator (space or dash) in a card layout
// (4-4-4-4, 4-4-4-4-3, 4-4-4-1..4, Amex 4-6-5, Diners 4-6-4). Inside a longer
// run ("in 2024 4111 1111 1111 1111") a window that passes Luhn is taken; a
// whole run with a known prefix that fails Luhn is reported as invalid.
func (r *run) cards(text string, out []Match) []Match {
	last := len(r.groups) - 1
	for i := 0; i <= last; i++ {
		if r.lead == '+' && i == 0 {
			continue
		}
		// A card layout has at most five groups.
		for j := min(last, i+4); j >= i; j-- {
			if !r.cardShape(i, j) || !r.bounded(text, i, j, "-./()") {
				continue
			}
			var buf [32]byte
			d := r.digits(buf[:0], text, i, j)
			if len(d) < 13 || len(d) > 19 || !cardIssuer(d) {
				continue
			}
			ok := luhn(d)
			if ok || (i == 0 && j == last) {
				out = append(out, r.match(text, Card, i, j, ok))
				i = j
				break
			}
		}
	}
	return out
}

func (r *run) cardShape(i, j int) bool {
	if i == j {
		return true
	}
	sep := r.seps[i]
	if sep != " " && sep != "-" {
		return false
	}
	var l []int
	for k := i; k <= j; k++ {
		if k < j && r.seps[k] != sep {
			return false
		}
		l = append(l, r.glen(k))
	}
	switch len(l) {
	case 3:
		return l[0] == 4 && l[1] == 6 && (l[2] == 5 || l[2] == 4)
	case 4:
		return l[0] == 4 && l[1] == 4 && l[2] == 4 && l[3] >= 1 && l[3] <= 4
	case 5:
		return l[0] == 4 && l[1] == 4 && l[2] == 4 && l[3] == 4 && l[4] >= 1 && l[4] <= 3
	}
	return false
}

// ssns: AAA-GG-SSSS with dashes, area not 000, 666 or 9xx, group not 00,
// serial not 0000. Bare nine-digit numbers are not taken (too many ids).
func (r *run) ssns(text string, out []Match) []Match {
	for i := 0; i+2 < len(r.groups); i++ {
		if r.glen(i) != 3 || r.glen(i+1) != 2 || r.glen(i+2) != 4 || r.seps[i] != "-" || r.seps[i+1] != "-" {
			continue
		}
		if (i == 0 && r.lead != 0) || !r.bounded(text, i, i+2, "-./()") {
			continue
		}
		a := text[r.groups[i][0]:r.groups[i][1]]
		g := text[r.groups[i+1][0]:r.groups[i+1][1]]
		s := text[r.groups[i+2][0]:r.groups[i+2][1]]
		if a == "000" || a == "666" || a[0] == '9' || g == "00" || s == "0000" {
			continue
		}
		out = append(out, r.match(text, SSN, i, i+2, true))
		i += 2
	}
	return out
}

// ipv4s: four dot-joined groups of 0–255 without leading zeros, not part of
// a longer dotted run (1.2.3.4.5) and not glued to a word (v1.2.3.4).
func (r *run) ipv4s(text string, out []Match) []Match {
outer:
	for i := 0; i+3 < len(r.groups); i++ {
		for k := i; k < i+3; k++ {
			if r.seps[k] != "." {
				continue outer
			}
		}
		for k := i; k <= i+3; k++ {
			g := text[r.groups[k][0]:r.groups[k][1]]
			if len(g) > 3 || (len(g) > 1 && g[0] == '0') || (len(g) == 3 && g > "255") {
				continue outer
			}
		}
		if !r.bounded(text, i, i+3, ".") {
			continue
		}
		out = append(out, r.match(text, IP, i, i+3, true))
		i += 3
	}
	return out
}

// phone takes the whole run or nothing: a phone number glued to more digit
// groups is more likely a longer id. Three shapes are accepted:
//   - international: "+" and 8–15 digits (E.164), country code not starting
//     with 0, groups joined by space, dash, dot or parentheses;
//   - North American: an optional leading 1, then a three-digit area code
//     and a three-digit exchange (each starting with 2–9) and a four-digit
//     line number, joined by one kind of separator, or with the area code
//     in parentheses, e.g. (415) 555-0132;
//   - national trunk-0: 0 then 9–11 more digits in groups of 2–8 joined by
//     one kind of separator (space or dash), e.g. 020 7946 0958, 01 23 45 67 89.
//
// Unbroken digit strings without "+" are never phones (order numbers, ids),
// and nor is anything with a "/" (dates, fractions); dates such as
// 2024-01-05 or 05.01.2024 fit none of the shapes.
func (r *run) phone(text string) (Match, bool) {
	last := len(r.groups) - 1
	if !r.bounded(text, 0, last, "") {
		return Match{}, false
	}
	if b := byteAt(text, r.start-1); isWord(b) || b == '.' || b == '$' || b == '#' || b == '-' {
		return Match{}, false
	}
	for _, s := range r.seps {
		if s == "/" {
			return Match{}, false
		}
	}
	if r.lead == '+' {
		if text[r.groups[0][0]] == '0' {
			return Match{}, false
		}
		n := 0
		for k := 0; k <= last; k++ {
			// The trunk prefix in "+44 (0)20 …" is not dialled.
			if k > 0 && k < last && text[r.groups[k][0]:r.groups[k][1]] == "0" &&
				strings.HasSuffix(r.seps[k-1], "(") && strings.HasPrefix(r.seps[k], ")") {
				continue
			}
			n += r.glen(k)
		}
		if n < 8 || n > 15 {
			return Match{}, false
		}
		return r.match(text, Phone, 0, last, true), true
	}
	if r.nanp(text) {
		return r.match(text, Phone, 0, last, true), true
	}
	if r.lead == 0 && r.trunk0(text) {
		return r.match(text, Phone, 0, last, true), true
	}
	return Match{}, false
}

func (r *run) nanp(text string) bool {
	g := r.groups
	off := 0
	if len(g) == 4 && r.glen(0) == 1 && text[g[0][0]] == '1' && r.lead == 0 {
		if s := r.seps[0]; s != " " && s != "-" && s != "." && s != " (" {
			return false
		}
		off = 1
	} else if len(g) != 3 {
		return false
	}
	if r.glen(off) != 3 || r.glen(off+1) != 3 || r.glen(off+2) != 4 {
		return false
	}
	if text[g[off][0]] < '2' || text[g[off+1][0]] < '2' {
		return false
	}
	s1, s2 := r.seps[off], r.seps[off+1]
	paren := (off == 0 && r.lead == '(') || (off == 1 && r.seps[0] == " (")
	if paren {
		return (s1 == ")" || s1 == ") " || s1 == ")-") && (s2 == "-" || s2 == " " || s2 == ".")
	}
	if r.lead == '(' {
		return false
	}
	if off == 1 && r.seps[0] != s1 {
		return false
	}
	return s1 == s2 && (s1 == " " || s1 == "-" || s1 == ".")
}

func (r *run) trunk0(text string) bool {
	g := r.groups
	if len(g) < 2 || r.glen(0) < 2 || text[g[0][0]] != '0' || text[g[0][0]+1] == '0' {
		return false
	}
	sep := r.seps[0]
	if sep != " " && sep != "-" {
		return false
	}
	n := 0
	for k := range g {
		if r.glen(k) < 2 || r.glen(k) > 8 || (k < len(g)-1 && r.seps[k] != sep) {
			return false
		}
		n += r.glen(k)
	}
	return n >= 10 && n <= 12
}
