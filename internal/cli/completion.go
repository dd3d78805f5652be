package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newCompletionCmd writes a shell completion script with cobra's generators.
// It replaces cobra's default completion command so that it has an example
// and one argument instead of four subcommands.
func newCompletionCmd(env Env) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script for commands, flags and their values",
		Long: `completion prints the completion script for a shell on stdout. Load it once per
session, or install it where the shell looks for completions:

  bash        source <(tunecheck completion bash)   (needs the bash-completion package)
              tunecheck completion bash > /etc/bash_completion.d/tunecheck
  zsh         tunecheck completion zsh > "${fpath[1]}/_tunecheck"
  fish        tunecheck completion fish > ~/.config/fish/completions/tunecheck.fish
  powershell  tunecheck completion powershell | Out-String | Invoke-Expression`,
		Example: `  source <(tunecheck completion bash)
  tunecheck completion zsh > "${fpath[1]}/_tunecheck"`,
		ValidArgs: shells,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(env.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(env.Stdout)
			case "fish":
				return root.GenFishCompletion(env.Stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(env.Stdout)
			}
			return fmt.Errorf("unknown shell %q", args[0])
		},
	}
}
