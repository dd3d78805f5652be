package plan

import (
	"strings"
	"testing"
	"time"
)

func TestSandboxSection(t *testing.T) {
	base := mustRead(t, "testdata/good/minimal.yaml")
	p, err := Parse("s.yaml", []byte(base+"\nsandbox:\n  confirm_run_unsafe_code: true\n  timeout: 3s\n  memory_mb: 512\n  procs: 8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Sandbox.ConfirmRunUnsafeCode || p.Sandbox.TimeoutDuration() != 3*time.Second || p.Sandbox.MemoryMB != 512 || p.Sandbox.Procs != 8 {
		t.Fatalf("sandbox %+v", p.Sandbox)
	}
	if d := (*Sandbox)(nil).TimeoutDuration(); d != 10*time.Second {
		t.Fatalf("default timeout %s", d)
	}
	for _, c := range []struct{ yaml, want string }{
		{"timeout: soon", `sandbox.timeout: not a positive duration: "soon"`},
		{"timeout: -1s", "sandbox.timeout: not a positive duration"},
		{"procs: -1", "sandbox.procs: must not be negative"},
		{"memory_mb: 10", "sandbox.memory_mb: too small"},
		{"network: true", "network"},
	} {
		_, err := Parse("s.yaml", []byte(base+"\nsandbox:\n  "+c.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.yaml, err, c.want)
		}
	}
}
