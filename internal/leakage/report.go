package leakage

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fieldsCompared says which fields were compared on each side, and how.
func fieldsCompared(r *Report, quote string) string {
	list := func(fs []string) string {
		if len(fs) == 0 {
			return "none"
		}
		return quote + strings.Join(fs, quote+", "+quote) + quote
	}
	s := "train " + list(r.Train.Fields)
	if len(r.Train.Fields) > 1 {
		s += " (whole row, and each field alone)"
	}
	if r.Test != nil {
		s += "; test " + list(r.Test.Fields)
		if len(r.Test.PromptFields) > 0 && len(r.Test.Fields) > 1 {
			s += " (whole row, and prompt part: " + list(r.Test.PromptFields) + ")"
		}
	}
	return s
}

// writeNgramTable writes benchmark-style n-gram rows as text.
func writeNgramTable(ew *errWriter, bs []BenchmarkContamination, name string) {
	// The name column widens for names longer than 11 (truthfulqa_mc1).
	w := 11
	for _, b := range bs {
		w = max(w, len(b.Benchmark))
	}
	ew.printf("  %-*s %6s %7s %13s %7s %9s %6s\n", w, name, "items", "checked", "contaminated", "clean", "not clean", "dirty")
	for _, b := range bs {
		ew.printf("  %-*s %6d %7d %6d %6s %7d %9d %6d\n", w, b.Benchmark, b.Items, b.Checked, b.Contaminated, pct(b.Share), b.Clean, b.NotClean, b.Dirty)
	}
	for _, b := range bs {
		if ids := b.DirtyIDs(); len(ids) > 0 {
			ew.printf("  %s not clean: %s\n", b.Benchmark, strings.Join(ids, " "))
		}
	}
}

func ngramN(r *Report) int {
	if r.Config.Ngram != nil {
		return r.Config.Ngram.N
	}
	return 13
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return shorten(s, n)
}

// WriteText writes the terminal report: the summary, then the pairs side by
// side (at most maxPairs; 0 = all kept in the report).
func WriteText(w io.Writer, r *Report, maxPairs int) error {
	ew := &errWriter{w: w}
	ew.printf("leakage: train %s (%d rows", r.Train.Name, r.Train.Rows)
	if r.Train.Empty > 0 {
		ew.printf(", %d empty", r.Train.Empty)
	}
	ew.printf(")")
	if r.Test != nil {
		ew.printf(", test %s (%d rows)", r.Test.Name, r.Test.Rows)
	}
	ew.printf("\nmethods: %s", strings.Join(r.Config.Methods, ", "))
	if contains(r.Config.Methods, MethodMinHash) {
		ew.printf(" · minhash %s %d-shingles, num_perm %d, seed %d, Jaccard ≥ %.2f (bands %d × rows %d)",
			r.Config.Shingling.Unit, r.Config.Shingling.K, r.Config.NumPerm, r.Config.Seed, r.Config.Threshold, r.Config.LSH.Bands, r.Config.LSH.Rows)
	}
	if r.Config.Semantic != nil {
		ew.printf(" · embed cosine ≥ %.2f (%s)", r.Config.Semantic.Cosine, r.Config.Semantic.Index)
	}
	ew.printf("\nfields: %s\n\n", fieldsCompared(r, ""))
	if r.Test != nil {
		s := r.Summary
		ew.printf("test items leaked: %d of %d (%s)\n", s.LeakedAny, s.TestItems, pct(s.LeakedShare))
		for _, k := range []string{KindExact, KindNear, KindNgram, KindSemantic} {
			if n, ok := s.Leaked[k]; ok {
				ew.printf("  %-9s %6d  %s\n", k, n, pct(float64(n)/float64(max(s.TestItems, 1))))
			}
		}
	}
	if len(r.Summary.Within) > 0 {
		ew.printf("duplicate pairs within a split:\n")
		for _, k := range sortedKeys(r.Summary.Within) {
			ew.printf("  %-20s %d\n", k, r.Summary.Within[k])
		}
	}
	if len(r.Benchmarks) > 0 {
		if r.Test != nil || len(r.Summary.Within) > 0 {
			ew.printf("\n")
		}
		ew.printf("benchmark contamination (%d-gram overlap; Llama 2 classes by contaminated-token share):\n", ngramN(r))
		writeNgramTable(ew, r.Benchmarks, "benchmark")
	}
	if tn := r.TestNgram; tn != nil {
		ew.printf("\ntest set n-gram overlap with the training set (%d-gram; Llama 2 classes by contaminated-token share, an item not clean from %s on counts as leaked):\n",
			ngramN(r), pct(r.Config.Ngram.CleanBelow))
		writeNgramTable(ew, []BenchmarkContamination{*tn}, "test set")
	}
	if len(r.Pairs) > 0 {
		ew.printf("\npairs:\n")
		for i, p := range r.Pairs {
			if maxPairs > 0 && i >= maxPairs {
				ew.printf("… %d more pairs (use --json for all kept pairs)\n", len(r.Pairs)-i)
				break
			}
			ew.printf("%-8s %-12s %.3f\n  %s:%d [%s] %s\n  %s:%d [%s] %s\n", p.Kind, p.Scope, p.Similarity,
				p.A.Split, p.A.Line, p.A.ID, oneLine(p.A.Text, 100), p.B.Split, p.B.Line, p.B.ID, oneLine(p.B.Text, 100))
		}
	}
	for _, k := range sortedKeys(r.Truncated) {
		ew.printf("(%d more %s pairs counted but not listed)\n", r.Truncated[k], k)
	}
	return ew.err
}

// WriteMarkdown writes the leakage section of a run report: the summary
// table, benchmark contamination with the ids of items that are not clean,
// and the pairs side by side.
func WriteMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("## Data leakage\n\n")
	ew.printf("Training set `%s` (%d rows)", r.Train.Name, r.Train.Rows)
	if r.Test != nil {
		ew.printf(", test set `%s` (%d rows)", r.Test.Name, r.Test.Rows)
	}
	ew.printf(". Methods: %s.", strings.Join(r.Config.Methods, ", "))
	if contains(r.Config.Methods, MethodMinHash) {
		ew.printf(" MinHash over %s %d-shingles, %d permutations (seed %d), Jaccard ≥ %.2f, LSH %d bands × %d rows.",
			r.Config.Shingling.Unit, r.Config.Shingling.K, r.Config.NumPerm, r.Config.Seed, r.Config.Threshold, r.Config.LSH.Bands, r.Config.LSH.Rows)
	}
	ew.printf(" Fields compared: %s.\n\n", fieldsCompared(r, "`"))
	if r.Test != nil {
		s := r.Summary
		ew.printf("| kind | test items leaked | share |\n|---|---:|---:|\n")
		for _, k := range []string{KindExact, KindNear, KindNgram, KindSemantic} {
			if n, ok := s.Leaked[k]; ok {
				ew.printf("| %s | %d | %s |\n", k, n, pct(float64(n)/float64(max(s.TestItems, 1))))
			}
		}
		ew.printf("| **any** | **%d of %d** | **%s** |\n\n", s.LeakedAny, s.TestItems, pct(s.LeakedShare))
	}
	if len(r.Summary.Within) > 0 {
		ew.printf("| duplicates within a split | pairs |\n|---|---:|\n")
		for _, k := range sortedKeys(r.Summary.Within) {
			ew.printf("| %s | %d |\n", k, r.Summary.Within[k])
		}
		ew.printf("\n")
	}
	if tn := r.TestNgram; tn != nil {
		ew.printf("### Test set n-gram overlap\n\n%d-gram overlap of each test item with the training set; an item not clean (from %s of its tokens on) counts as leaked.\n\n",
			ngramN(r), pct(r.Config.Ngram.CleanBelow))
		writeNgramMarkdown(ew, []BenchmarkContamination{*tn}, "test set")
	}
	if len(r.Benchmarks) > 0 {
		ew.printf("### Benchmark contamination\n\n")
		writeNgramMarkdown(ew, r.Benchmarks, "benchmark")
	}
	if len(r.Pairs) > 0 {
		ew.printf("### Pairs\n\n| kind | scope | similarity | A | B |\n|---|---|---:|---|---|\n")
		for _, p := range r.Pairs {
			ew.printf("| %s | %s | %.3f | %s:%d `%s` %s | %s:%d `%s` %s |\n", p.Kind, p.Scope, p.Similarity,
				p.A.Split, p.A.Line, mdEscape(p.A.ID), mdEscape(oneLine(p.A.Text, 120)), p.B.Split, p.B.Line, mdEscape(p.B.ID), mdEscape(oneLine(p.B.Text, 120)))
		}
		ew.printf("\n")
	}
	for _, k := range sortedKeys(r.Truncated) {
		ew.printf("%d more %s pairs were counted but not listed.\n", r.Truncated[k], k)
	}
	return ew.err
}

func writeNgramMarkdown(ew *errWriter, bs []BenchmarkContamination, name string) {
	ew.printf("| %s | items | checked | contaminated | share | clean | not clean | dirty |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", name)
	for _, b := range bs {
		ew.printf("| %s | %d | %d | %d | %s | %d | %d | %d |\n", mdEscape(b.Benchmark), b.Items, b.Checked, b.Contaminated, pct(b.Share), b.Clean, b.NotClean, b.Dirty)
	}
	ew.printf("\n")
	for _, b := range bs {
		if ids := b.DirtyIDs(); len(ids) > 0 {
			ew.printf("- %s, not clean: `%s`\n", mdEscape(b.Benchmark), strings.Join(ids, "`, `"))
		}
	}
	ew.printf("\n")
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "<", "&lt;", ">", "&gt;").Replace(s)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
