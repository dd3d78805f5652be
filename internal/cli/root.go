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
	"golang.org/x/term"

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
	// StdoutIsTerminal reports whether Stdout is an interactive terminal
	// (colour on stdout with --color auto).
	StdoutIsTerminal bool
	// CI is true when running under CI (quiet progress, periodic log lines).
	CI bool

	// colors is this invocation's colour decision (color.go), set from
	// --color once the flags are parsed.
	colors *colors
	// args are the command line, for telling -f (never an old spelling)
	// from --format (vocab.go).
	args []string
}

// Main runs tunecheck with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	env.colors = &colors{}
	env.args = args
	_ = env.decideColors("auto") // errors before flags are parsed follow NO_COLOR too
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
		fmt.Fprintf(env.Stderr, "%s %v\n", env.paint(toStderr, red, "error:"), err)
		if h := exitcode.Hint(err); h != "" {
			fmt.Fprintf(env.Stderr, "%s %s\n", env.paint(toStderr, cyan, "hint:"), h)
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
		Example: `  tunecheck init && tunecheck run tunecheck.yaml
  tunecheck report latest -f html -o report.html
  tunecheck completion bash > /etc/bash_completion.d/tunecheck`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// The vocabulary's old spellings warn here, after the flags of the
		// command that runs are parsed. A command that sets its own
		// PersistentPreRunE must call rootPreRun too.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return rootPreRun(cmd, env) },
		// Our own completion command (completion.go) replaces cobra's default.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.PersistentFlags().String("color", "auto", "colour: auto (only on a terminal, and not with NO_COLOR set), always or never")
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
		newMergeCmd(env),
		newGitHubCmd(env), // hidden: what action.yml runs
		newVersionCmd(env),
	)
	for _, add := range extraCommands {
		root.AddCommand(add(env))
	}
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions(colorModes, cobra.ShellCompDirectiveNoFileComp))
	completeFlagValues(root)
	return root
}

// extraCommands lists the constructors of every other command, in help order.
// Each command lives in its own file.
var extraCommands = []func(Env) *cobra.Command{newCurvesCmd, newScoreCmd, newScorersCmd, newLeakageCmd, newInitCmd, newProbeCmd, newWatchCmd, newLMEvalCmd, newTasksCmd, newCompletionCmd}

// rootPreRun applies the root's persistent flags (--color) and warns about
// deprecated spellings used on cmd.
func rootPreRun(cmd *cobra.Command, env Env) error {
	mode, err := cmd.Flags().GetString("color")
	if err != nil {
		return err
	}
	if err := env.decideColors(mode); err != nil {
		return err
	}
	warnDeprecated(cmd, env)
	return nil
}

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
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Example: `  tunecheck version
  tunecheck version -f json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(env, format, "text", "json")
			if err != nil {
				return err
			}
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
			if format == "json" {
				return writeJSON(env.Stdout, struct {
					Version string `json:"version"`
					Commit  string `json:"commit"`
					Go      string `json:"go"`
					OS      string `json:"os"`
					Arch    string `json:"arch"`
				}{toolVersion(), commit, runtime.Version(), runtime.GOOS, runtime.GOARCH})
			}
			fmt.Fprintf(env.Stdout, "tunecheck %s (commit %s, %s %s/%s)\n", toolVersion(), commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	addFormatFlag(cmd.Flags(), &format, "text", "text", "json")
	return cmd
}

// OSEnv builds the Env of the real process.
func OSEnv(isTerminal bool) Env {
	return Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: isTerminal,
		// Colour on stdout asks of stdout itself: `tunecheck … | less` is not a terminal.
		StdoutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		CI:               os.Getenv("CI") != "",
	}
}
