package plan

import (
	"strings"
	"time"
)

// Sandbox sets how the generated programs of code tasks run (the execute
// stage; docs/sandbox.md). Running them at all needs
// confirm_run_unsafe_code here or --confirm-run-unsafe-code on the command
// line, as lm-evaluation-harness's --confirm_run_unsafe_code.
type Sandbox struct {
	// ConfirmRunUnsafeCode agrees to run model-generated code on this machine.
	ConfirmRunUnsafeCode bool `yaml:"confirm_run_unsafe_code" json:"confirm_run_unsafe_code,omitempty"`
	// AllowUnsandboxed runs the code without network, user and PID
	// namespaces where they cannot be made (the limits still apply).
	AllowUnsandboxed bool `yaml:"allow_unsandboxed" json:"allow_unsandboxed,omitempty"`
	// Timeout is the wall-clock limit per program as a Go duration (default "10s").
	Timeout string `yaml:"timeout" json:"timeout,omitempty"`
	// MemoryMB is the address-space limit per program (default 2048).
	MemoryMB int `yaml:"memory_mb" json:"memory_mb,omitempty"`
	// FileSizeMB is the largest file a program may write (default 16).
	FileSizeMB int `yaml:"file_size_mb" json:"file_size_mb,omitempty"`
	// Procs limits a program's processes (default 32).
	Procs int `yaml:"procs" json:"procs,omitempty"`
	// Concurrency is how many programs run at once (default: the number of CPUs).
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// Python is the interpreter (default python3 from PATH, then /usr/bin/python3).
	Python string `yaml:"python" json:"python,omitempty"`
}

// TimeoutDuration is the per-program wall-clock limit (10s when unset).
func (s *Sandbox) TimeoutDuration() time.Duration {
	if s == nil || s.Timeout == "" {
		return 10 * time.Second
	}
	d, _ := time.ParseDuration(s.Timeout)
	return d
}

func (v *validator) sandbox() {
	s := v.p.Sandbox
	if s == nil {
		return
	}
	if s.Timeout != "" {
		if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
			v.errorf("sandbox.timeout", "write a Go duration such as \"10s\"", "not a positive duration: %q", s.Timeout)
		}
	}
	for _, f := range []struct {
		key string
		n   int
	}{{"memory_mb", s.MemoryMB}, {"file_size_mb", s.FileSizeMB}, {"procs", s.Procs}, {"concurrency", s.Concurrency}} {
		if f.n < 0 {
			v.errorf("sandbox."+f.key, "use a positive number, or leave it out for the default", "must not be negative, got %d", f.n)
		}
	}
	if s.MemoryMB > 0 && s.MemoryMB < 64 {
		v.errorf("sandbox.memory_mb", "Python alone needs tens of MB of address space; use 256 or more", "too small: %d", s.MemoryMB)
	}
	if strings.TrimSpace(s.Python) != s.Python {
		v.errorf("sandbox.python", "write the interpreter's path without surrounding spaces", "%q has surrounding spaces", s.Python)
	}
}
