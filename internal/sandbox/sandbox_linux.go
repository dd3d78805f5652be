//go:build linux

package sandbox

import (
	"os"
	"syscall"
)

// supported: the sandbox is built on Linux namespaces.
const supported = true

// procAttr is the child's process attributes: its own process group and,
// when isolated, new user, network and PID namespaces (and a mount
// namespace in read-only mode, where the child is root of its user
// namespace — mapped to nobody, or to tunecheck's own uid when not root —
// until the bootstrap locks that out).
func (s *Sandbox) procAttr() *syscall.SysProcAttr {
	// Pdeathsig: if tunecheck itself dies, so does the program (and, as
	// the init of its PID namespace, everything it started); Go sets it
	// after the credentials change, which would clear it.
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	uid, gid := os.Getuid(), os.Getgid()
	if s.uid >= 0 {
		uid, gid = s.uid, s.gid
	}
	switch {
	case s.isolated && s.readOnly:
		a.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	case s.isolated:
		a.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		if s.uid >= 0 {
			a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
		}
	case s.uid >= 0:
		a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	return a
}

// killGroup kills the program's whole process group.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signaled says whether the program died of a signal, and which.
func signaled(st *os.ProcessState) (bool, string) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return true, ws.Signal().String()
	}
	return false, ""
}
