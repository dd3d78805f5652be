package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Info is a benchmark's listing, as `tunecheck tasks -f json` writes it.
type Info struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	NShot   int      `json:"n_shot"`
	Metrics []string `json:"metrics"`
	Version string   `json:"version"`
	Source  string   `json:"source"`
	Licence string   `json:"licence"`
	// Tasks are the lm-eval subtasks (mmlu's 57 subjects).
	Tasks   []string `json:"tasks,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	Unsafe  bool     `json:"unsafe_code,omitempty"`
}

// Info returns the listing of b.
func (b *Benchmark) Info() Info {
	return Info{Name: b.Name, Type: b.Type, NShot: b.NShot, Metrics: b.Metrics, Version: b.Version,
		Source: b.Source, Licence: b.Licence, Tasks: b.Tasks, Aliases: b.Alias, Unsafe: b.Unsafe}
}

// WriteList writes one line per benchmark.
func WriteList(w io.Writer, bs []*Benchmark) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tN-SHOT\tMETRICS\tVERSION\tSOURCE\tLICENCE")
	for _, b := range bs {
		name := b.Name
		if len(b.Tasks) > 0 {
			name = fmt.Sprintf("%s (%d tasks)", b.Name, len(b.Tasks))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", name, b.Type, b.NShot, strings.Join(b.Metrics, ","), b.Version, b.Source, b.Licence)
	}
	return tw.Flush()
}

// WriteJSON writes the listings as a JSON array.
func WriteJSON(w io.Writer, bs []*Benchmark) error {
	out := make([]Info, len(bs))
	for i, b := range bs {
		out[i] = b.Info()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
