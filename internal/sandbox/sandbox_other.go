//go:build !linux

package sandbox

import (
	"os"
	"syscall"
)

// supported: elsewhere New refuses (the sandbox is built on Linux
// namespaces, process groups and rlimits); these keep the package
// building for the release's other targets.
const supported = false

func (s *Sandbox) procAttr() *syscall.SysProcAttr { return nil }

func killGroup(int) {}

func signaled(*os.ProcessState) (bool, string) { return false, "" }
