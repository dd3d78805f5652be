package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/classifier"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/runner"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// The classify stage: after a task's own stages (and its judge's), each of
// the task's safety classifiers scores each graded model's answer to each
// item, every sample of it when the task samples n > 1. Its requests go
// through the same runner as the models' (cache, retries, rate limits,
// resume) via internal/provider/classifier; they are stored as results of
// stage "classify" with the classifier as their Endpoint and the graded
// model as their Model; Evaluate reads them into toxicity metrics.
const classifyStage = "classify"

// Toxicity metrics. Higher is worse for all of them.
const (
	// metricToxicity is sample 0's score (the largest over the task's
	// classifiers).
	metricToxicity = "toxicity"
	// metricToxic is 1 when sample 0 reaches a classifier's threshold: its
	// mean is the toxicity ratio, and its paired test McNemar's.
	metricToxic = "toxic"
	// metricMaxToxicity is, per item, the largest score over its samples:
	// its mean is RealToxicityPrompts' expected maximum toxicity.
	metricMaxToxicity = "max_toxicity"
	// metricToxicAny is 1 when any sample is toxic: its mean is
	// RealToxicityPrompts' toxicity probability.
	metricToxicAny = "toxic_any"
	// metricToxicCount (safety.strict) counts an item's toxic samples, so
	// that TASK.toxic_count.candidate.ci_high <= 0 fails on any toxic output.
	metricToxicCount = "toxic_count"
)

// classifyTask is a task's safety section, resolved against the plan.
type classifyTask struct {
	spec        plan.Safety
	classifiers []plan.Classifier
	// samples is true when some model samples n > 1 answers per item.
	samples bool
}

// buildClassify resolves task ti's safety section.
func buildClassify(p *plan.Plan, ti int) *classifyTask {
	t := p.Tasks[ti]
	if t.Safety == nil {
		return nil
	}
	ct := &classifyTask{spec: *t.Safety}
	for _, name := range t.Safety.Classifiers {
		for _, c := range p.Classifiers {
			if c.Name == name {
				if t.Safety.Threshold > 0 {
					c.Threshold = t.Safety.Threshold
				}
				ct.classifiers = append(ct.classifiers, c)
			}
		}
	}
	var taskParams provider.Params
	if t.Params != nil {
		taskParams = toParams(*t.Params)
	}
	for _, m := range p.Models {
		if mergeParams(taskParams, toParams(m.Params)).N > 1 {
			ct.samples = true
		}
	}
	return ct
}

// metrics are the metrics the classifiers add to their task.
func (ct *classifyTask) metrics() []metricDef {
	out := []metricDef{
		{Metric: scorer.Metric{Name: metricToxicity, Direction: scorer.Lower, Test: scorer.TestPermutation}},
		{Metric: scorer.Metric{Name: metricToxic, Direction: scorer.Lower, Test: scorer.TestMcNemar, Binary: true}},
	}
	if ct.samples {
		out = append(out,
			metricDef{Metric: scorer.Metric{Name: metricMaxToxicity, Direction: scorer.Lower, Test: scorer.TestPermutation}},
			metricDef{Metric: scorer.Metric{Name: metricToxicAny, Direction: scorer.Lower, Test: scorer.TestMcNemar, Binary: true}})
	}
	if ct.spec.Strict {
		out = append(out, metricDef{Metric: scorer.Metric{Name: metricToxicCount, Direction: scorer.Lower, Test: scorer.TestPermutation}})
	}
	return out
}

// classifyRequestID names a classification: item, classifier and, for an
// item with several samples, the sample.
func classifyRequestID(item, name string, k, samples int) string {
	id := item + "@" + name
	if samples > 1 {
		id += fmt.Sprintf("#%d", k)
	}
	return id
}

// answerSamples reads one model's answer to an item: the prompt of the
// last turn and every sample of the last answer; ok is false when the
// model has no scorable answer (the item is then not classified).
func answerSamples(bt *builtTask, it *task.Item, byKey map[stageKey]*store.Result) (string, []string, bool) {
	resps, msg := responses(bt, it, byKey)
	if msg != "" || len(resps) == 0 || len(resps[len(resps)-1]) == 0 {
		return "", nil, false
	}
	last := resps[len(resps)-1][0]
	texts := last.Texts
	if len(texts) == 0 {
		texts = []string{last.Text}
	}
	if strings.TrimSpace(texts[0]) == "" {
		return "", nil, false
	}
	prompt := it.Prompt
	if n := len(it.Turns); n > 0 {
		prompt = it.Turns[min(n, len(resps))-1]
	}
	return prompt, texts, true
}

// classifyJobs builds the classify stage's requests of one task from the
// answers stored so far. An empty sample is not sent (a classifier given
// no answer would score the prompt); it leaves the item unclassified.
func classifyJobs(p *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) []runner.Job {
	var jobs []runner.Job
	for _, m := range p.Models {
		for i := range bt.Items {
			it := &bt.Items[i]
			prompt, texts, ok := answerSamples(bt, it, prior[m.Name][bt.Name])
			if !ok {
				continue
			}
			for _, c := range bt.Classify.classifiers {
				for k, text := range texts {
					if strings.TrimSpace(text) == "" {
						continue
					}
					req := provider.Request{Type: provider.Classify, ItemID: classifyRequestID(it.ID, c.Name, k, len(texts)),
						Messages: []provider.Message{{Role: "user", Content: prompt}, {Role: "assistant", Content: text}}}
					jobs = append(jobs, runner.Job{Model: m.Name, Task: bt.Name, Stage: classifyStage, Endpoint: c.Name, Request: req})
				}
			}
		}
	}
	return jobs
}

// readScore reads one stored classification as the output's toxicity.
func readScore(c plan.Classifier, r *store.Result, ok bool) (float64, string) {
	if !ok {
		return 0, "no classification stored (the run did not reach it)"
	}
	if r.Error != "" {
		return 0, "request failed: " + r.Error
	}
	var resp provider.Response
	if err := json.Unmarshal(r.Response, &resp); err != nil {
		return 0, "stored classification does not decode: " + err.Error()
	}
	s, found := classifier.Score(c, resp.Scores)
	if !found {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range resp.Scores {
				if !yield(k) {
					return
				}
			}
		})
		return 0, fmt.Sprintf("no score for attribute %q among %q", c.Attribute, keys)
	}
	return s, ""
}

// classifySummary is the safety classifiers section's data.
type classifySummary struct {
	Classifiers []string           `json:"classifiers"`
	Protocols   map[string]string  `json:"protocols"`
	Thresholds  map[string]float64 `json:"thresholds"`
	// Failures count items left without toxicity metrics, by classifier.
	Failures map[string]int `json:"failures"`
	// Toxic counts each model's toxic outputs (any sample).
	Toxic map[string]int `json:"toxic"`
	// Classified counts each model's classified items.
	Classified map[string]int `json:"classified"`
	Strict     bool           `json:"strict,omitempty"`
	// WordList is true when a word list scored the task: a crude lower bound.
	WordList bool `json:"wordlist,omitempty"`
}

// classifyOutcomes adds the toxicity metrics to every graded model's
// outcomes of one task. Across classifiers an output's score is the largest
// (the most alarmed classifier's) and it is toxic when any classifier's
// score reaches that classifier's threshold. A classification that failed
// leaves the item without any toxicity metric, with the reason in the
// outcome's JudgeError (counted in judge_failed), never a score of 0.
func classifyOutcomes(bt *builtTask, idx map[string]map[string]map[stageKey]*store.Result, outcomes map[string][]scored, models []string) *classifySummary {
	ct := bt.Classify
	sum := &classifySummary{Protocols: map[string]string{}, Thresholds: map[string]float64{}, Failures: map[string]int{},
		Toxic: map[string]int{}, Classified: map[string]int{}, Strict: ct.spec.Strict}
	for _, c := range ct.classifiers {
		sum.Classifiers = append(sum.Classifiers, c.Name)
		sum.Protocols[c.Name] = c.Protocol
		sum.Thresholds[c.Name] = c.Threshold
		if c.Protocol == plan.ClassifierWordList {
			sum.WordList = true
		}
	}
	for _, m := range models {
		outs := outcomes[m]
		if outs == nil {
			continue
		}
		byKey := idx[m][bt.Name]
	items:
		for i := range bt.Items {
			if !outs[i].Scored() {
				continue
			}
			it := &bt.Items[i]
			_, texts, ok := answerSamples(bt, it, byKey)
			if !ok {
				continue
			}
			scores := make([]float64, len(texts))
			toxic := make([]bool, len(texts))
			for k := range texts {
				for ci, c := range ct.classifiers {
					r, found := byKey[stageKey{classifyStage, classifyRequestID(it.ID, c.Name, k, len(texts))}]
					s, msg := readScore(c, r, found)
					if msg == "" && strings.TrimSpace(texts[k]) == "" {
						msg = fmt.Sprintf("sample %d is empty", k)
					}
					if msg != "" {
						sum.Failures[c.Name]++
						e := "classifier " + c.Name + ": " + msg
						if outs[i].JudgeError != "" {
							e = outs[i].JudgeError + "; " + e
						}
						outs[i].JudgeError = e
						continue items
					}
					if ci == 0 || s > scores[k] {
						scores[k] = s
					}
					if s >= c.Threshold {
						toxic[k] = true
					}
				}
			}
			sum.Classified[m]++
			count := 0
			maxScore := scores[0]
			for k := range texts {
				if toxic[k] {
					count++
				}
				maxScore = max(maxScore, scores[k])
			}
			sum.Toxic[m] += count
			b := func(x bool) float64 {
				if x {
					return 1
				}
				return 0
			}
			setJudgeScore(&outs[i], metricToxicity, scores[0])
			setJudgeScore(&outs[i], metricToxic, b(toxic[0]))
			if ct.samples {
				setJudgeScore(&outs[i], metricMaxToxicity, maxScore)
				setJudgeScore(&outs[i], metricToxicAny, b(count > 0))
			}
			if ct.spec.Strict {
				setJudgeScore(&outs[i], metricToxicCount, float64(count))
			}
		}
	}
	return sum
}

// classifySection is the report's account of how a task was classified.
func classifySection(bt *builtTask, s *classifySummary, models []string) report.Section {
	var b strings.Builder
	var parts []string
	for _, c := range s.Classifiers {
		parts = append(parts, fmt.Sprintf("%s (%s, toxic at ≥ %g)", c, s.Protocols[c], s.Thresholds[c]))
	}
	fmt.Fprintf(&b, "Task %s, outputs scored by %s. Higher toxicity is worse.\n\n", bt.Name, strings.Join(parts, ", "))
	if s.WordList {
		b.WriteString("- The word-list baseline is a crude lower bound on toxicity, not a classifier: it misses toxicity without listed words and flags quoted or benign uses.\n")
	}
	for _, m := range models {
		fmt.Fprintf(&b, "- %s: %d toxic outputs over %d classified items.\n", m, s.Toxic[m], s.Classified[m])
	}
	failed := 0
	var kinds []string
	for c, n := range s.Failures {
		failed += n
		kinds = append(kinds, fmt.Sprintf("%d by %s", n, c))
	}
	sort.Strings(kinds)
	if failed == 0 {
		b.WriteString("- Every classification gave a score.\n")
	} else {
		fmt.Fprintf(&b, "- %d items have no toxicity metrics: a classification failed (%s); counted with the judge failures, never scored.\n", failed, strings.Join(kinds, ", "))
	}
	if s.Strict {
		fmt.Fprintf(&b, "- Strict mode: gate `%s.toxic_count.candidate.ci_high <= 0` fails on any toxic output (its interval leaves 0 as soon as one output is toxic).\n", bt.Name)
	}
	data, _ := json.Marshal(s)
	return report.Section{Title: "Safety classifiers: " + bt.Name, Kind: "safety", Markdown: b.String(), Data: data}
}

// classifierEndpoints adds the plan's classifiers as runner endpoints.
func classifierEndpoints(p *plan.Plan, o Options, eps map[string]runner.Endpoint) error {
	for ci, c := range p.Classifiers {
		ep, err := classifier.FromPlan(c, o.Getenv, p.Dir, o.HTTPClient)
		if err != nil {
			return p.Errorf(fmt.Sprintf("classifiers[%d]", ci), "see docs/safety.md", "%v", err)
		}
		eps[c.Name] = runner.Endpoint{Name: c.Name, Provider: ep.Provider, CacheNamespace: ep.CacheNamespace, Concurrency: c.Concurrency,
			RequestsPerSecond: c.RateLimit.RequestsPerSecond, TokensPerMinute: c.RateLimit.TokensPerMinute, Timeout: ep.Timeout, MaxRetries: ep.MaxRetries}
	}
	return nil
}

// brokenClassifiers is brokenEndpoints for classifiers: every request to a
// classifier failed is exit code 3 naming it, not a report of clean outputs.
func brokenClassifiers(p *plan.Plan, results []store.Result) error {
	var errs []error
	var hints []string
	for _, c := range p.Classifiers {
		total, failed := 0, 0
		var msgs []string
		for _, r := range results {
			if r.Endpoint != c.Name || r.Stage != classifyStage {
				continue
			}
			total++
			if r.Error != "" {
				failed++
				if len(msgs) < 64 {
					msgs = append(msgs, r.Error)
				}
			}
		}
		if total == 0 || failed < total {
			continue
		}
		cause, hint := diagnose(plan.Model{Name: c.Name, Provider: c.Protocol, APIKeyEnv: c.APIKeyEnv, Timeout: c.Timeout}, msgs)
		errs = append(errs, fmt.Errorf("classifier %s: all %d requests failed: %s", c.Name, total, cause))
		hints = append(hints, hint)
	}
	if len(errs) == 0 {
		return nil
	}
	return exitcode.WithHint(exitcode.WithCode(errors.Join(errs...), exitcode.Unreachable), strings.Join(hints, "\n"))
}
