package report

import (
	"bytes"
	"embed"
	"encoding/base64"
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
	Plot  template.URL
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
	for _, t := range r.allTasks() {
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
				row.Delta, row.P, row.WTL = deltaCell(p, t.direction(m)), pvalue(p.PAdjusted), wtl(p, t.direction(m), " / ")
				_, row.Dir = mark(p, t.direction(m))
			}
			ht.Rows = append(ht.Rows, row)
		}
		for _, m := range t.PerModel {
			if line := countsLine(m, plainText); line != "" {
				ht.Failures = append(ht.Failures, line)
			}
		}
		if line := excludedLine(t.Comparison); line != "" {
			ht.Failures = append(ht.Failures, line)
		}
		if len(t.Tasks) > 0 {
			ht.Type = fmt.Sprintf("group of %d tasks", len(t.Tasks))
		}
		data.Tasks = append(data.Tasks, ht)
	}
	for _, sec := range r.Sections {
		var b bytes.Buffer
		if err := sectionMarkdown.Convert([]byte(mdSection(sec.Markdown)), &b); err != nil {
			return fmt.Errorf("rendering section %q: %w", sec.Title, err)
		}
		// goldmark's output is HTML it escaped itself, from Markdown without raw HTML.
		hs := htmlSection{Title: plainText(sec.Title), Body: template.HTML(b.String())}
		if sec.SVG != "" {
			// The plot tunecheck drew, embedded as an image (a data: URL in an
			// <img> runs no script), so the page needs no file beside it.
			hs.Plot = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(sec.SVG)))
		}
		data.Sections = append(data.Sections, hs)
	}
	return htmlTmpl.Execute(w, data)
}
