//go:build unix

package bleu

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used. The speed
// benchmarks report it beside wall time because the shared 2-core box they
// run on is often busy with other work, which inflates wall time but not
// the CPU time the code itself needs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
