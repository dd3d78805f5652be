//go:build unix

package serve

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// setGroup starts the process in a process group of its own.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace, and
// waits for the process to be reaped. A process that already exited is not
// an error: the server's own exit status says nothing about the evaluation.
func stop(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) error {
	pgid := cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
		// The group's other members (children the shell started) get the
		// same end.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return nil
	case <-t.C:
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	<-exited
	return nil
}
