package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxBinaryBytes is issue 15's ceiling for the stripped static binary (40 MB).
const maxBinaryBytes = 40_000_000

// droppedModules were cut to get under the ceiling (docs/benchmarks.md,
// "Binary size and start-up"); one creeping back in, directly or through a
// new dependency, undoes most of the saving.
var droppedModules = []string{
	"github.com/openai/openai-go",            // 7.8 MB of symbols: internal/provider/openai is plain net/http
	"github.com/anthropics/anthropic-sdk-go", // 2.8 MB: internal/provider/anthropic likewise
	"gonum.org/v1/plot",                      // its fonts alone 4.4 MB: internal/chart draws the plots
	"codeberg.org/go-fonts/liberation",
}

// TestBinarySize builds tunecheck the way releases are built and fails when
// the stripped static binary passes 40 MB or a dropped module is back. It
// links the whole program (a minute or more on a small machine), so it runs
// only with TUNECHECK_SIZE_CHECK=1; scripts/size-breakdown.sh says what grew.
func TestBinarySize(t *testing.T) {
	if os.Getenv("TUNECHECK_SIZE_CHECK") != "1" {
		t.Skip("set TUNECHECK_SIZE_CHECK=1 to build the release binary and check its size")
	}
	bin := filepath.Join(t.TempDir(), "tunecheck")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stripped static binary: %d bytes (%.1f MB)", st.Size(), float64(st.Size())/1e6)
	if st.Size() > maxBinaryBytes {
		t.Errorf("the stripped static binary is %.1f MB, over the 40 MB ceiling (issue 15); scripts/size-breakdown.sh lists the modules by size", float64(st.Size())/1e6)
	}
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "dep" {
			continue
		}
		for _, m := range droppedModules {
			if f[1] == m || strings.HasPrefix(f[1], m+"/") {
				t.Errorf("%s is linked in again (it was dropped for size; `go mod why -m %s` says who brings it)", f[1], f[1])
			}
		}
	}
}
