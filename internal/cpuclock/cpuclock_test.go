package cpuclock

import (
	"runtime"
	"testing"
)

func TestProcessAdvancesWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no process CPU clock on", runtime.GOOS)
	}
	start := Process()
	x := 0
	for i := range 50_000_000 {
		x += i ^ (x >> 3)
	}
	if x == 42 {
		t.Log(x)
	}
	if Process() <= start {
		t.Fatalf("CPU time did not advance: %v then %v", start, Process())
	}
}
