package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunCodeNeedsConfirmation: a plan with a code task exits 2 naming the
// flag, and runs with --confirm-run-unsafe-code (examples/humaneval's
// hostile samples: 4 of 10 pass).
func TestRunCodeNeedsConfirmation(t *testing.T) {
	plan, err := filepath.Abs(filepath.Join("..", "..", "examples", "humaneval", "hostile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"run", plan, "--store", filepath.Join(dir, "tc.db"), "-o", filepath.Join(dir, "out")}
	code, _, stderr := runCLI(t, args...)
	if code != 2 || !strings.Contains(stderr, "--confirm-run-unsafe-code") || !strings.Contains(stderr, "tasks[0].type") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3 (the test runs with an empty PATH)")
	}
	code, stdout, stderr := runCLI(t, append(args, "--confirm-run-unsafe-code", "--allow-unsandboxed")...)
	if code != 0 || !strings.Contains(stdout, "pass@1   0.4000") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
