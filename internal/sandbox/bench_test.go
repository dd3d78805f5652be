package sandbox

import (
	"context"
	"os"
	"testing"
)

// BenchmarkRun is the cost of one sandboxed program that does nothing:
// namespaces, bootstrap, interpreter start, directory made and removed.
func BenchmarkRun(b *testing.B) {
	s, err := New(context.Background(), Options{Getenv: os.Getenv})
	if err != nil {
		b.Skip(err)
	}
	sp := Spec{Program: []byte("pass\n")}
	for b.Loop() {
		if r, err := s.Run(context.Background(), sp); err != nil || !r.Passed {
			b.Fatal(err, r)
		}
	}
}
