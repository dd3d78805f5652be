package scorer

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated scorer reference in docs/plan.md and docs/metrics.md")

// The scorer reference in the docs is generated from the registry; this test
// fails when they differ, and `go test ./internal/scorer -update` rewrites the
// text between the markers (and nothing else in the file).
func TestDocsMatchRegistry(t *testing.T) {
	for _, d := range []struct {
		file, marker string
		render       func(io.Writer) error
	}{
		{"plan.md", "scorers", Markdown},
		{"metrics.md", "plan-scorers", MetricsMarkdown},
	} {
		path := filepath.Join("..", "..", "docs", d.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var gen bytes.Buffer
		if err := d.render(&gen); err != nil {
			t.Fatal(err)
		}
		begin, end := "<!-- "+d.marker+":begin -->\n", "<!-- "+d.marker+":end -->"
		i, j := bytes.Index(data, []byte(begin)), bytes.Index(data, []byte(end))
		if i < 0 || j < i {
			t.Fatalf("%s: no %q … %q section to hold the generated scorer reference", path, strings.TrimSpace(begin), end)
		}
		i += len(begin)
		if bytes.Equal(data[i:j], gen.Bytes()) {
			continue
		}
		if *update {
			out := append(append(append([]byte{}, data[:i]...), gen.Bytes()...), data[j:]...)
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s: the scorer reference differs from the registry; run go test ./internal/scorer -update", path)
	}
}
