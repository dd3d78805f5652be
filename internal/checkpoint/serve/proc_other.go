//go:build !unix

package serve

import (
	"os"
	"os/exec"
	"time"
)

// setGroup does nothing where process groups are not POSIX's.
func setGroup(*exec.Cmd) {}

// stop asks the process to end, then kills it after grace.
func stop(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) error {
	_ = cmd.Process.Signal(os.Interrupt)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
	}
	_ = cmd.Process.Kill()
	<-exited
	return nil
}
