package scorer

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every entry's declared options, metrics and doc must be what its
// constructor and scorer do: the docs and `tunecheck scorers` are made from
// the entries alone.
func TestRegistryEntriesDescribeTheirScorers(t *testing.T) {
	es := Entries()
	if !slices.IsSortedFunc(es, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Entries is not sorted by name")
	}
	types := []string{"bool", "string", "integer", "number", "list of strings", "list of integers", "list of labels", "mapping", "label"}
	known := regexp.MustCompile(`unknown option zz_probe \(known: ([^)]*)\)`)
	for i, e := range es {
		if i > 0 && es[i-1].Name == e.Name {
			t.Errorf("%s is registered twice", e.Name)
		}
		if e.Doc == "" || strings.Contains(e.Doc, "\n") || strings.HasSuffix(e.Doc, ".") {
			t.Errorf("%s: Doc must be one line without a final period: %q", e.Name, e.Doc)
		}
		if e.New == nil || len(e.Metrics) == 0 {
			t.Errorf("%s: no constructor or no metrics", e.Name)
			continue
		}
		s, err := e.New(e.Example)
		if err != nil {
			t.Errorf("%s with its example options %v: %v", e.Name, e.Example, err)
			continue
		}
		if got := s.Metrics(); !reflect.DeepEqual(got, e.Metrics) {
			t.Errorf("%s: the scorer reports %+v, the entry declares %+v", e.Name, got, e.Metrics)
		}
		checkMetrics(t, e.Name, s)

		// The constructor lists the options it reads when it meets an
		// unknown one: they must be the documented ones.
		probe := maps.Clone(e.Example)
		if probe == nil {
			probe = Options{}
		}
		probe["zz_probe"] = true
		_, err = e.New(probe)
		if err == nil {
			t.Errorf("%s accepts an unknown option", e.Name)
			continue
		}
		var read []string
		if m := known.FindStringSubmatch(err.Error()); m != nil && m[1] != "" {
			read = strings.Split(m[1], ", ")
		} else if m == nil {
			t.Errorf("%s: unknown option error %q does not list the known ones", e.Name, err)
		}
		var documented []string
		for _, o := range e.Options {
			documented = append(documented, o.Name)
			if !slices.Contains(types, o.Type) || o.Doc == "" {
				t.Errorf("%s option %s: type %q (want one of %v) or no doc", e.Name, o.Name, o.Type, types)
			}
		}
		slices.Sort(documented)
		if !slices.Equal(read, documented) {
			t.Errorf("%s reads options %v but documents %v", e.Name, read, documented)
		}
	}
}

// checkMetrics checks that the declared metric kinds fit the scorer.
func checkMetrics(t *testing.T, name string, s Scorer) {
	t.Helper()
	_, isCorpus := s.(CorpusScorer)
	for _, m := range s.Metrics() {
		switch m.Direction {
		case Higher, Lower, Neutral:
		default:
			t.Errorf("%s/%s: direction %q", name, m.Name, m.Direction)
		}
		switch {
		case m.Corpus && (!isCorpus || m.Test != TestBootstrap):
			t.Errorf("%s/%s: a corpus metric needs a CorpusScorer and the bootstrap test (%T, %s)", name, m.Name, s, m.Test)
		case !m.Corpus && isCorpus:
			t.Errorf("%s/%s: a mean metric from a CorpusScorer (%T): the app would call its Stats", name, m.Name, s)
		case !m.Corpus && m.Binary && m.Test != TestMcNemar:
			t.Errorf("%s/%s: a 0/1 mean metric takes McNemar's test, not %s", name, m.Name, m.Test)
		case !m.Corpus && !m.Binary && m.Test != TestPermutation && m.Test != TestWilcoxon:
			t.Errorf("%s/%s: a mean metric takes the permutation or Wilcoxon test, not %s", name, m.Name, m.Test)
		}
	}
}

func TestMetricsOf(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		want []string
	}{
		{"rouge", Options{"types": []any{"rougeL", "rouge3"}}, []string{"rougeL", "rouge3"}},
		{"regex", Options{"pattern": "x", "name": "has_x"}, []string{"has_x"}},
		{"chrf", Options{"plus_plus": true}, []string{"chrf++"}},
		{"pass_at_k", Options{"k": []any{int64(1), int64(5), int64(10)}}, []string{"pass@1", "pass@5", "pass@10"}},
		{"squad", nil, []string{"squad_em", "squad_f1"}},
	} {
		ms, err := MetricsOf(c.name, c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := MetricNames(ms); !slices.Equal(got, c.want) {
			t.Errorf("%s %v: %v, want %v", c.name, c.o, got, c.want)
		}
	}
	if _, err := MetricsOf("f1", nil); err == nil || !strings.Contains(err.Error(), "labels is required") {
		t.Errorf("f1 without labels: %v", err)
	}
}

func TestSelect(t *testing.T) {
	es, err := Select("ter", "bleu")
	if err != nil || len(es) != 2 || es[0].Name != "ter" || es[1].Name != "bleu" {
		t.Fatalf("%v %v", es, err)
	}
	if _, err := Select("bleu", "blue"); err == nil || !strings.Contains(err.Error(), `unknown scorer "blue"`) {
		t.Fatal(err)
	}
}
