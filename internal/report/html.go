package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// sectionMarkdown renders report sections (training curves, leakage…),
// which their packages write as GitHub-flavoured Markdown. Raw HTML in them
// is not passed through (goldmark's default), so a training row cannot
// inject markup into the page.
var sectionMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

type htmlSection struct {
	Title string
	Body  template.HTML
}

//go:embed assets/report.html.tmpl
var assets embed.FS

var htmlTmpl = template.Must(template.ParseFS(assets, "assets/report.html.tmpl"))

type htmlRow struct {
	Metric        string
	Cells         []string
	HasCmp        bool
	Delta, P, WTL string
	Dir           string
}

type htmlTask struct {
	Name, Type, Path, Fingerprint, Primary string
	Items                                  int
	Models                                 []string
	HasCmp                                 bool
	Rows                                   []htmlRow
	Failures                               []string
	Worst                                  []Example
}

// HTML writes a self-contained page (inline CSS, no scripts or network).
func HTML(w io.Writer, r *Report) error {
	title := r.Plan.Name
	if title == "" {
		title = "tunecheck run"
	}
	data := struct {
		R                        *Report
		Title, PlanHash, Verdict string
		Conf                     int
		Tasks                    []htmlTask
		Sections                 []htmlSection
	}{R: r, Title: title, PlanHash: shortFP(r.Plan.Hash), Verdict: strings.ToUpper(string(r.Verdict)), Conf: int(math.Round(r.Bootstrap.Confidence * 100))}
	for _, t := range r.Tasks {
		ht := htmlTask{Name: t.Name, Type: t.Type, Path: t.Dataset.Path, Fingerprint: t.Dataset.Fingerprint, Items: t.Items, Models: t.models(), HasCmp: t.Comparison != nil, Primary: t.Primary, Worst: t.Worst}
		for _, m := range t.Metrics {
			row := htmlRow{Metric: m, HasCmp: ht.HasCmp}
			for _, mod := range ht.Models {
				s, ok := t.score(mod, m)
				row.Cells = append(row.Cells, summaryCell(s, ok))
			}
			if c := t.Comparison; c != nil {
				p := c.Metrics[m]
				row.Delta, row.P, row.WTL = deltaCell(p), pvalue(p.PAdjusted), fmt.Sprintf("%d / %d / %d", p.Wins, p.Ties, p.Losses)
				if p.N > 0 && p.CI.Low > 0 {
					row.Dir = "up"
				} else if p.N > 0 && p.CI.High < 0 {
					row.Dir = "down"
				}
			}
			ht.Rows = append(ht.Rows, row)
		}
		for _, m := range t.PerModel {
			if m.Failed > 0 {
				msg := fmt.Sprintf("%s: %d of %d items failed", m.Model, m.Failed, m.Failed+m.Scored)
				if len(m.Errors) > 0 {
					msg += " — " + m.Errors[0].Message
				}
				ht.Failures = append(ht.Failures, msg)
			}
		}
		data.Tasks = append(data.Tasks, ht)
	}
	for _, sec := range r.Sections {
		var b bytes.Buffer
		if err := sectionMarkdown.Convert([]byte(sec.Markdown), &b); err != nil {
			return fmt.Errorf("rendering section %q: %w", sec.Title, err)
		}
		data.Sections = append(data.Sections, htmlSection{Title: sec.Title, Body: template.HTML(b.String())})
	}
	return htmlTmpl.Execute(w, data)
}
