package curves

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update if intended)\ngot:\n%s", name, got)
	}
}

func analyzeFixtures(t *testing.T, names ...string) []Analysis {
	t.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join("testdata", "logs", n)
	}
	as, err := Analyze(paths, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestWriteTextGolden(t *testing.T) {
	as := analyzeFixtures(t, "keras_training.log.csv", "hf_nan", "wandb_history.csv", "llamafactory_resumed", "hf_checkpoints", "wandb_chart_export.csv")
	var buf bytes.Buffer
	if err := WriteText(&buf, as); err != nil {
		t.Fatal(err)
	}
	golden(t, "fixtures.txt", buf.Bytes())
}

func TestWriteMarkdownGolden(t *testing.T) {
	as := analyzeFixtures(t, "keras_training.log.csv", "wandb_history.jsonl")
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, as, "curves.svg"); err != nil {
		t.Fatal(err)
	}
	golden(t, "section.md", buf.Bytes())
}

func TestWriteJSONGolden(t *testing.T) {
	// The NaN losses of this log must come out as null, not break encoding.
	as := analyzeFixtures(t, "wandb_history.jsonl")
	var buf bytes.Buffer
	if err := WriteJSON(&buf, as); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	golden(t, "wandb_history.json", buf.Bytes())
}

func TestWritePlot(t *testing.T) {
	as := analyzeFixtures(t, "keras_training.log.csv", "openai_step_metrics.csv")
	dir := t.TempDir()
	tests := []struct {
		file  string
		check func([]byte) bool
	}{
		{"one.svg", func(b []byte) bool { return validXML(b) && bytes.Contains(b, []byte("eval minimum (epoch 7)")) }},
		{"two.svg", func(b []byte) bool {
			return validXML(b) && bytes.Contains(b, []byte("keras_training.log.csv")) && bytes.Contains(b, []byte("openai_step_metrics.csv"))
		}},
		{"two.png", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }},
	}
	for _, tt := range tests {
		runs := as
		if strings.HasPrefix(tt.file, "one") {
			runs = as[:1]
		}
		p := filepath.Join(dir, tt.file)
		if err := WritePlot(p, runs); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !tt.check(b) {
			t.Errorf("%s: unexpected content (%d bytes)", tt.file, len(b))
		}
	}
	if err := WritePlot(filepath.Join(dir, "x.gif"), as); err == nil || !strings.Contains(err.Error(), "x.gif") {
		t.Errorf("gif: error %v, want one naming the file", err)
	}
	var buf bytes.Buffer
	if err := RenderPlot(&buf, "svg", as[:1]); err != nil || !validXML(buf.Bytes()) {
		t.Errorf("RenderPlot: %v", err)
	}
}

func validXML(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

func TestDecimation(t *testing.T) {
	ps := make([]Point, 10001)
	for i := range ps {
		ps[i] = Point{Step: int64(i), Value: float64(i % 7)}
	}
	ps[5000].Value = 100
	s := stride(ps, 2000)
	if len(s) > 2001 || s[len(s)-1].Step != 10000 {
		t.Errorf("stride: %d points, last %d", len(s), s[len(s)-1].Step)
	}
	e := envelope(ps, 2000)
	found := false
	for _, p := range e {
		found = found || p.Value == 100
	}
	if len(e) > 2002 || !found {
		t.Errorf("envelope: %d points, spike kept %t", len(e), found)
	}
}
