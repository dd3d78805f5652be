package cli

import "github.com/spf13/cobra"

// dataSubcommands lists the constructors of `tunecheck data …` subcommands.
var dataSubcommands = []func(Env) *cobra.Command{newDataSplitCmd, newDataFingerprintCmd, newDataPIICmd, newDataProbesCmd}

func newDataCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Work with eval and training sets: fingerprint, diff, split, personal data",
	}
	for _, add := range dataSubcommands {
		cmd.AddCommand(add(env))
	}
	return cmd
}
