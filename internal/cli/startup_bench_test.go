package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// BenchmarkHelp is `tunecheck --help` after the package inits: building the
// command tree and printing the usage. Issue 15 bounds the whole start-up
// (process start, inits, this) at 50 ms; scripts/startup-time.sh measures
// the binary end to end.
func BenchmarkHelp(b *testing.B) {
	var out bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if code := Main(context.Background(), []string{"--help"}, env); code != 0 {
			b.Fatalf("exit %d: %s", code, out.String())
		}
	}
	if !strings.Contains(out.String(), "Usage:") {
		b.Fatalf("no usage printed:\n%s", out.String())
	}
}
