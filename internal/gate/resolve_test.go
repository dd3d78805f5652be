package gate

import "testing"

func TestResolve(t *testing.T) {
	// One model, 10 items: 2 failed, 1 empty output, 3 without a reference.
	single := Sources{
		Candidate: Estimate{N: 8, Mean: 0.5, Low: 0.4, High: 0.6},
		Counts:    Counts{Items: 10, Failed: 2, Empty: 1, NoReference: 3},
	}
	compared := Sources{
		Compared:       true,
		Candidate:      Estimate{N: 9, Mean: 0.5, Low: 0.4, High: 0.6},
		Baseline:       Estimate{N: 10, Mean: 0.45, Low: 0.35, High: 0.55},
		Delta:          Estimate{N: 9, Mean: 0.05, Low: -0.01, High: 0.11},
		PValue:         0.2,
		PAdjusted:      0.4,
		Counts:         Counts{Items: 10, Failed: 1},
		BaselineCounts: Counts{Items: 10},
	}
	allFailed := Sources{Counts: Counts{Items: 5, Failed: 5}}
	candFailed := compared
	candFailed.Candidate, candFailed.Delta, candFailed.Counts = Estimate{}, Estimate{}, Counts{Items: 10, Failed: 10}
	baseFailed := compared
	baseFailed.Baseline, baseFailed.Delta, baseFailed.BaselineCounts = Estimate{}, Estimate{}, Counts{Items: 10, Failed: 10}
	disjoint := compared // each side failed half the items, never the same ones
	disjoint.Delta, disjoint.Counts, disjoint.BaselineCounts = Estimate{}, Counts{Items: 10, Failed: 5}, Counts{Items: 10, Failed: 5}
	unpaired := compared // nothing failed, yet no pairs: not the endpoint's fault
	unpaired.Delta, unpaired.Counts = Estimate{}, Counts{Items: 10}
	partial := Sources{Counts: Counts{Items: 10, Failed: 3}}

	cases := []struct {
		name  string
		field string
		s     Sources
		want  Value
	}{
		{"one model: value", "value", single, Value{X: 0.5, Low: 0.4, High: 0.6, HasCI: true, Exists: true}},
		{"one model: candidate is the model", "candidate", single, Value{X: 0.5, Low: 0.4, High: 0.6, HasCI: true, Exists: true}},
		{"one model: value.ci_low", "value.ci_low", single, Value{X: 0.4, Exists: true}},
		{"one model: candidate.ci_high", "candidate.ci_high", single, Value{X: 0.6, Exists: true}},
		{"one model: delta", "delta", single, Value{Why: "no comparison in this run: delta needs a baseline and a candidate (compare.baseline, compare.candidate); gate on value or candidate instead"}},
		{"one model: baseline", "baseline.ci_low", single, Value{Why: "no comparison in this run: baseline.ci_low needs a baseline and a candidate (compare.baseline, compare.candidate); gate on value or candidate instead"}},
		{"one model: p_value", "p_value", single, Value{Why: "no comparison in this run: p_value needs a baseline and a candidate (compare.baseline, compare.candidate); gate on value or candidate instead"}},
		{"failed", "failed", single, Value{X: 2, Exists: true}},
		{"failed_rate", "failed_rate", single, Value{X: 0.2, Exists: true}},
		{"empty", "empty", single, Value{X: 1, Exists: true}},
		{"empty_rate", "empty_rate", single, Value{X: 0.1, Exists: true}},
		{"no_reference", "no_reference", single, Value{X: 3, Exists: true}},
		{"rate of no items", "failed_rate", Sources{}, Value{Why: "the task has no items"}},
		{"compared: value is the candidate", "value", compared, Value{X: 0.5, Low: 0.4, High: 0.6, HasCI: true, Exists: true}},
		{"compared: baseline", "baseline", compared, Value{X: 0.45, Low: 0.35, High: 0.55, HasCI: true, Exists: true}},
		{"compared: baseline.ci_high", "baseline.ci_high", compared, Value{X: 0.55, Exists: true}},
		{"compared: delta", "delta", compared, Value{X: 0.05, Low: -0.01, High: 0.11, HasCI: true, Exists: true}},
		{"compared: delta.ci_low", "delta.ci_low", compared, Value{X: -0.01, Exists: true}},
		{"compared: p_value", "p_value", compared, Value{X: 0.2, Exists: true}},
		{"compared: p_adjusted", "p_adjusted", compared, Value{X: 0.4, Exists: true}},
		{"compared: failed counts the candidate", "failed", compared, Value{X: 1, Exists: true}},
		{"every item failed", "value", allFailed, Value{Failed: true, Why: "no scored items: 5 of 5 failed"}},
		{"every item failed: ci end", "value.ci_low", allFailed, Value{Failed: true, Why: "no scored items: 5 of 5 failed"}},
		{"every item failed: counts still exist", "failed_rate", allFailed, Value{X: 1, Exists: true}},
		{"some failed, metric unscored", "value", partial, Value{Why: "no scored items for this metric (3 of 10 items failed)"}},
		{"no items", "value", Sources{}, Value{Why: "no scored items: the task has no items"}},
		{"candidate failed everything: delta", "delta", candFailed, Value{Failed: true, Why: "no scored items: 10 of 10 failed (candidate)"}},
		{"candidate failed everything: candidate", "candidate", candFailed, Value{Failed: true, Why: "no scored items: 10 of 10 failed (candidate)"}},
		{"candidate failed everything: baseline still exists", "baseline", candFailed, Value{X: 0.45, Low: 0.35, High: 0.55, HasCI: true, Exists: true}},
		{"baseline failed everything: p_adjusted", "p_adjusted", baseFailed, Value{Failed: true, Why: "no scored items: 10 of 10 failed (baseline)"}},
		{"baseline failed everything: baseline", "baseline", baseFailed, Value{Failed: true, Why: "no scored items: 10 of 10 failed (baseline)"}},
		{"no pairs: failures on both sides", "delta", disjoint, Value{Failed: true, Why: "no paired items: each of the 10 items failed on the baseline or the candidate (baseline 5 failed, candidate 5 failed)"}},
		{"no pairs without failures", "delta.ci_high", unpaired, Value{Why: "no paired items for this metric"}},
		{"unknown field", "mean", single, Value{Why: `unknown field "mean"; ` + fieldsList}},
	}
	for _, c := range cases {
		if got := Resolve(c.field, c.s); got != c.want {
			t.Errorf("%s: Resolve(%q)\n got %+v\nwant %+v", c.name, c.field, got, c.want)
		}
	}
}

// Resolve feeds Check: the statuses a report will show.
func TestResolveThroughCheck(t *testing.T) {
	single := Sources{
		Candidate: Estimate{N: 8, Mean: 0.5, Low: 0.4, High: 0.6},
		Counts:    Counts{Items: 10, Failed: 2},
	}
	cases := []struct {
		expr   string
		s      Sources
		want   Status
		reason string
	}{
		{"t.m.value >= 0.3", single, Pass, "0.5, interval [0.4, 0.6] is entirely >= 0.3"},
		{"t.m.candidate >= 0.5", single, Inconclusive, "0.5, interval [0.4, 0.6] straddles 0.5: more items are needed to decide"},
		{"t.m.value.ci_low >= 0.5", single, Fail, "0.4 is not >= 0.5"},
		{"t.failed_rate <= 0.1", single, Fail, "0.2 is not <= 0.1"},
		{"t.failed <= 2", single, Pass, "2 <= 2"},
		{"t.m.delta >= 0", single, Fail, "no comparison in this run: delta needs a baseline and a candidate (compare.baseline, compare.candidate); gate on value or candidate instead"},
		{"t.m.value >= 0", Sources{Counts: Counts{Items: 4, Failed: 4}}, Error, "no scored items: 4 of 4 failed"},
	}
	for _, c := range cases {
		g, err := Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		r := Check(g, func(g Gate) Value { return Resolve(g.Field, c.s) })
		if r.Status != c.want || r.Reason != c.reason {
			t.Errorf("%s: %s (%s), want %s (%s)", c.expr, r.Status, r.Reason, c.want, c.reason)
		}
	}
}

func TestNoTaskNoMetric(t *testing.T) {
	cases := []struct {
		got  Value
		want string
	}{
		{NoTask("tikets", []string{"qa", "tickets"}), `no task "tikets" in this run; known: qa, tickets (did you mean tickets?)`},
		{NoTask("x", nil), `no task "x" in this run; the run has no tasks`},
		{NoMetric("qa", "rougel", []string{"token_f1", "rougeL"}), `no metric "rougel" in task qa; known: token_f1, rougeL (did you mean rougeL?)`},
		{NoMetric("qa", "acc", nil), `no metric "acc" in task qa; the task has no metrics`},
	}
	for _, c := range cases {
		if c.got.Exists || c.got.Failed || c.got.Why != c.want {
			t.Errorf("got %+v, want Why %q", c.got, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	cases := []struct {
		s     string
		known []string
		want  string
	}{
		{"tokenf1", []string{"bleu", "token_f1"}, "token_f1"},
		{"delat", estimates, "delta"},
		{"VALUE", estimates, "value"},
		{"t", []string{"qa", "mmlu"}, ""},
		{"bleu", []string{"rouge1"}, ""},
		{"acc", []string{"ac", "acc_norm"}, "ac"},
	}
	for _, c := range cases {
		if got := suggest(c.s, c.known); got != c.want {
			t.Errorf("suggest(%q, %v) = %q, want %q", c.s, c.known, got, c.want)
		}
	}
}
