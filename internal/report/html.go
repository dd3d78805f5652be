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
// which their packages write as GitHub-flavoured Markdown. It must never be
// given html.WithUnsafe: raw HTML is then left out and links to javascript:
// and the like are emptied. Sections are also passed through mdSection first,
// as in report.md, so raw HTML from data shows as text rather than vanishing.
var sectionMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

type htmlSection struct {
	Title string
	Body  template.HTML
}

//go:embed assets/report.html.tmpl
var assets embed.FS

// The template escapes every value by context (html/template); the text
// function also drops terminal escapes and control characters (plainText).
// Strings computed here are passed through plainText before they get there.
var htmlTmpl = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{"text": plainText}).ParseFS(assets, "assets/report.html.tmpl"))

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
	title := plainText(r.Plan.Name)
	if title == "" {
		title = "tunecheck run"
	}
	data := struct {
		R                        *Report
		Title, PlanHash, Verdict string
		Conf                     int
		Tasks                    []htmlTask
		Sections                 []htmlSection
	}{R: r, Title: title, PlanHash: plainText(shortFP(r.Plan.Hash)), Verdict: plainText(strings.ToUpper(string(r.Verdict))), Conf: int(math.Round(r.Bootstrap.Confidence * 100))}
	for _, t := range r.Tasks {
		ht := htmlTask{Name: plainText(t.Name), Type: plainText(t.Type), Path: plainText(t.Dataset.Path), Fingerprint: plainText(t.Dataset.Fingerprint), Items: t.Items, HasCmp: t.Comparison != nil, Primary: plainText(t.Primary), Worst: t.Worst}
		models := t.models()
		for _, m := range models {
			ht.Models = append(ht.Models, plainText(m))
		}
		for _, m := range t.Metrics {
			row := htmlRow{Metric: plainText(m), HasCmp: ht.HasCmp}
			for _, mod := range models {
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
				msg := fmt.Sprintf("%s: %d of %d items failed", plainText(m.Model), m.Failed, m.Failed+m.Scored)
				if len(m.Errors) > 0 {
					msg += " — " + plainText(m.Errors[0].Message)
				}
				ht.Failures = append(ht.Failures, msg)
			}
		}
		data.Tasks = append(data.Tasks, ht)
	}
	for _, sec := range r.Sections {
		var b bytes.Buffer
		if err := sectionMarkdown.Convert([]byte(mdSection(sec.Markdown)), &b); err != nil {
			return fmt.Errorf("rendering section %q: %w", sec.Title, err)
		}
		// goldmark's output is HTML it escaped itself, from Markdown without raw HTML.
		data.Sections = append(data.Sections, htmlSection{Title: plainText(sec.Title), Body: template.HTML(b.String())})
	}
	return htmlTmpl.Execute(w, data)
}
