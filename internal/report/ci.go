package report

// CI surfaces: a pull-request comment and a GitHub Actions step summary
// each hold at most 65,536 characters, so the Markdown report is sized to
// fit one.

import (
	"io"
	"sort"
	"strconv"
)

// GitHubLimit is the most characters GitHub takes in a pull-request
// comment's body (and shows of a step summary's Markdown): 65,536.
const GitHubLimit = 65536

// Length counts s's characters for GitHub's limit, as UTF-16 code units
// (a JavaScript string's length): one per character of the Basic
// Multilingual Plane, two for a character outside it (most emoji). GitHub
// says "characters" without saying which count; code units are never fewer
// than code points, so a document within the limit by Length is within it
// whether GitHub counts code units or code points.
func Length(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2 // a surrogate pair
		} else {
			n++
		}
	}
	return n
}

// MarkdownLimit writes report.md within limit characters (counted by
// Length); limit ≤ 0 means no limit. When the whole report is longer, it
// leaves out, in this order, until it fits:
//
//  1. the examples' length: prompts, references and outputs are clipped,
//     the longest first, from 1,500 characters down to 300;
//  2. examples: fewer of each list, the lowest-ranked first (every list
//     keeps its first item longest);
//  3. slice tables;
//  4. sections (training curves, leakage).
//
// The verdict, warnings, gates, models and metric tables are never left
// out; a report whose tables alone are over the limit is written whole,
// longer than limit. A document that left anything out says so under the
// verdict, and where the parts were. Parts are left out whole, so no code
// span, quote or table is cut in the middle.
func MarkdownLimit(w io.Writer, r *Report, limit int) error {
	p := newMDPlan(r)
	all := mdFit{clip: maxClip, examples: -1, slices: -1, sections: -1}
	doc := p.markdown(r, all)
	if limit > 0 && Length(doc) > limit {
		doc = p.fit(r, limit)
	}
	_, err := io.WriteString(w, doc)
	return err
}

// fit finds the largest document within limit, leaving out parts in
// MarkdownLimit's order. Each step searches one count (the clip length, the
// examples kept, …), since the length only grows with it.
func (p *mdPlan) fit(r *Report, limit int) string {
	f := mdFit{clip: maxClip, examples: -1, slices: -1, sections: -1, limit: limit}
	fits := func(f mdFit) (string, bool) {
		doc := p.markdown(r, f)
		return doc, Length(doc) <= limit
	}
	steps := []struct {
		set      func(*mdFit, int)
		low, top int
	}{
		{func(f *mdFit, n int) { f.clip = n }, minClip, maxClip},
		{func(f *mdFit, n int) { f.examples = n }, 0, p.exTotal},
		{func(f *mdFit, n int) { f.slices = n }, 0, p.sliceTotal},
		{func(f *mdFit, n int) { f.sections = n }, 0, budgetedSections(r)},
	}
	for _, s := range steps {
		// The largest n in [low, top] that fits, if any does.
		try := func(n int) bool {
			g := f
			s.set(&g, n)
			_, ok := fits(g)
			return ok
		}
		if !try(s.low) {
			s.set(&f, s.low)
			continue
		}
		n := largest(s.low, s.top, try)
		s.set(&f, n)
		doc, _ := fits(f)
		return doc
	}
	doc, _ := fits(f)
	return doc
}

// largest is the largest n in [low, top] for which ok holds, given that
// ok(low) does and that ok holds up to some n and not above it. It gallops
// up from low, then bisects, so that the work follows the answer (a few
// dozen examples kept of thousands) rather than top.
func largest(low, top int, ok func(int) bool) int {
	good, bad := low, top+1
	for step := 1; good+step < bad; step *= 2 {
		if !ok(good + step) {
			bad = good + step
			break
		}
		good += step
	}
	// ok(good) holds and ok(bad) does not (or bad is past top).
	return good + sort.Search(bad-good-1, func(i int) bool { return !ok(good + 1 + i) })
}

// thousands writes n with commas between thousands: 65,536.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
