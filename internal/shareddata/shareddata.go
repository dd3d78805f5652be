// Package shareddata locates ../shared/data, the real recorded data (parity
// vectors, model outputs, benchmark samples, trainer logs) that sits beside the
// repository on every developer machine and in CI. Tests read it directly.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of shared/data, or fails the test with a hint.
// TUNECHECK_SHARED overrides the location.
func Dir(t testing.TB) string {
	t.Helper()
	d, err := Find()
	if err != nil {
		t.Fatalf("shared data not found: %v (clone the repository with shared/ beside it, or set TUNECHECK_SHARED=/path/to/shared)", err)
	}
	return d
}

// Path joins elem onto Dir.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

// Find walks up from the working directory to the module root and returns
// ../shared/data next to it.
func Find() (string, error) {
	if s := os.Getenv("TUNECHECK_SHARED"); s != "" {
		return filepath.Join(s, "data"), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			if _, err := os.Stat(d); err != nil {
				return "", err
			}
			return filepath.Abs(d)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
