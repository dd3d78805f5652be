package pii

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// mixedText builds about n bytes of prose with numbers, dates, versions,
// code (with a Luhn-invalid order number that looks like a Visa card) and,
// in roughly one sentence in eight, a piece of PII or a secret.
// Seeded, so every run measures the same text.
func mixedText(n int) string {
	r := rand.New(rand.NewPCG(17, 2026))
	words := strings.Fields("the model answered question about data training loss rate was and " +
		"of in to for with on at by from version release order item table row score mean " +
		"delta base tuned prompt output refused complied user assistant system")
	filler := []string{
		"2024-01-05", "v1.2.3", "10.4.22", "$1,299.99", "3.5", "1,024", "ISBN 978-3-16-148410-0",
		"order 4000123412341235", "std::vector", "12:30:45", "1999", "#42", "x = f(a, b)",
		"https://example.com/docs/page?id=17", "0.82", "sha 3f2a9c1e7b",
	}
	pii := []string{
		"jane.doe@example.com", "+1 (415) 555-2671", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
		"536-22-1234", "192.168.1.1", "2001:db8::ff00:42:8329", "AKIAIOSFODNN7EXAMPLE",
		"ghp_0123456789abcdefghijABCDEFGHIJ012345", "020 7946 0958",
	}
	var b strings.Builder
	for b.Len() < n {
		for range 6 + r.IntN(10) {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
			if r.IntN(6) == 0 {
				b.WriteString(filler[r.IntN(len(filler))])
				b.WriteByte(' ')
			}
		}
		if r.IntN(8) == 0 {
			b.WriteString(pii[r.IntN(len(pii))])
			b.WriteByte(' ')
		}
		b.WriteString(".\n")
	}
	return b.String()[:n]
}

func BenchmarkFind(b *testing.B) {
	text := mixedText(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Find(text)
	}
}

func BenchmarkMask(b *testing.B) {
	text := mixedText(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		Mask(text)
	}
}

// TestMixedText checks the benchmark text finds what it planted and that
// Find's invariants hold on a large input.
func TestMixedText(t *testing.T) {
	text := mixedText(1 << 20)
	ms := Find(text)
	checkInvariants(t, text, ms)
	n := Counts(text)
	for _, k := range []Kind{Email, Phone, Card, IBAN, SSN, IP, AWSKey, GitHubToken} {
		if n[k] == 0 {
			t.Errorf("no %s found in the benchmark text", k)
		}
	}
	if HasPII(Mask(text)) {
		t.Error("masked benchmark text still has PII")
	}
}

func checkInvariants(t *testing.T, text string, ms []Match) {
	t.Helper()
	prevEnd := 0
	for _, m := range ms {
		if m.Start < prevEnd || m.End <= m.Start || m.End > len(text) {
			t.Fatalf("bad or overlapping span %+v after end %d", m, prevEnd)
		}
		if text[m.Start:m.End] != m.Text {
			t.Fatalf("Text %q != text[%d:%d]", m.Text, m.Start, m.End)
		}
		if !m.Valid && m.Kind != Card && m.Kind != IBAN {
			t.Fatalf("invalid %s match %q: only cards and IBANs may be invalid", m.Kind, m.Text)
		}
		prevEnd = m.End
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"jane+news@example.co.uk", "+44 (0)20 7946 0958", "4111 1111 1111 1111 2024",
		"DE89 3704 0044 0532 0130 00", "::ffff:192.0.2.128", "10.0.0.0.1", "-----BEGIN RSA PRIVATE KEY-----\nAAAA",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "(415) 555-2671", "a@b.c@d.com", "+", "((1", "0 0-0.0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms := Find(s)
		checkInvariants(t, s, ms)
		m := Mask(s)
		if Mask(m) != m {
			t.Fatalf("Mask not idempotent on %q: %q then %q", s, m, Mask(m))
		}
		if utf8.ValidString(s) && !utf8.ValidString(m) {
			t.Fatalf("Mask broke UTF-8: %q -> %q", s, m)
		}
	})
}

// TestPathological runs Find and Mask on 256 KiB of repetitive inputs that
// could make a careless scanner quadratic; a regression shows up as a test
// that takes minutes instead of milliseconds (no time limit is asserted: the
// shared machine's load would make one flaky; -v prints the durations).
func TestPathological(t *testing.T) {
	for _, unit := range []string{
		"@", "a@", "a.", "0 ", "0-", "0.", "1.1.", ":", "a:", "1:", "gh", "ghp_", "sk-", "eyJ", "eyJa.",
		"AKIA", "DE89", "DE89 ", "-----BEGIN ", "-----BEGIN RSA PRIVATE KEY-----\n", "+1 ", "(", "4111 ",
		"x@y.", "xoxb-", "a@b.co", "1.1.1.1.", "4111 1111 1111 1111 ",
	} {
		text := strings.Repeat(unit, (256<<10)/len(unit))
		start := time.Now()
		ms := Find(text)
		checkInvariants(t, text, ms)
		Mask(text)
		t.Logf("%q repeated: %v", unit, time.Since(start))
	}
}
