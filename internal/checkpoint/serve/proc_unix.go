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
	kill := func(sig syscall.Signal) error {
		err := syscall.Kill(-pgid, sig)
		if err != nil && !errors.Is(err, syscall.ESRCH) {
			// No group to signal: signal the process itself.
			return cmd.Process.Signal(sig)
		}
		return nil
	}
	termErr := kill(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
	}
	// Whatever is left of the group (children the shell started, or a
	// server that ignored SIGTERM) is killed.
	killErr := kill(syscall.SIGKILL)
	<-exited
	return errors.Join(termErr, killErr)
}
