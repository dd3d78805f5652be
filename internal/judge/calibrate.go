package judge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Calibration of a judge: its agreement with human labels and with itself
// (test-retest, one judge grading the same items several times). The file
// formats are JSONL, defined in docs/judge.md ("Calibration").

// CalibrationJudgment is one line of a judgments file: a score or a pairwise
// choice for an item, optionally naming the judge and the sample number.
type CalibrationJudgment struct {
	ID    string
	Judge string
	// Sample numbers repeated gradings of one item by one judge; without a
	// "sample" field it is the line's rank among the item's lines.
	Sample int
	Value  CalibrationValue
	Line   int
}

// CalibrationLabel is one line of a human labels file.
type CalibrationLabel struct {
	ID        string
	Annotator string
	Value     CalibrationValue
	Line      int
}

// CalibrationValue is a score or a choice ("A", "B" or "tie").
type CalibrationValue struct {
	Score   float64
	Choice  string
	IsScore bool
}

func (v CalibrationValue) String() string {
	if v.IsScore {
		return strconv.FormatFloat(v.Score, 'g', -1, 64)
	}
	return v.Choice
}

// calibrationChoices are the pairwise verdicts, in confusion-matrix order.
var calibrationChoices = []string{"A", "B", "tie"}

// ReadCalibrationJudgments reads a judgments JSONL file.
func ReadCalibrationJudgments(path string) ([]CalibrationJudgment, error) {
	var out []CalibrationJudgment
	next := map[[2]string]int{}
	seen := map[[2]string]map[int]int{}
	err := calibrationLines(path, func(line int, f map[string]json.RawMessage) error {
		j := CalibrationJudgment{Line: line}
		var err error
		if j.ID, err = calibrationID(f); err != nil {
			return err
		}
		if j.Judge, err = calibrationString(f, "judge"); err != nil {
			return err
		}
		score, hasScore := f["score"]
		choice, hasChoice := f["choice"]
		switch {
		case hasScore && hasChoice:
			return errors.New(`both "score" and "choice": a judgment is one or the other`)
		case hasScore:
			if j.Value, err = calibrationParseValue(score, true, false); err != nil {
				return fmt.Errorf(`field "score": %w`, err)
			}
		case hasChoice:
			if j.Value, err = calibrationParseValue(choice, false, true); err != nil {
				return fmt.Errorf(`field "choice": %w`, err)
			}
		default:
			return errors.New(`no "score" (a number) or "choice" ("A", "B" or "tie")`)
		}
		key := [2]string{j.Judge, j.ID}
		j.Sample = next[key]
		if raw, ok := f["sample"]; ok {
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return fmt.Errorf(`field "sample": want an integer, got %s`, raw)
			}
			j.Sample = n
		}
		next[key] = j.Sample + 1
		if seen[key] == nil {
			seen[key] = map[int]int{}
		}
		if prev, dup := seen[key][j.Sample]; dup {
			return fmt.Errorf("item %q sample %d of judge %q is already on line %d", j.ID, j.Sample, j.Judge, prev)
		}
		seen[key][j.Sample] = line
		out = append(out, j)
		return nil
	})
	return out, err
}

// ReadCalibrationLabels reads a human labels JSONL file.
func ReadCalibrationLabels(path string) ([]CalibrationLabel, error) {
	var out []CalibrationLabel
	err := calibrationLines(path, func(line int, f map[string]json.RawMessage) error {
		l := CalibrationLabel{Line: line}
		var err error
		if l.ID, err = calibrationID(f); err != nil {
			return err
		}
		if l.Annotator, err = calibrationString(f, "annotator"); err != nil {
			return err
		}
		raw, ok := f["label"]
		if !ok {
			return errors.New(`no "label" (a number, or "A", "B" or "tie")`)
		}
		if l.Value, err = calibrationParseValue(raw, true, true); err != nil {
			return fmt.Errorf(`field "label": %w`, err)
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// calibrationLines calls fn with each non-blank line's JSON object; errors
// name the file and line.
func calibrationLines(path string, fn func(line int, f map[string]json.RawMessage) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s line %d: not a JSON object: %w", path, line, err)
		}
		if err := fn(line, f); err != nil {
			return fmt.Errorf("%s line %d: %w", path, line, err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: no lines", path)
	}
	return nil
}

// calibrationID reads "id": a string or an integer (kept as its text).
func calibrationID(f map[string]json.RawMessage) (string, error) {
	raw, ok := f["id"]
	if !ok {
		return "", errors.New(`no "id"`)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := n.Int64(); err == nil {
			return n.String(), nil
		}
	}
	return "", fmt.Errorf(`field "id": want a non-empty string or an integer, got %s`, raw)
}

func calibrationString(f map[string]json.RawMessage, key string) (string, error) {
	raw, ok := f[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("field %q: want a string, got %s", key, raw)
	}
	return s, nil
}

func calibrationParseValue(raw json.RawMessage, number, choice bool) (CalibrationValue, error) {
	var want []string
	if number {
		want = append(want, "a number")
	}
	if choice {
		want = append(want, `"A", "B" or "tie"`)
	}
	if number {
		var x float64
		if json.Unmarshal(raw, &x) == nil {
			return CalibrationValue{Score: x, IsScore: true}, nil
		}
	}
	if choice {
		var s string
		if json.Unmarshal(raw, &s) == nil && slices.Contains(calibrationChoices, s) {
			return CalibrationValue{Choice: s}, nil
		}
	}
	return CalibrationValue{}, fmt.Errorf("want %s, got %s", strings.Join(want, " or "), raw)
}

// CalibrationReport is the calibration of one judge.
type CalibrationReport struct {
	Judge string `json:"judge"`
	// Kind is "score" or "choice".
	Kind   string             `json:"kind"`
	Items  int                `json:"items"`
	Human  *CalibrationHuman  `json:"human,omitempty"`
	Retest *CalibrationRetest `json:"retest,omitempty"`
}

// CalibrationHuman is a judge's agreement with human labels. Each human label
// is one comparison with the judge's first sample of that item, so an item
// labelled by three annotators counts three times. Figures are null where
// undefined (e.g. kappa when both sides use one label only).
type CalibrationHuman struct {
	Pairs      int `json:"pairs"`
	Items      int `json:"items"`
	Annotators int `json:"annotators"`
	// Unlabelled are judged items without a label; Unjudged labelled items the judge did not grade.
	Unlabelled int `json:"unlabelled"`
	Unjudged   int `json:"unjudged"`
	// Agreement is the share of pairs where judge and human give the same value.
	Agreement *float64 `json:"agreement"`
	// AgreementNoTies leaves out pairs where either says tie (choices only).
	AgreementNoTies *float64 `json:"agreement_without_ties,omitempty"`
	PairsNoTies     int      `json:"pairs_without_ties,omitempty"`
	Kappa           *float64 `json:"cohen_kappa"`
	KappaQuadratic  *float64 `json:"cohen_kappa_quadratic,omitempty"`
	Spearman        *float64 `json:"spearman,omitempty"`
	Kendall         *float64 `json:"kendall_tau_b,omitempty"`
	MeanAbsDiff     *float64 `json:"mean_abs_diff,omitempty"`
	// Confusion counts pairs: rows are the human's values, columns the judge's.
	Confusion CalibrationConfusion `json:"confusion"`
	// HumanAlpha is Krippendorff's alpha among the annotators (nominal for
	// choices, interval for scores) over the HumanItems items labelled twice or more.
	HumanAlpha *float64 `json:"human_alpha,omitempty"`
	HumanItems int      `json:"human_items,omitempty"`
}

// CalibrationConfusion is a confusion matrix over Values.
type CalibrationConfusion struct {
	Values []string `json:"values"`
	Counts [][]int  `json:"counts"`
}

// CalibrationRetest is a judge's agreement with itself over items it graded
// more than once.
type CalibrationRetest struct {
	Items int `json:"items"`
	// Samples is the most gradings of one item.
	Samples int `json:"samples"`
	// AllAgree counts items whose samples are all equal.
	AllAgree     int      `json:"all_agree"`
	AllAgreeRate *float64 `json:"all_agree_rate"`
	// PairAgreement is the share of pairs of samples of one item that are equal.
	PairAgreement *float64 `json:"pair_agreement"`
	// Alpha is Krippendorff's alpha with samples as coders: nominal, and
	// ordinal and interval for scores.
	AlphaNominal  *float64 `json:"alpha_nominal"`
	AlphaOrdinal  *float64 `json:"alpha_ordinal,omitempty"`
	AlphaInterval *float64 `json:"alpha_interval,omitempty"`
	// FleissKappa treats score values as categories; only when every item has Samples gradings.
	FleissKappa *float64 `json:"fleiss_kappa,omitempty"`
	// MeanSD is the mean over items of the samples' standard deviation (ddof 1), scores only.
	MeanSD *float64 `json:"mean_sd,omitempty"`
}

func calibrationNum(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// Calibrate computes one report per judge (in order of first appearance),
// comparing with the human labels when there are any.
func Calibrate(js []CalibrationJudgment, ls []CalibrationLabel) ([]CalibrationReport, error) {
	if len(js) == 0 {
		return nil, errors.New("no judgments")
	}
	isScore := js[0].Value.IsScore
	for _, j := range js {
		if j.Value.IsScore != isScore {
			return nil, fmt.Errorf("judgments line %d: a %s, but line %d is a %s: calibrate one kind at a time",
				j.Line, calibrationKind(j.Value.IsScore), js[0].Line, calibrationKind(isScore))
		}
	}
	for _, l := range ls {
		if l.Value.IsScore != isScore {
			return nil, fmt.Errorf("labels line %d: label %s is a %s, but the judgments are %ss", l.Line, l.Value, calibrationKind(l.Value.IsScore), calibrationKind(isScore))
		}
	}
	var judges []string
	byJudge := map[string][]CalibrationJudgment{}
	for _, j := range js {
		if _, ok := byJudge[j.Judge]; !ok {
			judges = append(judges, j.Judge)
		}
		byJudge[j.Judge] = append(byJudge[j.Judge], j)
	}
	var out []CalibrationReport
	for _, name := range judges {
		out = append(out, calibrateJudge(name, byJudge[name], ls, isScore))
	}
	return out, nil
}

func calibrationKind(isScore bool) string {
	if isScore {
		return "score"
	}
	return "choice"
}

func calibrateJudge(name string, js []CalibrationJudgment, ls []CalibrationLabel, isScore bool) CalibrationReport {
	var ids []string
	samples := map[string][]CalibrationJudgment{}
	for _, j := range js {
		if _, ok := samples[j.ID]; !ok {
			ids = append(ids, j.ID)
		}
		samples[j.ID] = append(samples[j.ID], j)
	}
	for _, id := range ids {
		sort.SliceStable(samples[id], func(a, b int) bool { return samples[id][a].Sample < samples[id][b].Sample })
	}
	r := CalibrationReport{Judge: name, Kind: calibrationKind(isScore), Items: len(ids)}
	r.Human = calibrateHuman(ids, samples, ls, isScore)
	r.Retest = calibrateRetest(ids, samples, isScore)
	return r
}

func calibrateHuman(ids []string, samples map[string][]CalibrationJudgment, ls []CalibrationLabel, isScore bool) *CalibrationHuman {
	if len(ls) == 0 {
		return nil
	}
	h := &CalibrationHuman{}
	var judge, human []CalibrationValue
	labelled := map[string][]float64{}
	var labelledIDs []string
	annotators := map[string]bool{}
	for _, l := range ls {
		annotators[l.Annotator] = true
		if _, ok := labelled[l.ID]; !ok {
			labelledIDs = append(labelledIDs, l.ID)
		}
		labelled[l.ID] = append(labelled[l.ID], calibrationNumeric(l.Value))
		s, ok := samples[l.ID]
		if !ok {
			continue
		}
		judge = append(judge, s[0].Value)
		human = append(human, l.Value)
	}
	h.Annotators = len(annotators)
	items := map[string]bool{}
	for _, l := range ls {
		if _, ok := samples[l.ID]; ok {
			items[l.ID] = true
		}
	}
	h.Items = len(items)
	for _, id := range ids {
		if _, ok := labelled[id]; !ok {
			h.Unlabelled++
		}
	}
	for _, id := range labelledIDs {
		if _, ok := samples[id]; !ok {
			h.Unjudged++
		}
	}
	h.Pairs = len(judge)
	// Agreement among the annotators themselves.
	var units [][]float64
	for _, id := range labelledIDs {
		if len(labelled[id]) >= 2 {
			units = append(units, labelled[id])
		}
	}
	if len(units) > 0 {
		m := AgreementNominal
		if isScore {
			m = AgreementInterval
		}
		if a, err := AgreementKrippendorff(units, m); err == nil {
			h.HumanAlpha = calibrationNum(a)
		}
		h.HumanItems = len(units)
	}
	if h.Pairs == 0 {
		return h
	}
	if isScore {
		js, hs := calibrationScores(judge), calibrationScores(human)
		a, _, _ := AgreementPercent(js, hs, false, nil)
		h.Agreement = calibrationNum(a)
		k, _ := KappaCohen(hs, js, KappaUnweighted)
		h.Kappa = calibrationNum(k)
		kq, _ := KappaCohen(hs, js, KappaQuadratic)
		h.KappaQuadratic = calibrationNum(kq)
		if len(js) >= 2 {
			s, _ := AgreementSpearman(hs, js)
			h.Spearman = calibrationNum(s)
			t, _ := AgreementKendallTauB(hs, js)
			h.Kendall = calibrationNum(t)
		}
		var mad float64
		for i := range js {
			mad += math.Abs(js[i] - hs[i])
		}
		h.MeanAbsDiff = calibrationNum(mad / float64(len(js)))
		vals := slices.Concat(js, hs)
		slices.Sort(vals)
		vals = slices.Compact(vals)
		h.Confusion = calibrationConfusion(vals, hs, js)
		return h
	}
	jc, hc := calibrationChoiceList(judge), calibrationChoiceList(human)
	isTie := func(s string) bool { return s == "tie" }
	a, _, _ := AgreementPercent(jc, hc, false, isTie)
	h.Agreement = calibrationNum(a)
	a2, n2, _ := AgreementPercent(jc, hc, true, isTie)
	h.AgreementNoTies, h.PairsNoTies = calibrationNum(a2), n2
	k, _ := KappaCohen(hc, jc, KappaUnweighted)
	h.Kappa = calibrationNum(k)
	idx := map[string]int{}
	for i, c := range calibrationChoices {
		idx[c] = i
	}
	h.Confusion = CalibrationConfusion{Values: calibrationChoices, Counts: make([][]int, len(calibrationChoices))}
	for i := range h.Confusion.Counts {
		h.Confusion.Counts[i] = make([]int, len(calibrationChoices))
	}
	for i := range jc {
		h.Confusion.Counts[idx[hc[i]]][idx[jc[i]]]++
	}
	return h
}

func calibrationConfusion(vals, rows, cols []float64) CalibrationConfusion {
	c := CalibrationConfusion{Counts: make([][]int, len(vals))}
	for i, v := range vals {
		c.Values = append(c.Values, strconv.FormatFloat(v, 'g', -1, 64))
		c.Counts[i] = make([]int, len(vals))
	}
	for i := range rows {
		r, _ := slices.BinarySearch(vals, rows[i])
		k, _ := slices.BinarySearch(vals, cols[i])
		c.Counts[r][k]++
	}
	return c
}

func calibrationScores(vs []CalibrationValue) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = v.Score
	}
	return out
}

func calibrationChoiceList(vs []CalibrationValue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Choice
	}
	return out
}

// calibrationNumeric maps a value to a number for Krippendorff's alpha:
// a score is itself, a choice its index in calibrationChoices (nominal only).
func calibrationNumeric(v CalibrationValue) float64 {
	if v.IsScore {
		return v.Score
	}
	return float64(slices.Index(calibrationChoices, v.Choice))
}

func calibrateRetest(ids []string, samples map[string][]CalibrationJudgment, isScore bool) *CalibrationRetest {
	r := &CalibrationRetest{}
	var units [][]float64
	var pairs, pairsSame int
	var sdSum float64
	for _, id := range ids {
		s := samples[id]
		if len(s) < 2 {
			continue
		}
		r.Items++
		r.Samples = max(r.Samples, len(s))
		u := make([]float64, len(s))
		all := true
		for i, j := range s {
			u[i] = calibrationNumeric(j.Value)
			if u[i] != u[0] {
				all = false
			}
		}
		if all {
			r.AllAgree++
		}
		for a := range u {
			for b := a + 1; b < len(u); b++ {
				pairs++
				if u[a] == u[b] {
					pairsSame++
				}
			}
		}
		if isScore {
			var m, ss float64
			for _, x := range u {
				m += x
			}
			m /= float64(len(u))
			for _, x := range u {
				ss += (x - m) * (x - m)
			}
			sdSum += math.Sqrt(ss / float64(len(u)-1))
		}
		units = append(units, u)
	}
	if r.Items == 0 {
		return nil
	}
	r.AllAgreeRate = calibrationNum(float64(r.AllAgree) / float64(r.Items))
	r.PairAgreement = calibrationNum(float64(pairsSame) / float64(pairs))
	if a, err := AgreementKrippendorff(units, AgreementNominal); err == nil {
		r.AlphaNominal = calibrationNum(a)
	}
	if isScore {
		if a, err := AgreementKrippendorff(units, AgreementOrdinal); err == nil {
			r.AlphaOrdinal = calibrationNum(a)
		}
		if a, err := AgreementKrippendorff(units, AgreementInterval); err == nil {
			r.AlphaInterval = calibrationNum(a)
		}
		r.MeanSD = calibrationNum(sdSum / float64(r.Items))
	}
	// Fleiss' kappa when every item (not only those graded twice) has the same number of samples.
	same := len(units) == len(ids)
	for _, u := range units {
		same = same && len(u) == r.Samples
	}
	if same {
		var cats []float64
		for _, u := range units {
			cats = append(cats, u...)
		}
		slices.Sort(cats)
		cats = slices.Compact(cats)
		table := make([][]int, len(units))
		for i, u := range units {
			table[i] = make([]int, len(cats))
			for _, x := range u {
				k, _ := slices.BinarySearch(cats, x)
				table[i][k]++
			}
		}
		if k, err := KappaFleiss(table); err == nil {
			r.FleissKappa = calibrationNum(k)
		}
	}
	return r
}

// CalibrationFromPrometheus converts a Prometheus evaluation file
// (prometheus-eval's eval/benchmark/data). mt_bench_eval.json and
// vicuna_eval.json become judgments of judge "gpt-4": three samples
// (gpt4_score) per item, id "<idx>/<response_source>". hhh_alignment_eval.json
// becomes human labels, id "hhh-<row>" (row counted from 0): the human
// prefers the chosen response, which a judge is shown as A on even rows and
// as B on odd rows, so the label is "A" on even rows and "B" on odd ones.
func CalibrationFromPrometheus(path string) ([]CalibrationJudgment, []CalibrationLabel, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, nil, fmt.Errorf("%s: not a Prometheus evaluation file (a JSON array of records): %w", path, err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: no records", path)
	}
	if _, ok := rows[0]["chosen_instruction"]; ok {
		ls := make([]CalibrationLabel, len(rows))
		for i := range rows {
			c := "A"
			if i%2 == 1 {
				c = "B"
			}
			ls[i] = CalibrationLabel{ID: "hhh-" + strconv.Itoa(i), Annotator: "hhh-alignment", Value: CalibrationValue{Choice: c}, Line: i + 1}
		}
		return nil, ls, nil
	}
	var js []CalibrationJudgment
	for i, r := range rows {
		var idx json.Number
		var src string
		var scores []float64
		if err := json.Unmarshal(r["idx"], &idx); err != nil {
			return nil, nil, fmt.Errorf("%s: record %d: field \"idx\": %w", path, i, err)
		}
		if err := json.Unmarshal(r["response_source"], &src); err != nil {
			return nil, nil, fmt.Errorf("%s: record %d: field \"response_source\": %w", path, i, err)
		}
		if err := json.Unmarshal(r["gpt4_score"], &scores); err != nil || len(scores) == 0 {
			return nil, nil, fmt.Errorf("%s: record %d: field \"gpt4_score\": want a list of scores (mt_bench_eval.json, vicuna_eval.json or hhh_alignment_eval.json)", path, i)
		}
		for s, x := range scores {
			js = append(js, CalibrationJudgment{ID: idx.String() + "/" + src, Judge: "gpt-4", Sample: s, Value: CalibrationValue{Score: x, IsScore: true}, Line: i + 1})
		}
	}
	return js, nil, nil
}

// CalibrationFormats are the renderings WriteCalibration knows.
var CalibrationFormats = []string{"text", "md", "json"}

// WriteCalibration renders reports as text, md or json.
func WriteCalibration(w io.Writer, rs []CalibrationReport, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	case "text", "md":
		for i, r := range rs {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := writeCalibrationOne(w, r, format == "md"); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("format %q: use %s", format, strings.Join(CalibrationFormats, ", "))
}

func calibrationFmt(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *p)
}

func calibrationPct(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100**p)
}

func writeCalibrationOne(w io.Writer, r CalibrationReport, md bool) error {
	name := r.Judge
	if name == "" {
		name = "(unnamed)"
	}
	var lines [][2]string
	add := func(k, v string) { lines = append(lines, [2]string{k, v}) }
	if h := r.Human; h != nil {
		add("against humans", fmt.Sprintf("%d labels on %d items, %d annotator(s); %d judged items unlabelled, %d labelled items not judged", h.Pairs, h.Items, h.Annotators, h.Unlabelled, h.Unjudged))
		add("agreement", calibrationPct(h.Agreement))
		if r.Kind == "choice" {
			add("agreement without ties", fmt.Sprintf("%s of %d", calibrationPct(h.AgreementNoTies), h.PairsNoTies))
		}
		add("Cohen's kappa", calibrationFmt(h.Kappa))
		if r.Kind == "score" {
			add("Cohen's kappa, quadratic", calibrationFmt(h.KappaQuadratic))
			add("Spearman", calibrationFmt(h.Spearman))
			add("Kendall tau-b", calibrationFmt(h.Kendall))
			add("mean |judge − human|", calibrationFmt(h.MeanAbsDiff))
		}
		if h.HumanItems > 0 {
			add("annotators' alpha", fmt.Sprintf("%s over %d items labelled twice or more", calibrationFmt(h.HumanAlpha), h.HumanItems))
		}
	}
	if t := r.Retest; t != nil {
		add("test-retest", fmt.Sprintf("%d items graded more than once (up to %d times)", t.Items, t.Samples))
		add("all samples agree", fmt.Sprintf("%d/%d (%s)", t.AllAgree, t.Items, calibrationPct(t.AllAgreeRate)))
		add("sample pairs agree", calibrationPct(t.PairAgreement))
		add("Krippendorff's alpha, nominal", calibrationFmt(t.AlphaNominal))
		if r.Kind == "score" {
			add("Krippendorff's alpha, ordinal", calibrationFmt(t.AlphaOrdinal))
			add("Krippendorff's alpha, interval", calibrationFmt(t.AlphaInterval))
			add("mean SD of samples", calibrationFmt(t.MeanSD))
		}
		if t.FleissKappa != nil {
			add("Fleiss' kappa", calibrationFmt(t.FleissKappa))
		}
	} else {
		add("test-retest", "no item graded twice")
	}
	if md {
		fmt.Fprintf(w, "### Judge %s (%ss, %d items)\n\n| | |\n|---|---|\n", name, r.Kind, r.Items)
		for _, l := range lines {
			fmt.Fprintf(w, "| %s | %s |\n", strings.ReplaceAll(l[0], "|", `\|`), l[1])
		}
	} else {
		fmt.Fprintf(w, "judge %s (%ss, %d items)\n", name, r.Kind, r.Items)
		width := 0
		for _, l := range lines {
			width = max(width, len([]rune(l[0])))
		}
		for _, l := range lines {
			fmt.Fprintf(w, "  %s%s  %s\n", l[0], strings.Repeat(" ", width-len([]rune(l[0]))), l[1])
		}
	}
	if r.Human != nil && len(r.Human.Confusion.Values) > 0 {
		return writeCalibrationConfusion(w, r.Human.Confusion, md)
	}
	return nil
}

func writeCalibrationConfusion(w io.Writer, c CalibrationConfusion, md bool) error {
	if md {
		fmt.Fprintf(w, "\nConfusion (rows: human, columns: judge)\n\n| human \\ judge | %s |\n|---|%s\n", strings.Join(c.Values, " | "), strings.Repeat("---:|", len(c.Values)))
		for i, v := range c.Values {
			cells := make([]string, len(c.Counts[i]))
			for j, n := range c.Counts[i] {
				cells[j] = strconv.Itoa(n)
			}
			fmt.Fprintf(w, "| %s | %s |\n", v, strings.Join(cells, " | "))
		}
		return nil
	}
	width := 5
	for _, v := range c.Values {
		width = max(width, len(v))
	}
	for i := range c.Counts {
		for _, n := range c.Counts[i] {
			width = max(width, len(strconv.Itoa(n)))
		}
	}
	fmt.Fprintf(w, "  confusion (rows: human, columns: judge)\n  %*s", width, "")
	for _, v := range c.Values {
		fmt.Fprintf(w, " %*s", width, v)
	}
	fmt.Fprintln(w)
	for i, v := range c.Values {
		fmt.Fprintf(w, "  %*s", width, v)
		for _, n := range c.Counts[i] {
			fmt.Fprintf(w, " %*d", width, n)
		}
		fmt.Fprintln(w)
	}
	return nil
}
