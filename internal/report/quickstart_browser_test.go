package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README shows a real report: the quickstart's stored results (LLaMA-13B
// against Vicuna-13B on MT-Bench, recorded answers) rendered as HTML and
// screenshot in Chromium. With -update the screenshot becomes
// docs/report-quickstart.png.
func TestQuickstartHTMLScreenshot(t *testing.T) {
	bin := chromium(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "expected", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, page, "--screenshot="+shot, "--window-size=1280,2000")
	img, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if n := colours(decoded, 64); n < 8 {
		t.Errorf("screenshot has %d colours: the page looks blank", n)
	}
	dom := string(runChromium(t, bin, page, "--dump-dom"))
	for _, want := range []string{">PASS<", "mtbench-ref", "vicuna-13b", "coding"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered DOM lacks %q", want)
		}
	}
	if *update {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "report-quickstart.png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
