package scorer

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
)

// How the scorer reference is rendered: the list `tunecheck scorers` prints,
// its JSON form, and the Markdown section of docs/plan.md (kept equal to the
// registry by docs_test.go).

// aggregation says in words how the task value of m is formed.
func aggregation(m Metric) string {
	if m.Corpus {
		return "corpus"
	}
	return "mean"
}

func perItem(m Metric) string {
	if m.Binary {
		return "0 or 1"
	}
	return "number"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Select returns the entries of the named scorers (all with no names), or an
// error naming the unknown ones.
func Select(names ...string) ([]Entry, error) {
	all := entries()
	if len(names) == 0 {
		return all, nil
	}
	out := make([]Entry, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(all, func(e Entry) bool { return e.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown scorer %q; known scorers: %s", n, strings.Join(Names(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// WriteList writes entries as plain text: each scorer with its metrics
// (direction, how the task value is formed, paired test) and options.
func WriteList(w io.Writer, entries []Entry) error {
	for i, e := range entries {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", e.Name, e.Doc)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  metric\tdirection\tvalue\tper item\ttest\n")
		for _, m := range e.Metrics {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", m.Name, m.Direction, aggregation(m), perItem(m), m.Test)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(e.Options) > 0 {
			fmt.Fprintf(tw, "  option\ttype\tdefault\tmeaning\n")
			for _, o := range e.Options {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", o.Name, o.Type, orDash(o.Default), o.Doc)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteJSON writes entries as an indented JSON list.
func WriteJSON(w io.Writer, entries []Entry) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(entries)
}

// Markdown renders the scorer reference of docs/plan.md: an index of every
// scorer, then each with its metrics, options, notes and an example.
func Markdown(w io.Writer) error {
	es := entries()
	var b strings.Builder
	b.WriteString("<!-- generated from internal/scorer's registry by `go test ./internal/scorer -update`; edit the registry, not this text -->\n\n")
	b.WriteString("A task's `scorers` lists scorers by name, each with its `options`: ")
	b.WriteString("`scorers: [{name: bleu}, {name: f1, options: {labels: [neg, pos], pos_label: pos}}]`. ")
	b.WriteString("Unknown options are errors. `tunecheck scorers` prints this reference (`--json` for tools). ")
	b.WriteString("A scorer gives the numbers of the metric of the same name in `tunecheck score` ([score.md](score.md)), ")
	b.WriteString("and an output a scorer cannot score (no reference, not a number, too few samples) makes the item failed, never 0.\n\n")
	b.WriteString("Each metric declares its **direction** (which way is better; neutral metrics are reported, never counted as wins), ")
	b.WriteString("how the task **value** is formed (the mean of per-item values, or a **corpus** value computed from per-item ")
	b.WriteString("statistics summed over the items, with a bootstrap over items for its interval), and the **paired test** ")
	b.WriteString("that compares two models on it.\n\n")
	b.WriteString("| scorer | metrics | what |\n|---|---|---|\n")
	for _, e := range es {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", e.Name, codeList(MetricNames(e.Metrics)), cell(e.Doc))
	}
	for _, e := range es {
		fmt.Fprintf(&b, "\n### `%s`\n\n%s.\n", e.Name, upperFirst(e.Doc))
		if e.Notes != "" {
			fmt.Fprintf(&b, "%s\n", e.Notes)
		}
		b.WriteString("\n| metric | direction | value | per item | paired test |\n|---|---|---|---|---|\n")
		for _, m := range e.Metrics {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", m.Name, m.Direction, aggregation(m), perItem(m), m.Test)
		}
		if len(e.Options) > 0 {
			b.WriteString("\n| option | type | default | meaning |\n|---|---|---|---|\n")
			for _, o := range e.Options {
				def := "-"
				if o.Default != "" {
					def = cell(o.Default)
					if !strings.Contains(o.Default, " ") || strings.HasPrefix(o.Default, "[") {
						def = "`" + o.Default + "`"
					}
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", o.Name, o.Type, def, cell(o.Doc))
			}
		}
		if e.Example != nil {
			fmt.Fprintf(&b, "\n```yaml\nscorers: [%s]\n```\n", planEntry(e))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MetricsMarkdown renders the table of plan scorers in docs/metrics.md.
func MetricsMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!-- generated from internal/scorer's registry by `go test ./internal/scorer -update` -->\n\n")
	b.WriteString("| plan scorer | metrics | what, and the reference it matches |\n|---|---|---|\n")
	for _, e := range entries() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", e.Name, codeList(MetricNames(e.Metrics)), cell(e.Doc))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func codeList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return strings.Join(out, ", ")
}

// cell escapes a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// planEntry writes a scorer with its example options as a YAML flow mapping.
func planEntry(e Entry) string {
	if len(e.Example) == 0 {
		return "{name: " + yamlScalar(e.Name) + "}"
	}
	return "{name: " + yamlScalar(e.Name) + ", options: " + yamlFlow(map[string]any(e.Example)) + "}"
}

var plainYAML = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func yamlScalar(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~":
		return fmt.Sprintf("%q", s)
	}
	if plainYAML.MatchString(s) {
		return s
	}
	// A JSON string is a valid double-quoted YAML scalar.
	q, _ := json.Marshal(s)
	return string(q)
}

func yamlFlow(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = yamlScalar(k) + ": " + yamlFlow(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Options:
		return yamlFlow(map[string]any(x))
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = yamlFlow(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return yamlScalar(x)
	}
	return fmt.Sprint(v)
}
