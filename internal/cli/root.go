// Package cli holds tunecheck's cobra commands. Each command fills an options
// struct from flags and calls one function in another package; there is no
// evaluation logic here. Process state (streams, environment, terminal) comes
// in through Env, so whole commands are tested with buffers.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// Version and Commit are set at build time with -ldflags "-X".
var (
	Version = "dev"
	Commit  = ""
)

// Env is the process state a command may touch.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable (API keys are read only here, by name).
	Getenv func(string) string
	// IsTerminal reports whether Stderr is an interactive terminal (progress bars).
	IsTerminal bool
	// CI is true when running under CI (quiet progress, periodic log lines).
	CI bool
}

// Main runs tunecheck with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return int(exitcode.OK)
	}
	code := exitcode.Of(err)
	if errors.Is(err, context.Canceled) {
		code = exitcode.Interrupted
	}
	var silent *silentErr
	if !errors.As(err, &silent) {
		fmt.Fprintf(env.Stderr, "error: %v\n", err)
		if h := exitcode.Hint(err); h != "" {
			fmt.Fprintf(env.Stderr, "hint: %s\n", h)
		}
	}
	return int(code)
}

// silentErr carries an exit code for an outcome the command already reported
// (a failed gate), so Main does not print it again.
type silentErr struct{ err error }

func (s *silentErr) Error() string { return s.err.Error() }
func (s *silentErr) Unwrap() error { return s.err }

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "tunecheck",
		Short: "Did the fine-tune work? Evaluate a base and a fine-tuned model side by side.",
		Long: `tunecheck runs a base model and its fine-tune on the same inputs, scores them,
and reports the paired difference with confidence intervals and a verdict a CI job can gate on.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newRunCmd(env),
		newReportCmd(env),
		newCompareCmd(env),
		newRunsCmd(env),
		newShowCmd(env),
		newDataCmd(env),
		newJudgeCmd(env),
		newViewCmd(env),
		newLabelsCmd(env),
		newVersionCmd(env),
	)
	for _, add := range extraCommands {
		root.AddCommand(add(env))
	}
	return root
}

// extraCommands lists the constructors of every other command, in help order.
// Each command lives in its own file.
var extraCommands = []func(Env) *cobra.Command{newCurvesCmd, newScoreCmd, newScorersCmd, newLeakageCmd, newInitCmd, newProbeCmd, newWatchCmd}

// toolVersion is the version this binary reports and records with each run:
// the one set at build time with -ldflags, else the module version the Go
// toolchain recorded (`go install github.com/tunecheck/tunecheck/cmd/tunecheck@v1.2.3`
// gives v1.2.3), else "dev".
func toolVersion() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		return moduleVersion(bi.Main.Version)
	}
	return Version
}

// moduleVersion is v unless it is empty or the toolchain's "(devel)" for a
// build from a working tree.
func moduleVersion(v string) string {
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return v
}

func newVersionCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			commit := Commit
			if commit == "" {
				if bi, ok := debug.ReadBuildInfo(); ok {
					for _, s := range bi.Settings {
						if s.Key == "vcs.revision" {
							commit = s.Value
						}
					}
				}
			}
			if commit == "" {
				commit = "unknown"
			}
			fmt.Fprintf(env.Stdout, "tunecheck %s (commit %s, %s %s/%s)\n", toolVersion(), commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// OSEnv builds the Env of the real process.
func OSEnv(isTerminal bool) Env {
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: isTerminal,
		CI:         os.Getenv("CI") != "",
	}
}
