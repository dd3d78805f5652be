package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

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

// repairStage asks a judge once more when its strict judgment could not be
// parsed (plan judge.repair): the same conversation, its judgment, and a
// request for the verdict format (judge.RepairPrompt).
const repairStage = "judge_repair"

// Judge metrics.
const (
	// metricJudgeScore is the (jury's) score of a single-answer judgment.
	metricJudgeScore = "judge_score"
	// metricJudgeWin is a model's share of a pairwise judgment: 1 won,
	// 0.5 tie (or inconsistent across the two orders), 0 lost. The baseline
	// holds 1 − the candidate's, so the paired delta is 2·win − 1 and its
	// McNemar test is the exact sign test of wins against losses.
	metricJudgeWin = "judge_win"
	// metricJudgeScoreWeighted is G-Eval's logprob-weighted score, Σ p(s)·s
	// over the score tokens at the verdict (plan judge.logprobs > 0).
	metricJudgeScoreWeighted = "judge_score_weighted"
	// metricJudgeWinSoft is the candidate's soft preference: the probability
	// mass on its verdict token, averaged over the two orders (AlpacaEval's
	// weighted annotators); the baseline holds 1 − it.
	metricJudgeWinSoft = "judge_win_soft"
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
	// temperatures of the judges, as the report records them.
	temperatures []string
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
	for _, name := range j.With {
		for _, jd := range p.Judges {
			if jd.Name == name && jd.Params.Temperature != nil {
				jt.temperatures = append(jt.temperatures, fmt.Sprintf("%s %g", name, *jd.Params.Temperature))
			}
		}
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
			return nil, p.Errorf(at+".template", "give the scale as two ascending finite numbers, e.g. `scale: [1, 10]`", "%v", err)
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
			return nil, p.Errorf(at+".reference", "name a field (`reference: answer`) or write a Jinja template (`reference: \"{{ answer }}\"`)", "%v", err)
		}
		jt.reference = ref
	}
	return jt, nil
}

// checkItems renders every item's judge prompt inputs before any request:
// a reference template that fails on a row, or a template that shows a
// reference an item lacks, stops the plan here, naming the row, rather than
// after every model has answered.
func (jt *judgeTask) checkItems(p *plan.Plan, ti int, items []task.Item) error {
	at := fmt.Sprintf("tasks[%d].judge", ti)
	for i := range items {
		it := &items[i]
		refs, err := jt.references(it)
		if err != nil {
			return p.Errorf(at+".reference", "make the reference template work on every row (test a field with `is defined`), or fix the row",
				"%s line %d (item %s): %v", p.Tasks[ti].Dataset.Path, it.Line, it.ID, err)
		}
		if jt.custom != nil && jt.custom.NeedsReference && len(refs) == 0 {
			return p.Errorf(at+".reference", "give every row a reference, or use a template without one",
				"%s line %d (item %s): template %s shows the judge a reference answer, and this item has none", p.Tasks[ti].Dataset.Path, it.Line, it.ID, jt.custom.Name)
		}
	}
	return nil
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
		out := []metricDef{{Metric: scorer.Metric{Name: metricJudgeWin, Direction: scorer.Higher, Test: scorer.TestMcNemar}}}
		if jt.spec.Logprobs > 0 {
			out = append(out, metricDef{Metric: scorer.Metric{Name: metricJudgeWinSoft, Direction: scorer.Higher, Test: scorer.TestPermutation}})
		}
		return out
	}
	out := []metricDef{{Metric: scorer.Metric{Name: metricJudgeScore, Direction: scorer.Higher, Test: scorer.TestWilcoxon}}}
	if jt.spec.Logprobs > 0 {
		out = append(out, metricDef{Metric: scorer.Metric{Name: metricJudgeScoreWeighted, Direction: scorer.Higher, Test: scorer.TestPermutation}})
	}
	return out
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
	score    float64
	choice   judge.Choice
	err      string // why there is no verdict: request failed, truncated, unparsable
	resp     *provider.Response
	repaired bool // the verdict came from asking again (judge.repair)
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

// repairJobs asks again for the judgments of the judge stage that gave no
// parsable verdict (not failed requests or truncations: asking again would
// not change those).
func repairJobs(bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) []runner.Job {
	jt := bt.Judge
	kind := judge.KindSingle
	if jt.pairwise {
		kind = judge.KindPair
	}
	var jobs []runner.Job
	for model, byTask := range prior {
		for key, r := range byTask[bt.Name] {
			if key.stage != judgeStage || r.Error != "" {
				continue
			}
			j := jt.readJudgment(r, true)
			if j.err == "" || j.resp == nil || j.err == judge.ErrTruncated.Error() {
				continue
			}
			var req provider.Request
			if err := json.Unmarshal(r.Request, &req); err != nil {
				continue
			}
			req.ItemID = key.id + "~repair"
			req.Messages = append(req.Messages, provider.Message{Role: "assistant", Content: j.resp.Text},
				provider.Message{Role: "user", Content: judge.RepairPrompt(kind)})
			jobs = append(jobs, runner.Job{Model: model, Task: bt.Name, Stage: repairStage, Endpoint: r.Endpoint, Request: req})
		}
	}
	sort.Slice(jobs, func(a, b int) bool {
		if jobs[a].Model != jobs[b].Model {
			return jobs[a].Model < jobs[b].Model
		}
		return jobs[a].Request.ItemID < jobs[b].Request.ItemID
	})
	return jobs
}

// judgmentOf reads a judgment and, where it gave no verdict and a repair
// was asked for, the repair's answer instead.
func (jt *judgeTask) judgmentOf(byKey map[stageKey]*store.Result, id string) judgment {
	r, ok := byKey[stageKey{judgeStage, id}]
	j := jt.readJudgment(r, ok)
	if j.err == "" || !jt.spec.Repair {
		return j
	}
	if rr, ok := byKey[stageKey{repairStage, id + "~repair"}]; ok {
		if fixed := jt.readJudgment(rr, true); fixed.err == "" {
			fixed.repaired = true
			return fixed
		} else {
			j.err += "; asked again: " + fixed.err
		}
	}
	return j
}

// judgeOutcomes adds the judge's metrics to every graded model's outcomes of
// one task, and returns what the judging section reports.
func judgeOutcomes(bt *builtTask, idx map[string]map[string]map[stageKey]*store.Result, outcomes map[string][]scored, models []string) *judgeSummary {
	jt := bt.Judge
	sum := &judgeSummary{Mode: jt.modeName(), Judges: jt.judges, Parse: jt.mode, Scale: jt.scale, Failures: map[string]int{}, Temperatures: jt.temperatures}
	seenTmpl := map[string]string{}
	note := func(j judgment, judgeName string) {
		if j.resp != nil && j.resp.Model != "" {
			if sum.Served == nil {
				sum.Served = map[string]string{}
			}
			sum.Served[judgeName] = j.resp.Model
		}
	}
	// Per unit (an item × model, or an item for a pair), each judge's
	// verdict: a jury's agreement (Krippendorff's alpha) is computed over them.
	var units [][]float64
	var lenBase, lenCand, prefs []float64
	for i := range bt.Items {
		it := &bt.Items[i]
		refs, _ := jt.references(it)
		if tmpl, err := jt.template(max(1, len(it.Turns)), len(refs) > 0); err == nil {
			seenTmpl[tmpl.Name] = tmpl.Hash()
		}
		if jt.pairwise {
			base, cand := outcomes[jt.baseline], outcomes[jt.candidate]
			if base == nil || cand == nil || !base[i].Scored() || !cand[i].Scored() {
				continue
			}
			byKey := idx[jt.candidate][bt.Name]
			var wins, soft []float64
			var outcomes []judge.Outcome
			var errs []string
			for _, name := range jt.judges {
				j1 := jt.judgmentOf(byKey, judgeRequestID(it.ID, name, "ab"))
				j2 := jt.judgmentOf(byKey, judgeRequestID(it.ID, name, "ba"))
				sum.noteRepair(j1, j2)
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
				w, consistent := judge.Resolve(j1.choice, j2.choice)
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
				outcomes = append(outcomes, w)
				// The soft preference for the candidate: P(B) when it was
				// shown second, P(A) when first, averaged over the orders.
				if jt.spec.Logprobs > 0 {
					p1, e1 := softPair(j1.resp, "B")
					p2, e2 := softPair(j2.resp, "A")
					if e1 == nil && e2 == nil {
						soft = append(soft, (p1+p2)/2)
					} else {
						sum.SoftMissing++
					}
				}
			}
			if len(wins) == 0 {
				setJudgeError(&cand[i], metricJudgeWin, errs)
				setJudgeError(&base[i], metricJudgeWin, errs)
				continue
			}
			units = append(units, wins)
			w := juryWin(outcomes, jt.spec.Aggregate)
			setJudgeScore(&cand[i], metricJudgeWin, w)
			setJudgeScore(&base[i], metricJudgeWin, 1-w)
			pref := w
			if len(soft) > 0 {
				pref = juryScore(soft, "mean")
				setJudgeScore(&cand[i], metricJudgeWinSoft, pref)
				setJudgeScore(&base[i], metricJudgeWinSoft, 1-pref)
			}
			lenBase = append(lenBase, float64(len([]rune(base[i].Output))))
			lenCand = append(lenCand, float64(len([]rune(cand[i].Output))))
			prefs = append(prefs, pref)
			continue
		}
		for _, m := range models {
			outs := outcomes[m]
			if outs == nil || !outs[i].Scored() {
				continue
			}
			byKey := idx[m][bt.Name]
			var scores, weighted []float64
			var errs []string
			for _, name := range jt.judges {
				j := jt.judgmentOf(byKey, judgeRequestID(it.ID, name, ""))
				sum.noteRepair(j)
				note(j, name)
				if j.err != "" {
					errs = append(errs, name+": "+j.err)
					sum.Failures[failureKind(j.err)]++
					continue
				}
				scores = append(scores, j.score)
				if jt.spec.Logprobs > 0 {
					if w, err := softScore(j.resp, jt.scale); err == nil {
						weighted = append(weighted, w)
					} else {
						sum.SoftMissing++
					}
				}
			}
			if len(scores) == 0 {
				setJudgeError(&outs[i], metricJudgeScore, errs)
				continue
			}
			units = append(units, scores)
			setJudgeScore(&outs[i], metricJudgeScore, juryScore(scores, jt.spec.Aggregate))
			if len(weighted) > 0 {
				setJudgeScore(&outs[i], metricJudgeScoreWeighted, juryScore(weighted, jt.spec.Aggregate))
			}
		}
	}
	sum.finish(units, jt.pairwise)
	if jt.pairwise && len(prefs) >= 3 {
		if fit, err := judge.LCWinRate(lenBase, lenCand, prefs); err == nil {
			sum.LengthControlled = &fit
		}
		var t float64
		for _, p := range prefs {
			t += p
		}
		sum.WinRate = 100 * t / float64(len(prefs))
	}
	for name, hash := range seenTmpl {
		sum.Templates = append(sum.Templates, templateRef{Name: name, Hash: hash})
	}
	sort.Slice(sum.Templates, func(a, b int) bool { return sum.Templates[a].Name < sum.Templates[b].Name })
	return sum
}

// candidateShare is the candidate's share of a resolved pair.
func candidateShare(w judge.Outcome) float64 {
	switch w {
	case judge.OutcomeCandidate:
		return 1
	case judge.OutcomeBaseline:
		return 0
	}
	return 0.5
}

// juryWin is the candidate's share of a pair by a jury (judge.AggregateOutcomes):
// with aggregate "mean" the judges' shares averaged (a tie counts half),
// otherwise the majority's (1, 0, or ½ when the top count is shared).
func juryWin(outcomes []judge.Outcome, how string) float64 {
	j, err := judge.AggregateOutcomes(outcomes)
	if err != nil {
		return math.NaN() // not reached: only resolved pairs are passed
	}
	if how == "mean" {
		return (float64(j.Candidate) + float64(j.Tie)/2) / float64(j.Candidate+j.Baseline+j.Tie)
	}
	return candidateShare(j.Outcome)
}

// juryScore combines the judges' scores (judge.AggregateScores): their
// median with aggregate "median", their mean otherwise.
func juryScore(scores []float64, how string) float64 {
	votes := make([]judge.ScoreVote, len(scores))
	for i, x := range scores {
		votes[i] = judge.ScoreVote{Score: x}
	}
	j, err := judge.AggregateScores(votes)
	if err != nil {
		return math.NaN() // not reached: only scores are passed
	}
	if how == "median" {
		return j.Median
	}
	return j.Mean
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
	Served map[string]string `json:"served_models,omitempty"`
	// Temperatures are the judges' sampling temperatures ("judge 0").
	Temperatures []string      `json:"temperatures,omitempty"`
	Templates    []templateRef `json:"templates"`
	// Failures count judgments without a verdict, by kind.
	Failures map[string]int `json:"failures"`
	// Pairwise: pairs judged in both orders, how many disagreed across the
	// orders, and how often the answer shown first won.
	Pairs        int `json:"pairs,omitempty"`
	Inconsistent int `json:"inconsistent,omitempty"`
	FirstWins    int `json:"first_position_wins,omitempty"`
	Orders       int `json:"orders,omitempty"`
	// WinRate is the candidate's raw win rate ×100 (ties half; soft
	// preferences where the judges returned logprobs); LengthControlled the
	// win rate with the length difference set to zero (judge.LCWinRate).
	WinRate          float64      `json:"win_rate,omitempty"`
	LengthControlled *judge.LCFit `json:"length_controlled,omitempty"`
	// JuryAlpha is Krippendorff's alpha across the judges of a jury
	// (interval for scores, nominal for pair outcomes); JuryUnits how many
	// units it rests on.
	JuryAlpha *float64 `json:"jury_alpha,omitempty"`
	JuryUnits int      `json:"jury_units,omitempty"`
	// SoftMissing counts judgments without the verdict token among the top
	// logprobs (no weighted score or soft preference for them).
	SoftMissing int `json:"soft_missing,omitempty"`
	// Repaired counts verdicts that came from asking a judge again.
	Repaired int `json:"repaired,omitempty"`
}

func (s *judgeSummary) noteRepair(js ...judgment) {
	for _, j := range js {
		if j.repaired {
			s.Repaired++
		}
	}
}

// finish computes the jury's agreement over units with two or more verdicts.
func (s *judgeSummary) finish(units [][]float64, pairwise bool) {
	if len(s.Judges) < 2 {
		return
	}
	metric := judge.AgreementInterval
	if pairwise {
		metric = judge.AgreementNominal
	}
	var pairable [][]float64
	for _, u := range units {
		if len(u) >= 2 {
			pairable = append(pairable, u)
		}
	}
	if a, err := judge.AgreementKrippendorff(pairable, metric); err == nil && !math.IsNaN(a) {
		s.JuryAlpha, s.JuryUnits = &a, len(pairable)
	}
}

// verdictTop finds the top logprobs at the judge's verdict: the first
// token after "[[" (MT-Bench's [[8]] / [[A]]) or "[RESULT]" (Prometheus).
func verdictTop(resp *provider.Response) []judge.TokenLogprob {
	if resp == nil {
		return nil
	}
	var text strings.Builder
	for _, lp := range resp.Logprobs {
		t := text.String()
		if strings.HasSuffix(strings.TrimRight(t, " "), "[[") || strings.HasSuffix(strings.TrimRight(t, " "), "[RESULT]") {
			out := make([]judge.TokenLogprob, len(lp.Top))
			for i, x := range lp.Top {
				out[i] = judge.TokenLogprob{Token: x.Token, Logprob: x.Logprob}
			}
			if len(out) == 0 {
				out = []judge.TokenLogprob{{Token: lp.Token, Logprob: lp.Logprob}}
			}
			return out
		}
		text.WriteString(lp.Token)
	}
	return nil
}

func softPair(resp *provider.Response, side string) (float64, error) {
	tokens := judge.PairTokens()
	tokens["C"], tokens[" C"] = "tie", "tie"
	m, err := judge.SoftChoice(verdictTop(resp), tokens)
	if err != nil {
		return 0, err
	}
	// A tie's mass counts half for each side.
	return m[side] + m["tie"]/2, nil
}

func softScore(resp *provider.Response, scale [2]float64) (float64, error) {
	return judge.SoftScore(verdictTop(resp), scale)
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
	if len(s.Temperatures) > 0 {
		fmt.Fprintf(&b, "- Judge temperature: %s.\n", strings.Join(s.Temperatures, ", "))
	}
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
	if s.WinRate > 0 || s.Pairs > 0 {
		fmt.Fprintf(&b, "- Candidate win rate %.1f%% (ties half)", s.WinRate)
		if lc := s.LengthControlled; lc != nil {
			fmt.Fprintf(&b, "; length-controlled %.1f%% ± %.1f (logistic fit of the preference on tanh of the standardised length difference, predicted at equal length; slope %+.3f)", lc.WinRate, lc.StandardError, lc.Slope)
		}
		b.WriteString(".\n")
	}
	if s.Repaired > 0 {
		fmt.Fprintf(&b, "- %d verdicts came from asking the judge again for the verdict format (judge.repair).\n", s.Repaired)
	}
	if s.JuryAlpha != nil {
		fmt.Fprintf(&b, "- Jury agreement: Krippendorff's alpha %.3f over %d units judged by two or more judges.\n", *s.JuryAlpha, s.JuryUnits)
	}
	if s.SoftMissing > 0 {
		fmt.Fprintf(&b, "- %d judgments had no verdict token among the top logprobs: no weighted score or soft preference for them.\n", s.SoftMissing)
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

// families are model family names a judge shares with the model it grades
// when both ids contain one: a judge tends to prefer its own family's
// answers (self-preference), so the report warns.
var families = []string{"gpt", "o1", "o3", "o4", "claude", "llama", "mistral", "mixtral", "qwen", "gemma", "gemini", "phi", "deepseek", "yi", "falcon", "vicuna", "command", "olmo", "granite"}

// sharedFamily returns the family both model ids name, or "".
func sharedFamily(a, b string) string {
	tokens := func(s string) map[string]bool {
		out := map[string]bool{}
		f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		})
		for _, w := range f {
			out[w] = true
			// "llama3", "qwen2": the family without its version digits
			out[strings.TrimRight(w, "0123456789.")] = true
		}
		return out
	}
	ta, tb := tokens(a), tokens(b)
	for _, f := range families {
		if ta[f] && tb[f] {
			return f
		}
	}
	return ""
}

// judgeWarnings warn when a judge shares a family with a graded model.
func judgeWarnings(p *plan.Plan, tasks []*builtTask) []string {
	var out []string
	seen := map[string]bool{}
	for _, bt := range tasks {
		if bt.Judge == nil {
			continue
		}
		for _, jn := range bt.Judge.judges {
			var jm plan.Model
			for _, j := range p.Judges {
				if j.Name == jn {
					jm = j
				}
			}
			for _, m := range p.Models {
				key := jn + "|" + m.Name
				if seen[key] {
					continue
				}
				seen[key] = true
				if f := sharedFamily(jm.Model, m.Model); f != "" {
					out = append(out, fmt.Sprintf("judge %s (%s) and model %s (%s) are both %s models: judges tend to prefer their own family's answers, so its scores may favour %s; add a judge of another family", jn, jm.Model, m.Name, m.Model, f, m.Name))
				}
			}
		}
	}
	return out
}

// budgetError stops a run whose judges have spent the plan's max_cost.
type budgetError struct {
	spent, limit float64
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("the judges have spent %.4g of judge.max_cost %.4g", e.spent, e.limit)
}

// budget tracks the judges' spend during one stage.
type budget struct {
	mu     sync.Mutex
	spent  float64
	limit  float64
	over   *budgetError
	cancel context.CancelFunc
}

func (b *budget) exceeded() *budgetError {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}

// judgeBudget enforces the smallest judge.max_cost of the plan's tasks on
// the run's whole judge spend: what the judges' answers (not the cache's)
// cost at judges[].prices, counting what earlier attempts of this run
// stored. When a stage's requests reach it, the stage's context is
// cancelled: the runner stores what finished, and the same plan resumes.
func judgeBudget(ctx context.Context, p *plan.Plan, tasks []*builtTask, st *store.Store, runID string, o *runner.Options) (context.Context, *budget, error) {
	limit := 0.0
	for _, bt := range tasks {
		if bt.Judge != nil && bt.Judge.spec.MaxCost > 0 && (limit == 0 || bt.Judge.spec.MaxCost < limit) {
			limit = bt.Judge.spec.MaxCost
		}
	}
	if limit == 0 {
		return ctx, nil, nil
	}
	price := map[string]plan.Prices{}
	for _, j := range p.Judges {
		price[j.Name] = j.Prices
	}
	cost := func(endpoint string, prompt, completion int) float64 {
		pr, ok := price[endpoint]
		if !ok {
			return 0
		}
		return (float64(prompt)*pr.InputPerMTok + float64(completion)*pr.OutputPerMTok) / 1e6
	}
	results, err := st.Results(ctx, runID)
	if err != nil {
		return nil, nil, err
	}
	b := &budget{limit: limit}
	for _, r := range results {
		if r.Endpoint != "" && !r.Cached && r.Error == "" {
			b.spent += cost(r.Endpoint, r.PromptTokens, r.CompletionTokens)
		}
	}
	if b.spent >= limit {
		return nil, nil, &budgetError{spent: b.spent, limit: limit}
	}
	sctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	o.Sent = func(endpoint string, u provider.Usage) {
		c := cost(endpoint, u.PromptTokens, u.CompletionTokens)
		if c == 0 {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.spent += c
		if b.spent >= b.limit && b.over == nil {
			b.over = &budgetError{spent: b.spent, limit: b.limit}
			b.cancel()
		}
	}
	return sctx, b, nil
}
