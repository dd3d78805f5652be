// Package cpuclock reads the CPU time this process has used, so that
// benchmarks can report it per operation beside wall time: on a shared
// machine wall time mostly measures the neighbours, CPU time much less.
package cpuclock

import (
	"testing"
	"time"
)

// Process returns the user + system CPU time of this process so far, or 0
// where the platform cannot tell.
func Process() time.Duration { return process() }

// ReportPerOp adds a cpu-ns/op metric to b: the CPU time used since start
// (a Process reading taken before the loop) divided by b.N.
func ReportPerOp(b *testing.B, start time.Duration) {
	if n := b.N; n > 0 && start > 0 {
		b.ReportMetric(float64(Process()-start)/float64(n), "cpu-ns/op")
	}
}
