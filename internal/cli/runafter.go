package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/tunecheck/tunecheck/internal/app"
)

// notifySecretEnv names the variable whose value signs webhook bodies.
const notifySecretEnv = "TUNECHECK_NOTIFY_SECRET"

// addAfterRunFlags adds run's flags for what follows a run: the drift check
// against the plan's history and webhook notifications.
func addAfterRunFlags(f *pflag.FlagSet, a *app.AfterRunOptions) {
	f.BoolVar(&a.FailOnDrift, "fail-on-drift", false, "exit 5 when a metric drifted from the earlier runs of this plan on the same eval set (the show --trend rule) and the gates passed")
	f.IntVar(&a.DriftWindow, "drift-window", app.DefaultDriftWindow, "how many earlier runs each metric is judged against, for --fail-on-drift and --notify")
	f.StringArrayVar(&a.Notify, "notify", nil, "POST a JSON summary of the run to this webhook URL when it ends (repeatable; signed when "+notifySecretEnv+" is set; see docs/continuous.md)")
	f.BoolVar(&a.NotifyStrict, "notify-strict", false, "exit 3 when a notification fails and the run would otherwise pass (default: a warning)")
}

// afterRun runs the drift check and the notifications when asked, prints
// what the drift check found, and returns the command's final error.
func afterRun(ctx context.Context, env Env, planPath string, o runOptions, out *app.Outcome, runErr error) error {
	a := o.after
	if !a.Active() {
		return runErr
	}
	a.PlanPath, a.StoreDSN = planPath, o.store
	a.Getenv, a.ToolVersion = env.Getenv, toolVersion()
	if s := env.Getenv(notifySecretEnv); s != "" {
		a.NotifySecret = []byte(s)
	}
	a.Logger = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := app.AfterRun(ctx, a, out, runErr)
	w := env.Stdout
	if o.quiet && !res.Drift.Flagged {
		w = nil
	}
	if w != nil {
		if werr := app.WriteDrift(w, a, res); werr != nil && err == nil {
			return werr
		}
	}
	if app.Quiet(err) {
		return &silentErr{err}
	}
	return err
}
