package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium. Without one the browser test
// is skipped on a workstation, but fails in CI (CI set) or when
// TUNECHECK_REQUIRE_BROWSER=1, so that the check cannot silently vanish.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const hint = "chromium is not installed; install Debian's chromium (apt-get update && apt-get install -y chromium; scripts/test.sh does it)"
	if os.Getenv("CI") != "" || os.Getenv("TUNECHECK_REQUIRE_BROWSER") == "1" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// runChromium runs one headless Chromium command on the page and returns
// its standard output. Each run gets its own profile directory, so runs do
// not share state or wait on each other's locks.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--no-default-browser-check", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// A real browser renders the rich report: the screenshot is a picture, not
// a blank page, and the page's DOM carries the verdict. With -update the
// screenshot becomes docs/report-example.png.
func TestHTMLScreenshot(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, richFixture()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, page, "--screenshot="+shot, "--window-size=1280,2400")
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if bnd := img.Bounds(); bnd.Dx() < 1000 || bnd.Dy() < 1000 {
		t.Errorf("screenshot is %v", bnd)
	}
	if n := colours(img, 64); n < 8 {
		t.Errorf("screenshot has %d colours: the page looks blank", n)
	}
	if !hasColour(img, 0x1a, 0x7f, 0x37) && !hasColour(img, 0xcf, 0x22, 0x2e) {
		t.Error("screenshot shows neither the green nor the red of the banner and plots")
	}

	dom := string(runChromium(t, bin, page, "--dump-dom"))
	for _, want := range []string{">FAIL<", "4 gates: 2 passed, 2 failed", "support_qa"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered DOM lacks %q", want)
		}
	}

	if *update {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "report-example.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// colours counts the distinct colours in img, up to limit.
func colours(img image.Image, limit int) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// hasColour reports whether some pixel is within a small distance of the colour.
func hasColour(img image.Image, r0, g0, b0 uint32) bool {
	b := img.Bounds()
	near := func(a, c uint32) bool { return a+6 >= c && a <= c+6 }
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, r0) && near(g>>8, g0) && near(bl>>8, b0) {
				return true
			}
		}
	}
	return false
}
