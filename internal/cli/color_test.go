package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestColorEnabled(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		env      map[string]string
		terminal bool
		want     bool
	}{
		{"auto", nil, true, true},
		{"auto", nil, false, false},
		{"", nil, true, true},
		{"auto", map[string]string{"NO_COLOR": "1"}, true, false},
		{"auto", map[string]string{"NO_COLOR": "0"}, true, false}, // any non-empty value
		{"auto", map[string]string{"NO_COLOR": ""}, true, true},   // empty is unset
		{"auto", map[string]string{"TERM": "dumb"}, true, false},
		{"auto", map[string]string{"TERM": "xterm-256color"}, true, true},
		{"always", nil, false, true},
		{"always", map[string]string{"NO_COLOR": "1", "TERM": "dumb"}, false, true},
		{"never", nil, true, false},
	} {
		got, err := colorEnabled(tc.mode, func(k string) string { return tc.env[k] }, tc.terminal)
		if err != nil || got != tc.want {
			t.Errorf("mode %q env %v terminal %v: %v %v, want %v", tc.mode, tc.env, tc.terminal, got, err, tc.want)
		}
	}
	if _, err := colorEnabled("sometimes", nil, true); err == nil || !strings.Contains(err.Error(), `--color "sometimes"`) {
		t.Errorf("bad mode: %v", err)
	}
}

// runColor runs tunecheck with both streams' terminal state and environment.
func runColor(t *testing.T, terminal bool, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errOut, IsTerminal: terminal, StdoutIsTerminal: terminal,
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errOut.String()
}

const redError = "\x1b[31merror:\x1b[0m"

// The decision holds end to end: the error prefix on stderr, a deprecation
// warning, and the verdict of run -q on stdout.
func TestColorCommands(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		env      map[string]string
		args     []string
		colour   bool
	}{
		{"terminal", true, nil, []string{"version", "-f", "xml"}, true},
		{"pipe", false, nil, []string{"version", "-f", "xml"}, false},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, []string{"version", "-f", "xml"}, false},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, []string{"version", "-f", "xml"}, false},
		{"--color always on a pipe", false, nil, []string{"version", "-f", "xml", "--color", "always"}, true},
		{"--color always beats NO_COLOR", false, map[string]string{"NO_COLOR": "1"}, []string{"--color=always", "version", "-f", "xml"}, true},
		{"--color never on a terminal", true, nil, []string{"version", "-f", "xml", "--color", "never"}, false},
	} {
		code, _, errOut := runColor(t, tc.terminal, tc.env, tc.args...)
		if code != 2 || strings.Contains(errOut, redError) != tc.colour || !tc.colour && strings.Contains(errOut, "\x1b") {
			t.Errorf("%s: exit %d, stderr %q, want colour %v", tc.name, code, errOut, tc.colour)
		}
	}
	code, _, errOut := runColor(t, true, nil, "version", "--color", "purple")
	if code != 2 || !strings.Contains(errOut, `--color "purple": unknown mode`) || !strings.Contains(errOut, "auto, always or never") {
		t.Errorf("bad --color: exit %d %q", code, errOut)
	}
	_, _, errOut = runColor(t, true, nil, "scorers", "--json", "bleu")
	if !strings.Contains(errOut, "\x1b[33mwarning:\x1b[0m --json is deprecated") {
		t.Errorf("warning: %q", errOut)
	}
	// Data output stays plain even on a terminal.
	_, out, _ := runColor(t, true, nil, "scorers", "-f", "json", "bleu")
	if strings.Contains(out, "\x1b") {
		t.Errorf("JSON on a terminal has escapes: %q", out)
	}

	dir := t.TempDir()
	plan, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml"))
	args := []string{"run", plan, "-q", "--store", filepath.Join(dir, "tc.db"), "-o", dir}
	if code, out, errOut := runColor(t, true, nil, args...); code != 0 || !strings.HasPrefix(out, "verdict: \x1b[32mPASS\x1b[0m (run ") {
		t.Errorf("run -q on a terminal: exit %d %q %q", code, out, errOut)
	}
	if code, out, _ := runColor(t, true, nil, append(args, "--color", "never")...); code != 0 || !strings.HasPrefix(out, "verdict: PASS (run ") {
		t.Errorf("run -q --color never: exit %d %q", code, out)
	}
}
