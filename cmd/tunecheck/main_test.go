package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// The resume test re-executes this binary as tunecheck itself.
	if os.Getenv("TUNECHECK_E2E_MAIN") == "1" {
		main()
		return
	}
	// The watch test starts this binary as a model server per checkpoint.
	if os.Getenv("TUNECHECK_E2E_SERVER") == "1" {
		checkpointServer(os.Args[1], os.Args[2])
		return
	}
	testscript.Main(m, map[string]func(){"tunecheck": main})
}

func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: real plans,
// real files, output and exit codes asserted.
func TestScripts(t *testing.T) {
	root := repoRoot(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", filepath.Join(root, "examples"))
			env.Setenv("ROOT", root)
			env.Setenv("CI", "true")
			return nil
		},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
		// [shared] holds when ../shared/data is beside the repository.
		Condition: func(cond string) (bool, error) {
			if cond != "shared" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := os.Stat(filepath.Join(root, "..", "shared", "data"))
			return err == nil, nil
		},
	})
}
