package app

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/judge"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/runner"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// The judge stage: after a task's own stages, each judge grades each
// graded model's answer (single) or the baseline's against the candidate's
// in both orders (pairwise). Its requests go through the same runner as the
// models' (cache, retries, rate limits, resume); its raw judgments are
// stored as results of stage "judge" with the judge as their Endpoint and
// the graded model (the candidate, for a pair) as their Model; Evaluate
// parses them into metrics.
const judgeStage = "judge"

// Judge metrics.
const (
	// metricJudgeScore is the (jury's) score of a single-answer judgment.
	metricJudgeScore = "judge_score"
	// metricJudgeWin is a model's share of a pairwise judgment: 1 won,
	// 0.5 tie (or inconsistent across the two orders), 0 lost. The baseline
	// holds 1 − the candidate's, so the paired delta is 2·win − 1 and its
	// McNemar test is the exact sign test of wins against losses.
	metricJudgeWin = "judge_win"
)

// judgeTask is a task's judge section, resolved against the plan.
type judgeTask struct {
	spec      plan.Judge
	judges    []string
	pairwise  bool
	scale     [2]float64
	mode      string // parse mode: fastchat or strict
	reference *task.Template
	// custom is the plan's own template; nil picks a built-in per item.
	custom *judge.Template
	named  string // a built-in template's name ("" = MT-Bench's, by item)
	// baseline and candidate of a pairwise judgment.
	baseline, candidate string
}

// buildJudge resolves task ti's judge section. Its errors name the plan key.
func buildJudge(p *plan.Plan, ti int) (*judgeTask, error) {
	t := p.Tasks[ti]
	if t.Judge == nil {
		return nil, nil
	}
	j := *t.Judge
	at := fmt.Sprintf("tasks[%d].judge", ti)
	jt := &judgeTask{spec: j, judges: j.With, pairwise: j.Mode == plan.JudgePairwise, scale: judge.DefaultScale(), mode: j.Parse,
		baseline: p.Compare.Baseline, candidate: p.Compare.Candidate}
	if jt.mode == "" {
		jt.mode = "fastchat"
	}
	if len(j.Scale) == 2 {
		jt.scale = [2]float64{j.Scale[0], j.Scale[1]}
	}
	kind := judge.KindSingle
	if jt.pairwise {
		kind = judge.KindPair
	}
	switch {
	case j.Prompt != "" || j.System != "":
		tmpl, err := judge.Custom(t.Name, kind, j.System, j.Prompt)
		if err != nil {
			return nil, p.Errorf(at+".prompt", "use the placeholders of docs/judge.md, e.g. {question} and {answer}", "%v", err)
		}
		tmpl.Scale = jt.scale
		jt.custom = &tmpl
	case j.Template == "rubric":
		tmpl, err := judge.GeneralRubric(kind, jt.scale, j.Reference != "")
		if err != nil {
			return nil, p.Errorf(at+".template", "", "%v", err)
		}
		jt.custom = &tmpl
	case j.Template == "" || j.Template == "mtbench":
	default:
		tmpl, ok := judge.Builtin(j.Template)
		if !ok {
			names := append([]string{"mtbench", "rubric"}, judge.BuiltinNames()...)
			return nil, p.Errorf(at+".template", "use one of "+strings.Join(names, ", ")+", or your own `system`/`prompt`", "unknown judge template %q", j.Template)
		}
		if tmpl.Kind != kind {
			return nil, p.Errorf(at+".template", fmt.Sprintf("use a %s template with mode %s", kind, jt.modeName()), "template %s grades %s answers, not %s", j.Template, tmpl.Kind, kind)
		}
		if tmpl.NeedsReference && j.Reference == "" {
			return nil, p.Errorf(at+".reference", "name the field holding the reference answer, e.g. `reference: reference`", "template %s shows the judge a reference answer", j.Template)
		}
		if kind == judge.KindSingle && len(j.Scale) == 2 {
			tmpl.Scale = jt.scale
		} else if kind == judge.KindSingle {
			jt.scale = tmpl.Scale
		}
		jt.custom = &tmpl
	}
	if j.Reference != "" {
		src := j.Reference
		if !strings.Contains(src, "{{") && !strings.Contains(src, "{%") {
			src = "{{ " + src + " }}"
		}
		ref, err := task.Compile(src)
		if err != nil {
			return nil, p.Errorf(at+".reference", "", "%v", err)
		}
		jt.reference = ref
	}
	return jt, nil
}

func (jt *judgeTask) modeName() string {
	if jt.pairwise {
		return plan.JudgePairwise
	}
	return plan.JudgeSingle
}

// metrics are the metrics the judge adds to its task.
func (jt *judgeTask) metrics() []metricDef {
	if jt.pairwise {
		return []metricDef{{Metric: scorer.Metric{Name: metricJudgeWin, Direction: scorer.Higher, Test: scorer.TestMcNemar}}}
	}
	return []metricDef{{Metric: scorer.Metric{Name: metricJudgeScore, Direction: scorer.Higher, Test: scorer.TestWilcoxon}}}
}

// judgeRequestID names a judgment: item, judge and, for a pair, the order
// ("ab": baseline shown as A; "ba": candidate shown as A).
func judgeRequestID(item, judgeName, order string) string {
	id := item + "@" + judgeName
	if order != "" {
		id += "#" + order
	}
	return id
}

// conversation is what a judge is shown of one model's answer to an item.
type conversation struct {
	questions []string
	answers   []string
}

// conversationOf reads one model's answers to every stage of an item; ok is
// false when the model has no scorable answer (failed or empty: the item is
// then not judged, and counted as it is).
func conversationOf(bt *builtTask, it *task.Item, byKey map[stageKey]*store.Result) (conversation, bool) {
	resps, msg := responses(bt, it, byKey)
	if msg != "" || len(resps) == 0 {
		return conversation{}, false
	}
	c := conversation{questions: it.Turns}
	if len(c.questions) == 0 {
		c.questions = []string{it.Prompt}
	}
	for _, r := range resps {
		if len(r) > 0 {
			c.answers = append(c.answers, r[0].Text)
		}
	}
	if len(c.answers) == 0 || strings.TrimSpace(c.answers[len(c.answers)-1]) == "" {
		return conversation{}, false
	}
	return c, true
}

// references renders the judge's reference for an item: a list field gives
// one reference per turn.
func (jt *judgeTask) references(it *task.Item) ([]string, error) {
	if jt.reference == nil {
		return nil, nil
	}
	if name := strings.TrimSpace(jt.spec.Reference); !strings.Contains(name, "{{") {
		if list, ok := it.Fields[name].([]any); ok {
			var out []string
			for _, x := range list {
				out = append(out, fmt.Sprint(x))
			}
			return out, nil
		}
	}
	s, err := jt.reference.Render(it.Fields)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return []string{s}, nil
}

// template picks the judge prompt for an item: the plan's, or MT-Bench's by
// mode, turns and whether the item has a reference (as FastChat does: the
// math template for questions with a reference answer).
func (jt *judgeTask) template(turns int, hasRef bool) (judge.Template, error) {
	if jt.custom != nil {
		return *jt.custom, nil
	}
	name := "single-v1"
	if jt.pairwise {
		name = "pair-v2"
	}
	if hasRef {
		name = map[bool]string{false: "single-math-v1", true: "pair-math-v1"}[jt.pairwise]
	}
	if turns > 1 {
		name += "-multi-turn"
	}
	t, ok := judge.Builtin(name)
	if !ok {
		return judge.Template{}, fmt.Errorf("built-in judge template %s is missing", name)
	}
	if len(jt.spec.Scale) == 2 {
		t.Scale = jt.scale
	}
	return t, nil
}

// vars fills a template's values for one model's conversation (single) or
// two (pair: a shown as A, b as B).
func judgeVars(refs []string, a conversation, b *conversation) judge.Vars {
	v := judge.Vars{Question: a.questions[0]}
	if len(a.questions) > 1 {
		v.Question2 = a.questions[1]
	}
	if len(refs) > 0 {
		v.Reference, v.Reference1 = refs[0], refs[0]
	}
	if len(refs) > 1 {
		v.Reference2 = refs[1]
	}
	last := func(c conversation) string { return c.answers[len(c.answers)-1] }
	turn := func(c conversation, k int) string {
		if k < len(c.answers) {
			return c.answers[k]
		}
		return ""
	}
	if b == nil {
		v.Answer = last(a)
		v.Answer1, v.Answer2 = turn(a, 0), turn(a, 1)
		return v
	}
	v.AnswerA, v.AnswerB = last(a), last(*b)
	v.AnswerA1, v.AnswerA2 = turn(a, 0), turn(a, 1)
	v.AnswerB1, v.AnswerB2 = turn(*b, 0), turn(*b, 1)
	return v
}

// judgeJobs builds the judge stage's requests of one task from the answers
// stored so far: one per judge and graded model (single), or two per judge
// (pairwise, both orders) for the candidate.
func judgeJobs(p *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) ([]runner.Job, error) {
	jt := bt.Judge
	var jobs []runner.Job
	params := map[string]provider.Params{}
	for _, j := range p.Judges {
		params[j.Name] = toParams(j.Params)
	}
	request := func(id, judgeName string, tmpl judge.Template, v judge.Vars) (runner.Job, error) {
		system, user, err := tmpl.Render(v)
		if err != nil {
			return runner.Job{}, err
		}
		req := provider.Request{Type: provider.Generate, ItemID: id, System: system,
			Messages: []provider.Message{{Role: "user", Content: user}}, Params: params[judgeName]}
		if jt.spec.Logprobs > 0 {
			req.Params.Logprobs = jt.spec.Logprobs
		}
		return runner.Job{Task: bt.Name, Stage: judgeStage, Endpoint: judgeName, Request: req}, nil
	}
	for i := range bt.Items {
		it := &bt.Items[i]
		refs, err := jt.references(it)
		if err != nil {
			return nil, fmt.Errorf("task %s item %s: judge reference: %w", bt.Name, it.ID, err)
		}
		if jt.pairwise {
			base, okB := conversationOf(bt, it, prior[jt.baseline][bt.Name])
			cand, okC := conversationOf(bt, it, prior[jt.candidate][bt.Name])
			if !okB || !okC {
				continue
			}
			tmpl, err := jt.template(len(cand.answers), len(refs) > 0)
			if err != nil {
				return nil, err
			}
			for _, name := range jt.judges {
				for _, order := range []string{"ab", "ba"} {
					v := judgeVars(refs, base, &cand)
					if order == "ba" {
						v = judgeVars(refs, cand, &base)
					}
					job, err := request(judgeRequestID(it.ID, name, order), name, tmpl, v)
					if err != nil {
						return nil, fmt.Errorf("task %s item %s: %w", bt.Name, it.ID, err)
					}
					job.Model = jt.candidate
					jobs = append(jobs, job)
				}
			}
			continue
		}
		for _, m := range p.Models {
			c, ok := conversationOf(bt, it, prior[m.Name][bt.Name])
			if !ok {
				continue
			}
			tmpl, err := jt.template(len(c.answers), len(refs) > 0)
			if err != nil {
				return nil, err
			}
			for _, name := range jt.judges {
				job, err := request(judgeRequestID(it.ID, name, ""), name, tmpl, judgeVars(refs, c, nil))
				if err != nil {
					return nil, fmt.Errorf("task %s item %s: %w", bt.Name, it.ID, err)
				}
				job.Model = m.Name
				jobs = append(jobs, job)
			}
		}
	}
	return jobs, nil
}

// judgment is one parsed judge answer.
type judgment struct {
	score  float64
	choice judge.Choice
	err    string // why there is no verdict: request failed, truncated, unparsable
	resp   *provider.Response
}

// readJudgment parses one stored judgment.
func (jt *judgeTask) readJudgment(r *store.Result, ok bool) judgment {
	if !ok {
		return judgment{err: "no judgment stored (the run did not reach it)"}
	}
	if r.Error != "" {
		return judgment{err: "judge request failed: " + r.Error}
	}
	var resp provider.Response
	if err := json.Unmarshal(r.Response, &resp); err != nil {
		return judgment{err: "stored judgment does not decode: " + err.Error()}
	}
	out := judgment{resp: &resp}
	if resp.FinishReason == "length" {
		out.err = judge.ErrTruncated.Error()
		return out
	}
	text := judge.StripReasoning(resp.Text)
	mode := judge.Mode(jt.mode)
	if jt.pairwise {
		c, err := judge.ParseChoice(text, mode)
		if err != nil {
			out.err = err.Error()
		}
		out.choice = c
		return out
	}
	s, err := judge.ParseScore(text, mode, jt.scale)
	if err != nil {
		out.err = err.Error()
	}
	out.score = s
	return out
}

// judgeOutcomes adds the judge's metrics to every graded model's outcomes of
// one task, and returns what the judging section reports.
func judgeOutcomes(bt *builtTask, idx map[string]map[string]map[stageKey]*store.Result, outcomes map[string][]scored, models []string) *judgeSummary {
	jt := bt.Judge
	sum := &judgeSummary{Mode: jt.modeName(), Judges: jt.judges, Parse: jt.mode, Scale: jt.scale, Failures: map[string]int{}}
	seenTmpl := map[string]string{}
	note := func(j judgment, judgeName string) {
		if j.resp != nil && j.resp.Model != "" {
			if sum.Served == nil {
				sum.Served = map[string]string{}
			}
			sum.Served[judgeName] = j.resp.Model
		}
	}
	for i := range bt.Items {
		it := &bt.Items[i]
		refs, _ := jt.references(it)
		if jt.pairwise {
			base, cand := outcomes[jt.baseline], outcomes[jt.candidate]
			if base == nil || cand == nil || !base[i].Scored() || !cand[i].Scored() {
				continue
			}
			byKey := idx[jt.candidate][bt.Name]
			var wins []float64
			var errs []string
			for _, name := range jt.judges {
				r1, ok1 := byKey[stageKey{judgeStage, judgeRequestID(it.ID, name, "ab")}]
				r2, ok2 := byKey[stageKey{judgeStage, judgeRequestID(it.ID, name, "ba")}]
				j1, j2 := jt.readJudgment(r1, ok1), jt.readJudgment(r2, ok2)
				note(j1, name)
				note(j2, name)
				if j1.err != "" || j2.err != "" {
					msg := j1.err
					if msg == "" {
						msg = j2.err
					}
					errs = append(errs, name+": "+msg)
					sum.Failures[failureKind(msg)]++
					continue
				}
				// Order ab shows the baseline as A; ba shows the candidate as A.
				w, consistent := resolveSwap(j1.choice, j2.choice)
				sum.Pairs++
				if !consistent {
					sum.Inconsistent++
				}
				if j1.choice == judge.ChoiceA {
					sum.FirstWins++
				}
				if j2.choice == judge.ChoiceA {
					sum.FirstWins++
				}
				sum.Orders += 2
				wins = append(wins, candidateShare(w))
			}
			if len(wins) == 0 {
				setJudgeError(&cand[i], metricJudgeWin, errs)
				setJudgeError(&base[i], metricJudgeWin, errs)
				continue
			}
			w := aggregateWins(wins, jt.spec.Aggregate)
			setJudgeScore(&cand[i], metricJudgeWin, w)
			setJudgeScore(&base[i], metricJudgeWin, 1-w)
			continue
		}
		for _, m := range models {
			outs := outcomes[m]
			if outs == nil || !outs[i].Scored() {
				continue
			}
			byKey := idx[m][bt.Name]
			var scores []float64
			var errs []string
			for _, name := range jt.judges {
				r, ok := byKey[stageKey{judgeStage, judgeRequestID(it.ID, name, "")}]
				j := jt.readJudgment(r, ok)
				note(j, name)
				if j.err != "" {
					errs = append(errs, name+": "+j.err)
					sum.Failures[failureKind(j.err)]++
					continue
				}
				scores = append(scores, j.score)
			}
			if len(scores) == 0 {
				setJudgeError(&outs[i], metricJudgeScore, errs)
				continue
			}
			setJudgeScore(&outs[i], metricJudgeScore, aggregateScores(scores, jt.spec.Aggregate))
		}
		if tmpl, err := jt.template(max(1, len(it.Turns)), len(refs) > 0); err == nil {
			seenTmpl[tmpl.Name] = tmpl.Hash()
		}
	}
	for name, hash := range seenTmpl {
		sum.Templates = append(sum.Templates, templateRef{Name: name, Hash: hash})
	}
	sort.Slice(sum.Templates, func(a, b int) bool { return sum.Templates[a].Name < sum.Templates[b].Name })
	return sum
}

// candidateShare is the candidate's share of a resolved pair.
func candidateShare(w winner) float64 {
	switch w {
	case winnerCandidate:
		return 1
	case winnerBaseline:
		return 0
	}
	return 0.5
}

// winner is a pair's resolved verdict.
type winner int

const (
	winnerTie winner = iota
	winnerBaseline
	winnerCandidate
)

// resolveSwap combines the two orders of a pair as FastChat does: first
// shows the baseline as A, second the candidate as A; the same preferred
// model in both is that model's win, otherwise a tie (and inconsistent when
// the two orders disagree).
func resolveSwap(first, second judge.Choice) (winner, bool) {
	side := func(c judge.Choice, aIsCandidate bool) winner {
		switch {
		case c == judge.ChoiceTie:
			return winnerTie
		case (c == judge.ChoiceA) == aIsCandidate:
			return winnerCandidate
		}
		return winnerBaseline
	}
	w1, w2 := side(first, false), side(second, true)
	if w1 == w2 {
		return w1, true
	}
	return winnerTie, false
}

func aggregateWins(ws []float64, how string) float64 {
	if how == "mean" || len(ws) == 1 {
		var s float64
		for _, w := range ws {
			s += w
		}
		return s / float64(len(ws))
	}
	// majority (the default for pairs): the side most judges preferred;
	// a tie when neither has more.
	var cand, base int
	for _, w := range ws {
		switch {
		case w > 0.5:
			cand++
		case w < 0.5:
			base++
		}
	}
	switch {
	case cand > base:
		return 1
	case base > cand:
		return 0
	}
	return 0.5
}

func aggregateScores(ss []float64, how string) float64 {
	if how == "median" {
		s := slices.Clone(ss)
		slices.Sort(s)
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2
	}
	var t float64
	for _, x := range ss {
		t += x
	}
	return t / float64(len(ss))
}

func setJudgeScore(o *scored, metric string, v float64) {
	if o.Scores == nil {
		o.Scores = map[string]float64{}
	}
	o.Scores[metric] = v
}

func setJudgeError(o *scored, metric string, errs []string) {
	o.JudgeError = strings.Join(errs, "; ")
}

// failureKind buckets a judge failure message for the report's counts.
func failureKind(msg string) string {
	switch {
	case strings.HasPrefix(msg, "judge request failed"):
		return "request failed"
	case msg == judge.ErrTruncated.Error():
		return "truncated"
	case strings.HasPrefix(msg, "no judgment stored"):
		return "not reached"
	}
	return "unparsable"
}

// judgeSummary is the judging section's data.
type judgeSummary struct {
	Mode   string     `json:"mode"`
	Judges []string   `json:"judges"`
	Parse  string     `json:"parse"`
	Scale  [2]float64 `json:"scale"`
	// Served is the model id each judge's server said answered.
	Served    map[string]string `json:"served_models,omitempty"`
	Templates []templateRef     `json:"templates"`
	// Failures count judgments without a verdict, by kind.
	Failures map[string]int `json:"failures"`
	// Pairwise: pairs judged in both orders, how many disagreed across the
	// orders, and how often the answer shown first won.
	Pairs        int `json:"pairs,omitempty"`
	Inconsistent int `json:"inconsistent,omitempty"`
	FirstWins    int `json:"first_position_wins,omitempty"`
	Orders       int `json:"orders,omitempty"`
}

type templateRef struct {
	Name string `json:"name"`
	Hash string `json:"sha256"`
}

// positionConsistency is the share of pairs judged the same way in both
// orders (NaN without pairs).
func (s *judgeSummary) positionConsistency() float64 {
	if s.Pairs == 0 {
		return math.NaN()
	}
	return float64(s.Pairs-s.Inconsistent) / float64(s.Pairs)
}

var _ = report.StatusOK

// judgeSection is the report's account of how a task was judged: which
// judges and templates (hashed), what failed, the position bias of pairwise
// judging and the answer lengths a judge may reward.
func judgeSection(bt *builtTask, s *judgeSummary, outcomes map[string][]scored, models []string) report.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "Task %s, %s judging by %s (parse: %s", bt.Name, s.Mode, strings.Join(s.Judges, ", "), s.Parse)
	if s.Mode == plan.JudgeSingle {
		fmt.Fprintf(&b, ", scale %g–%g", s.Scale[0], s.Scale[1])
	}
	b.WriteString(").\n\n")
	if len(s.Served) > 0 {
		var parts []string
		for _, j := range s.Judges {
			if id, ok := s.Served[j]; ok {
				parts = append(parts, fmt.Sprintf("%s answered as %s", j, id))
			}
		}
		fmt.Fprintf(&b, "- Judge models: %s.\n", strings.Join(parts, "; "))
	}
	for _, t := range s.Templates {
		fmt.Fprintf(&b, "- Template %s, sha256 %s.\n", t.Name, t.Hash[:min(12, len(t.Hash))])
	}
	failed := 0
	var kinds []string
	for k, n := range s.Failures {
		failed += n
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	if failed == 0 {
		b.WriteString("- Every judgment gave a verdict.\n")
	} else {
		fmt.Fprintf(&b, "- %d judgments gave no verdict (%s): counted, never scored.\n", failed, strings.Join(kinds, ", "))
	}
	if s.Pairs > 0 {
		fmt.Fprintf(&b, "- Position consistency: %d of %d pairs (%.1f%%) got the same verdict in both orders; the answer shown first won %d of %d orders (%.1f%%).\n",
			s.Pairs-s.Inconsistent, s.Pairs, 100*s.positionConsistency(), s.FirstWins, s.Orders, 100*float64(s.FirstWins)/float64(max(1, s.Orders)))
	}
	var lens []string
	for _, m := range models {
		var total, n float64
		for _, o := range outcomes[m] {
			if o.Scored() {
				total += float64(len([]rune(o.Output)))
				n++
			}
		}
		if n > 0 {
			lens = append(lens, fmt.Sprintf("%s %.0f", m, total/n))
		}
	}
	if len(lens) > 0 {
		fmt.Fprintf(&b, "- Mean answer length in characters (judges tend to prefer longer answers): %s.\n", strings.Join(lens, ", "))
	}
	data, _ := json.Marshal(s)
	return report.Section{Title: "Judging: " + bt.Name, Kind: "judge", Markdown: b.String(), Data: data}
}
