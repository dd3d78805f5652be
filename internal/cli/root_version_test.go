package cli

import "testing"

func TestModuleVersion(t *testing.T) {
	for in, want := range map[string]string{"": "dev", "(devel)": "dev", "v1.2.3": "v1.2.3", "v0.0.0-20261206120000-abcdef012345": "v0.0.0-20261206120000-abcdef012345"} {
		if got := moduleVersion(in); got != want {
			t.Errorf("moduleVersion(%q) = %q, want %q", in, got, want)
		}
	}
	// A test binary built from the working tree reports dev.
	if v := toolVersion(); v != "dev" {
		t.Errorf("toolVersion() = %q in a test build", v)
	}
}
