package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/leakage"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// trainingSections builds the report sections a plan's `training` asks for:
// training curves (with a plot written to outDir), leakage of every task's
// dataset into the training data, and memorisation of training data in the
// candidate's outputs. They are side analyses of files the user already has:
// none needs a model.
func trainingSections(ctx context.Context, p *plan.Plan, tasks []*builtTask, results []store.Result, outDir string) ([]report.Section, error) {
	t := p.Training
	if t == nil {
		return nil, nil
	}
	var out []report.Section
	if len(t.Logs) > 0 {
		paths := make([]string, len(t.Logs))
		for i, l := range t.Logs {
			paths[i] = p.Resolve(l)
		}
		opts := curves.DefaultOptions()
		if t.Patience > 0 {
			opts.Patience = t.Patience
		}
		as, err := curves.Analyze(paths, opts)
		if err != nil {
			return nil, fmt.Errorf("training.logs: %w", err)
		}
		if len(as) == len(t.Logs) {
			for i := range as {
				as[i].Path = t.Logs[i] // as written in the plan, not machine-specific
			}
		}
		const plot = "training-curves.svg"
		var svg bytes.Buffer
		if err := curves.RenderPlot(&svg, "svg", as); err != nil {
			return nil, fmt.Errorf("training.logs: drawing the plot: %w", err)
		}
		// The file serves report.md; the HTML report embeds the same SVG.
		if err := os.WriteFile(filepath.Join(outDir, plot), svg.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("training.logs: writing the plot: %w", err)
		}
		var b bytes.Buffer
		if err := curves.WriteMarkdown(&b, as, ""); err != nil {
			return nil, err
		}
		data, err := json.Marshal(as)
		if err != nil {
			return nil, err
		}
		out = append(out, report.Section{Title: curves.MarkdownTitle, Kind: "training_curves", Markdown: b.String(), Data: data, SVG: svg.String(), SVGFile: plot})
	}
	if t.Data == "" {
		return out, nil
	}
	train := leakage.FileSource(p.Resolve(t.Data), leakage.ReadOptions{Format: "auto"})
	train.Name = t.Data
	methods := t.Leakage
	if len(methods) == 0 {
		methods = []string{leakage.MethodExact, leakage.MethodMinHash}
	}
	var b bytes.Buffer
	leaks := map[string]*leakage.Report{}
	for ti, bt := range tasks {
		pt := p.Tasks[ti]
		if f := strings.ToLower(pt.Dataset.Format); f != "" && f != "auto" && f != "jsonl" {
			fmt.Fprintf(&b, "### Task `%s`\n\nNot checked: leakage reads JSONL or plain text, and this dataset is %s.\n\n", bt.Name, f)
			continue
		}
		test := leakage.FileSource(p.Resolve(pt.Dataset.Path), leakage.ReadOptions{Format: "auto", IDField: pt.Dataset.IDField})
		test.Name = pt.Dataset.Path
		opts := leakage.Options{Methods: methods, Seed: p.Seed}
		if len(t.Benchmarks) > 0 && ti == 0 {
			opts.Methods = append(append([]string{}, methods...), leakage.MethodNgram)
			opts.Benchmarks = t.Benchmarks
		}
		rep, err := leakage.Check(ctx, train, &test, opts)
		if err != nil {
			return nil, fmt.Errorf("training.data: checking task %s: %w", bt.Name, err)
		}
		leaks[bt.Name] = rep
		fmt.Fprintf(&b, "### Task `%s`\n\n", bt.Name)
		var lb bytes.Buffer
		if err := leakage.WriteMarkdown(&lb, rep); err != nil {
			return nil, err
		}
		// The section has its own heading; drop the standalone report's.
		body := lb.String()
		if strings.HasPrefix(body, "## ") {
			if i := strings.Index(body, "\n"); i >= 0 {
				body = strings.TrimLeft(body[i+1:], "\n")
			}
		}
		b.WriteString(body)
		b.WriteString("\n")
	}
	data, err := json.Marshal(leaks)
	if err != nil {
		return nil, err
	}
	out = append(out, report.Section{Title: "Leakage", Kind: "leakage", Markdown: b.String(), Data: data})

	model := p.Compare.Candidate
	if model == "" && len(p.Models) > 0 {
		model = p.Models[len(p.Models)-1].Name
	}
	outputs := candidateOutputs(tasks, results, model)
	if len(outputs) == 0 {
		return out, nil
	}
	memo, err := leakage.Memorisation(ctx, outputs, train, leakage.MemoOptions{MinSpan: t.MemorisationMinSpan})
	if err != nil {
		return nil, fmt.Errorf("training.data: memorisation: %w", err)
	}
	b.Reset()
	fmt.Fprintf(&b, "Outputs of `%s` checked for verbatim spans of the training data.\n\n```\n", model)
	if err := leakage.WriteMemoText(&b, memo); err != nil {
		return nil, err
	}
	b.WriteString("```\n")
	if data, err = json.Marshal(memo); err != nil {
		return nil, err
	}
	out = append(out, report.Section{Title: "Memorisation", Kind: "memorisation", Markdown: b.String(), Data: data})
	return out, nil
}

// candidateOutputs collects one model's generated texts, ids "task/item".
func candidateOutputs(tasks []*builtTask, results []store.Result, model string) []leakage.Output {
	gen := map[string]bool{}
	for _, bt := range tasks {
		if bt.Type == task.Generate {
			gen[bt.Name] = true
		}
	}
	var out []leakage.Output
	for _, r := range results {
		if r.Model != model || !gen[r.Task] || r.Error != "" {
			continue
		}
		var resp provider.Response
		if json.Unmarshal(r.Response, &resp) != nil {
			continue
		}
		out = append(out, leakage.Output{ID: r.Task + "/" + r.ItemID, Text: resp.Text})
	}
	return out
}
