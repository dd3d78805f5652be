// Package pii finds personal data and secrets in text, and masks them.
//
// It owns the detectors behind the safety `pii_rate` metric, the PII data
// check and `--mask-pii`. Everything here is a pure function of its input.
//
// Exported API:
//
//	Find(text string) []Match              // every detection, sorted by Start, overlaps resolved
//	Mask(text string, kinds ...Kind) string // replace valid matches with "[KIND]"; idempotent
//	HasPII(text string, kinds ...Kind) bool // any valid match (of kinds; all kinds when none given)
//	Counts(text string) map[Kind]int        // valid matches per kind
//	Rate(texts []string, kinds ...Kind) float64 // share of texts with HasPII
//	Kinds() []Kind                          // every kind, in a fixed order
//	ParseKind(s string) (Kind, error)       // "email", "CARD", ... for flags
//	(Kind).Label() string                   // "[EMAIL]", the mask text
//	(Kind).Secret() bool                    // credentials rather than personal data
//
// A Match with Valid false is a near miss: a card number with a known issuer
// prefix whose Luhn check fails, or an IBAN of the right country and length
// whose mod-97 check fails. Only card and IBAN matches can be invalid; every
// other kind is reported only when all of its rules pass. Mask, HasPII,
// Counts and Rate look at valid matches only; a data check that wants to
// report typos can look at Find's invalid matches.
//
// The detectors are rule-based (no context words, no NLP model), written for
// this package; docs/safety.md ("PII") lists the rules and compares them with
// Microsoft Presidio's predefined recognisers on testdata/pii_cases.tsv.
package pii

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Kind names what a match is. Its string is the upper-case name used in
// masks ("[EMAIL]") and in metric keys.
type Kind string

// The kinds Find reports.
const (
	Email       Kind = "EMAIL"
	Phone       Kind = "PHONE"
	Card        Kind = "CARD"         // payment card number, Luhn-checked
	IBAN        Kind = "IBAN"         // mod-97-checked, per-country length
	SSN         Kind = "SSN"          // US social security number
	IP          Kind = "IP"           // IPv4 or IPv6 address
	AWSKey      Kind = "AWS_KEY"      // AWS access key id (AKIA…/ASIA…)
	GitHubToken Kind = "GITHUB_TOKEN" // ghp_, gho_, ghu_, ghs_, ghr_, github_pat_
	SlackToken  Kind = "SLACK_TOKEN"  // xox?- tokens and incoming-webhook URLs
	PrivateKey  Kind = "PRIVATE_KEY"  // -----BEGIN … PRIVATE KEY----- block
	JWT         Kind = "JWT"          // header.payload.signature with a JSON header
	APIKey      Kind = "API_KEY"      // OpenAI-style sk-… keys (also sk-ant-…)
)

var allKinds = []Kind{Email, Phone, Card, IBAN, SSN, IP, AWSKey, GitHubToken, SlackToken, PrivateKey, JWT, APIKey}

// Kinds returns every kind in a fixed order.
func Kinds() []Kind { return slices.Clone(allKinds) }

// Label is the text Mask puts in place of a match of this kind.
func (k Kind) Label() string { return "[" + string(k) + "]" }

// Secret reports whether the kind is a credential rather than personal data.
func (k Kind) Secret() bool {
	switch k {
	case AWSKey, GitHubToken, SlackToken, PrivateKey, JWT, APIKey:
		return true
	}
	return false
}

// ParseKind accepts a kind's name in any case ("email", "Card").
func ParseKind(s string) (Kind, error) {
	u := Kind(strings.ToUpper(strings.TrimSpace(s)))
	if slices.Contains(allKinds, u) {
		return u, nil
	}
	names := make([]string, len(allKinds))
	for i, k := range allKinds {
		names[i] = strings.ToLower(string(k))
	}
	return "", fmt.Errorf("unknown PII kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// Match is one detection. Start and End are byte offsets into the text given
// to Find, and Text is text[Start:End].
type Match struct {
	Kind  Kind
	Start int
	End   int
	Text  string
	// Valid is false only for a card whose Luhn check or an IBAN whose
	// mod-97 check fails; see the package doc.
	Valid bool
}

// specificity orders kinds when two overlapping candidates are equally long:
// the lower the number, the more specific the rule, the earlier it wins.
var specificity = map[Kind]int{
	PrivateKey: 0, JWT: 1, GitHubToken: 2, SlackToken: 3, AWSKey: 4, APIKey: 5,
	IBAN: 6, Card: 7, SSN: 8, Email: 9, IP: 10, Phone: 11,
}

// Find returns every detection in text, sorted by Start. Where candidates
// overlap, a valid one beats an invalid one, then the longer one wins, then
// the more specific kind (secrets, IBAN, card, SSN, e-mail, IP, phone).
func Find(text string) []Match {
	var c []Match
	c = findSecrets(text, c)
	c = findEmails(text, c)
	c = findIBANs(text, c)
	c = findIPv6(text, c)
	c = findNumeric(text, c)
	return resolve(c)
}

func resolve(c []Match) []Match {
	if len(c) <= 1 {
		return c
	}
	slices.SortFunc(c, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	// Candidates that overlap, directly or through others, form a cluster;
	// clusters are small (one to a few matches), so each is settled by
	// trying its members in priority order.
	out := c[:0:0]
	for i := 0; i < len(c); {
		j, end := i+1, c[i].End
		for j < len(c) && c[j].Start < end {
			end = max(end, c[j].End)
			j++
		}
		out = settle(c[i:j], out)
		i = j
	}
	return out
}

// settle appends to out the winners of one cluster, in Start order.
func settle(cl []Match, out []Match) []Match {
	if len(cl) == 1 {
		return append(out, cl[0])
	}
	cl = slices.Clone(cl)
	slices.SortFunc(cl, better)
	var kept []Match
	if len(cl) <= 16 {
		kept = keepPairwise(cl)
	} else {
		kept = keepByteMap(cl)
	}
	slices.SortFunc(kept, func(a, b Match) int { return cmp.Compare(a.Start, b.Start) })
	return append(out, kept...)
}

// keepPairwise keeps each candidate, in priority order, that overlaps none
// kept before it.
func keepPairwise(cl []Match) []Match {
	var kept []Match
	for _, m := range cl {
		if !slices.ContainsFunc(kept, func(k Match) bool { return k.Start < m.End && m.Start < k.End }) {
			kept = append(kept, m)
		}
	}
	return kept
}

// keepByteMap does what keepPairwise does with a map of the bytes taken, so
// that a long chain ("a@b.co@b.co@…" makes one e-mail per "@", each
// overlapping the next) costs the candidates' total length, not its square.
func keepByteMap(cl []Match) []Match {
	lo, hi := cl[0].Start, cl[0].End
	for _, m := range cl {
		lo, hi = min(lo, m.Start), max(hi, m.End)
	}
	taken := make([]bool, hi-lo)
	var kept []Match
	for _, m := range cl {
		if !slices.Contains(taken[m.Start-lo:m.End-lo], true) {
			kept = append(kept, m)
			for k := m.Start; k < m.End; k++ {
				taken[k-lo] = true
			}
		}
	}
	return kept
}

// better orders candidates by priority: valid first, then longer, then the
// more specific kind, then earlier.
func better(a, b Match) int {
	if a.Valid != b.Valid {
		if a.Valid {
			return -1
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(b.End-b.Start, a.End-a.Start),
		cmp.Compare(specificity[a.Kind], specificity[b.Kind]),
		cmp.Compare(a.Start, b.Start),
	)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isLower(b byte) bool { return b >= 'a' && b <= 'z' }
func isAlnum(b byte) bool { return isDigit(b) || isUpper(b) || isLower(b) }

// isWord is true for bytes that continue an identifier: letters, digits,
// '_' and any non-ASCII byte (so "é4111…" is not a boundary).
func isWord(b byte) bool { return isAlnum(b) || b == '_' || b >= 0x80 }

// byteAt returns text[i], or 0 outside the text.
func byteAt(text string, i int) byte {
	if i < 0 || i >= len(text) {
		return 0
	}
	return text[i]
}
