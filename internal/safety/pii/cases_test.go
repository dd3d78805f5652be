package pii

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/presidio_summary.txt")

type tricky struct {
	id, text, ours, presidio, note string
	line                           int
}

func unescape(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }

func loadCases(t *testing.T) []tricky {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "pii_cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []tricky
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	header := true
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			t.Fatalf("pii_cases.tsv line %d: %d columns, want 5", n, len(c))
		}
		cs = append(cs, tricky{c[0], unescape(c[1]), unescape(c[2]), unescape(c[3]), c[4], n})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cs
}

// render writes matches in the table's notation.
func render(ms []Match) string {
	if len(ms) == 0 {
		return "-"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		bang := ""
		if !m.Valid {
			bang = "!"
		}
		parts[i] = string(m.Kind) + bang + ":" + m.Text
	}
	return strings.Join(parts, " ; ")
}

func TestTrickyCases(t *testing.T) {
	cs := loadCases(t)
	if len(cs) < 60 {
		t.Fatalf("%d cases, want at least 60", len(cs))
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.id] {
			t.Errorf("line %d: duplicate id %s", c.line, c.id)
		}
		seen[c.id] = true
		t.Run(c.id, func(t *testing.T) {
			ms := Find(c.text)
			if got := render(ms); got != c.ours {
				t.Errorf("Find(%q)\n got %s\nwant %s", c.text, got, c.ours)
			}
			for _, m := range ms {
				if c.text[m.Start:m.End] != m.Text {
					t.Errorf("%s: Text %q != text[%d:%d]", m.Kind, m.Text, m.Start, m.End)
				}
			}
			masked := Mask(c.text)
			if Mask(masked) != masked {
				t.Errorf("Mask not idempotent: %q -> %q", masked, Mask(masked))
			}
			if HasPII(masked) {
				t.Errorf("masked text still has PII: %q", masked)
			}
			wantHas := false
			for _, m := range ms {
				wantHas = wantHas || m.Valid
			}
			if HasPII(c.text) != wantHas {
				t.Errorf("HasPII = %v, want %v", !wantHas, wantHas)
			}
		})
	}
}

// presidioKind maps Presidio's entity names to ours.
var presidioKind = map[string]Kind{
	"EMAIL_ADDRESS": Email, "PHONE_NUMBER": Phone, "CREDIT_CARD": Card,
	"IBAN_CODE": IBAN, "US_SSN": SSN, "IP_ADDRESS": IP,
}

// TestPresidioSummary counts where our answer and Presidio's differ, by
// kind, and checks the counts against testdata/presidio_summary.txt (quoted
// in docs/safety.md). Refresh with go test -run PresidioSummary -update.
func TestPresidioSummary(t *testing.T) {
	type tally struct{ agree, differ, unsure int }
	by := map[string]*tally{}
	var lines []string
	for _, c := range loadCases(t) {
		group, _, _ := strings.Cut(c.id, "-")
		if by[group] == nil {
			by[group] = &tally{}
		}
		p := strings.TrimSpace(c.presidio)
		unsure := strings.HasSuffix(p, " ?")
		p = strings.TrimSuffix(p, " ?")
		var theirs []string
		if p != "-" {
			for _, it := range strings.Split(p, " ; ") {
				ent, txt, ok := strings.Cut(it, ":")
				k, known := presidioKind[ent]
				if !ok || !known {
					t.Fatalf("line %d: bad presidio item %q", c.line, it)
				}
				theirs = append(theirs, string(k)+":"+txt)
			}
		}
		// Presidio never reports a failed checksum, so ours count without them;
		// it has no credential recognisers, so every secret we find differs.
		var ours []string
		for _, m := range Find(c.text) {
			if m.Valid {
				ours = append(ours, string(m.Kind)+":"+m.Text)
			}
		}
		slices.Sort(theirs)
		slices.Sort(ours)
		switch {
		case unsure:
			by[group].unsure++
		case slices.Equal(ours, theirs):
			by[group].agree++
		default:
			by[group].differ++
			lines = append(lines, c.id)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %6s %6s %6s\n", "group", "agree", "differ", "unsure")
	groups := make([]string, 0, len(by))
	for g := range by {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	var tot tally
	for _, g := range groups {
		x := by[g]
		fmt.Fprintf(&b, "%-8s %6d %6d %6d\n", g, x.agree, x.differ, x.unsure)
		tot.agree += x.agree
		tot.differ += x.differ
		tot.unsure += x.unsure
	}
	fmt.Fprintf(&b, "%-8s %6d %6d %6d\n", "total", tot.agree, tot.differ, tot.unsure)
	fmt.Fprintf(&b, "differ: %s\n", strings.Join(lines, " "))
	path := filepath.Join("testdata", "presidio_summary.txt")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run PresidioSummary -update)", err)
	}
	if string(want) != b.String() {
		t.Errorf("summary changed; got\n%s\nwant\n%s", b.String(), want)
	}
}
