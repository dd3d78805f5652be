package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/runner"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
	"github.com/tunecheck/tunecheck/metrics/lm"
)

// checkTrainTasks checks each perplexity task's train_task names another
// perplexity task of the plan, before anything runs.
func checkTrainTasks(p *plan.Plan, tasks []*builtTask) error {
	byName := map[string]*builtTask{}
	for _, bt := range tasks {
		byName[bt.Name] = bt
	}
	for ti, t := range p.Tasks {
		name, ok := t.Options[task.OptTrainTask].(string)
		if !ok || t.Type != task.Perplexity {
			continue
		}
		if other, ok := byName[name]; !ok || other.Type != task.Perplexity {
			return p.Errorf(fmt.Sprintf("tasks[%d].options.train_task", ti), "name a perplexity task of this plan whose dataset is the text the model was trained on",
				"train_task %q is not a perplexity task of this plan", name)
		}
	}
	return nil
}

// checkRolling asks every model that runs a perplexity task whether it can
// score token windows, before any request is sent: an endpoint without a
// tokenize route (or a context length, or a prefix token) is refused here,
// not after half the run.
func checkRolling(ctx context.Context, p *plan.Plan, tasks []*builtTask, endpoints map[string]runner.Endpoint) error {
	var windows []provider.Window
	for _, bt := range tasks {
		if bt.Type != task.Perplexity {
			continue
		}
		if w := task.PerplexityWindow(bt.Spec.Options); !slices.ContainsFunc(windows, func(x provider.Window) bool { return sameWindow(x, w) }) {
			windows = append(windows, w)
		}
	}
	if len(windows) == 0 {
		return nil
	}
	for _, m := range p.Models {
		ep, ok := endpoints[m.Name]
		if !ok {
			continue
		}
		c, ok := ep.Provider.(provider.RollingChecker)
		if !ok {
			return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("model %s (provider %s) cannot run perplexity tasks: it has no tokenize route to cut the text into token windows", m.Name, m.Provider), exitcode.BadInput),
				"serve the model with vLLM behind provider: openai (POST /tokenize and prompt logprobs with echo)")
		}
		for _, w := range windows {
			if err := c.CheckRolling(ctx, w); err != nil {
				code := exitcode.BadInput
				if !errors.Is(err, provider.ErrUnsupported) && provider.IsRetryable(err) {
					code = exitcode.Unreachable // the server did not answer: not the plan's fault
				}
				return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("model %s cannot run perplexity tasks: %w", m.Name, err), code),
					"perplexity tasks need the server's /tokenize route and prompt logprobs with echo (vLLM); `tunecheck probe` checks an endpoint")
			}
		}
	}
	return nil
}

func sameWindow(a, b provider.Window) bool {
	if a.MaxLength != b.MaxLength || (a.PrefixToken == nil) != (b.PrefixToken == nil) {
		return false
	}
	return a.PrefixToken == nil || *a.PrefixToken == *b.PrefixToken
}

// gapRow is one model's train-vs-held-out gap in the report's data.
type gapRow struct {
	HeldOut string      `json:"held_out_task"`
	Train   string      `json:"train_task"`
	Model   string      `json:"model"`
	Docs    [2]int      `json:"documents"` // held-out, train
	Gap     scorer.Gap  `json:"gap"`
	Delta   *gapDeltaJS `json:"delta,omitempty"`
}

type gapDeltaJS struct {
	Baseline  string         `json:"baseline"`
	Candidate string         `json:"candidate"`
	Delta     float64        `json:"delta"`
	Interval  stats.Interval `json:"interval"`
}

// gapSection reports, for each perplexity task with a train_task, each
// model's held-out minus train bits per byte and, when the plan compares two
// models, the candidate's gap minus the baseline's over the documents both
// scored (scorer.PairedGapDelta). False when no task pairs texts.
func gapSection(p *plan.Plan, tasks []*builtTask, results []store.Result) (report.Section, bool, error) {
	cfg := stats.Config{Resamples: p.Bootstrap.Resamples, Confidence: p.Bootstrap.Confidence, Seed: p.Seed}
	conf := cfg.Confidence
	if conf <= 0 || conf >= 1 {
		conf = 0.95
	}
	docs := perplexityDocs(results)
	var rows []gapRow
	var b strings.Builder
	for _, bt := range tasks {
		train, ok := bt.Spec.Options[task.OptTrainTask].(string)
		if bt.Type != task.Perplexity || !ok {
			continue
		}
		if b.Len() == 0 {
			fmt.Fprintf(&b, "Bits per byte on held-out text minus on training text, with a %g%% bootstrap interval over documents. "+
				"A fine-tune that memorises its training data widens the gap; bits per byte does not depend on the tokenizer.\n\n", 100*conf)
		}
		fmt.Fprintf(&b, "**%s** (held-out) vs **%s** (train)\n\n| model | held-out bits/byte | train bits/byte | gap | interval |\n|---|---|---|---|---|\n", bt.Name, train)
		for _, m := range p.Models {
			h, t := docsOf(docs, m.Name, bt.Name, nil), docsOf(docs, m.Name, train, nil)
			if len(h) == 0 || len(t) == 0 {
				fmt.Fprintf(&b, "| %s | — | — | — | no scored documents |\n", m.Name)
				continue
			}
			g, err := scorer.BitsPerByteGap(h, t, cfg)
			if err != nil {
				return report.Section{}, false, fmt.Errorf("task %s, model %s: %w", bt.Name, m.Name, err)
			}
			rows = append(rows, gapRow{HeldOut: bt.Name, Train: train, Model: m.Name, Docs: [2]int{len(h), len(t)}, Gap: g})
			fmt.Fprintf(&b, "| %s | %.4f | %.4f | %+.4f | [%+.4f, %+.4f] |\n", m.Name, g.HeldOut, g.Train, g.Gap, g.Interval.Low, g.Interval.High)
		}
		base, cand := p.Compare.Baseline, p.Compare.Candidate
		if base == "" || cand == "" {
			b.WriteString("\n")
			continue
		}
		// Pair on the documents both models scored.
		hIDs := commonIDs(docs, bt.Name, base, cand)
		tIDs := commonIDs(docs, train, base, cand)
		if len(hIDs) == 0 || len(tIDs) == 0 {
			fmt.Fprintf(&b, "\nNo document was scored by both %s and %s in both texts: no paired delta.\n\n", base, cand)
			continue
		}
		d, err := scorer.PairedGapDelta(docsOf(docs, base, bt.Name, hIDs), docsOf(docs, cand, bt.Name, hIDs), docsOf(docs, base, train, tIDs), docsOf(docs, cand, train, tIDs), cfg)
		if err != nil {
			return report.Section{}, false, fmt.Errorf("task %s: %w", bt.Name, err)
		}
		rows = append(rows, gapRow{HeldOut: bt.Name, Train: train, Model: cand, Docs: [2]int{len(hIDs), len(tIDs)}, Gap: d.Candidate,
			Delta: &gapDeltaJS{Baseline: base, Candidate: cand, Delta: d.Delta, Interval: d.Interval}})
		verdict := "no clear change"
		switch {
		case d.Interval.Low > 0:
			verdict = "the gap widened: the fine-tune fits its training text better than held-out text by more than the base did (memorisation)"
		case d.Interval.High < 0:
			verdict = "the gap narrowed"
		}
		fmt.Fprintf(&b, "\nGap of %s minus gap of %s, paired over %d held-out and %d train documents: **%+.4f** bits/byte [%+.4f, %+.4f] — %s.\n\n",
			cand, base, len(hIDs), len(tIDs), d.Delta, d.Interval.Low, d.Interval.High, verdict)
	}
	if b.Len() == 0 {
		return report.Section{}, false, nil
	}
	data, err := json.Marshal(rows)
	if err != nil {
		return report.Section{}, false, err
	}
	return report.Section{Title: "Train vs held-out perplexity gap", Kind: "perplexity_gap", Markdown: b.String(), Data: data}, true, nil
}

// pplDoc is one scored document of a perplexity task.
type pplDoc struct {
	id  string
	doc lm.Doc
}

// perplexityDocs reads the successful rolling results: model → task → docs.
func perplexityDocs(results []store.Result) map[string]map[string][]pplDoc {
	out := map[string]map[string][]pplDoc{}
	for _, r := range results {
		if r.Error != "" || r.Endpoint != "" {
			continue
		}
		var req provider.Request
		var resp provider.Response
		if json.Unmarshal(r.Request, &req) != nil || req.Type != provider.LoglikelihoodRolling || req.Window == nil || json.Unmarshal(r.Response, &resp) != nil {
			continue
		}
		if out[r.Model] == nil {
			out[r.Model] = map[string][]pplDoc{}
		}
		out[r.Model][r.Task] = append(out[r.Model][r.Task], pplDoc{id: r.ItemID,
			doc: lm.Doc{LogLikelihood: resp.LogLikelihood, Tokens: resp.Tokens, Words: lm.CountWords(req.Prompt), Bytes: lm.CountBytes(req.Prompt)}})
	}
	for _, byTask := range out {
		for _, ds := range byTask {
			slices.SortFunc(ds, func(a, b pplDoc) int { return strings.Compare(a.id, b.id) })
		}
	}
	return out
}

// docsOf is a model's documents of a task, in item order; only ids (sorted)
// when ids is not nil.
func docsOf(all map[string]map[string][]pplDoc, model, taskName string, ids []string) []lm.Doc {
	var out []lm.Doc
	for _, d := range all[model][taskName] {
		if ids != nil {
			if _, ok := slices.BinarySearch(ids, d.id); !ok {
				continue
			}
		}
		out = append(out, d.doc)
	}
	return out
}

// commonIDs are the items of a task both models scored, sorted.
func commonIDs(all map[string]map[string][]pplDoc, taskName, a, b string) []string {
	in := map[string]bool{}
	for _, d := range all[a][taskName] {
		in[d.id] = true
	}
	var out []string
	for _, d := range all[b][taskName] {
		if in[d.id] {
			out = append(out, d.id)
		}
	}
	return out
}
