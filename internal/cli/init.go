package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/task"
)

// initOptions are the flags of `tunecheck init`.
type initOptions struct {
	path  string
	force bool
}

func newInitCmd(env Env) *cobra.Command {
	o := initOptions{path: "tunecheck.yaml"}
	cmd := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write a commented starter plan (tunecheck.yaml)",
		Long: `init writes a starter plan that compares a base model with its fine-tune on one
task. It validates as written; edit the models, the dataset path and the gates.
Every key is documented in docs/plan.md.`,
		Example: `  tunecheck init
  tunecheck init plans/sft.yaml --force`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.path = args[0]
			}
			return runInit(env, o)
		},
	}
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite FILE if it exists")
	return cmd
}

func runInit(env Env, o initOptions) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(o.path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("%s already exists", o.path), exitcode.BadInput),
			"pass --force to overwrite it, or name another file: tunecheck init other.yaml")
	}
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if _, err := f.Write(starterPlan()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: edit the models, the dataset path and the gates, then run `tunecheck run %s`\n", o.path, o.path)
	return nil
}

// starterPlan is plan.Starter with the registered task types, each with its
// one-line doc, listed in a comment above the tasks: the plan package cannot
// name them (internal/task imports it), and a list written by hand would
// fall behind the registry.
func starterPlan() []byte {
	starter := plan.Starter()
	at := bytes.Index(starter, []byte("\ntasks:\n"))
	if at < 0 {
		return starter
	}
	at += len("\ntasks:\n")
	var out bytes.Buffer
	out.Write(starter[:at])
	out.WriteString(task.StarterComment("  "))
	out.Write(starter[at:])
	return out.Bytes()
}
