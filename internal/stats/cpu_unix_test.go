//go:build unix

package stats

import "syscall"

// cpuTime is the process's user + system CPU time in nanoseconds, so a
// benchmark can report what the work costs whatever else runs on the box.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
