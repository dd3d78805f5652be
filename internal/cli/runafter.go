package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/notify"
)

// notifySecretEnv names the variable whose value signs webhook bodies.
const notifySecretEnv = "TUNECHECK_NOTIFY_SECRET"

// addAfterRunFlags adds run's flags for what follows a run: the drift check
// against the plan's history and webhook notifications. They are checked
// before the run starts, so a mistyped URL does not wait for a long run.
func addAfterRunFlags(cmd *cobra.Command, a *app.AfterRunOptions) {
	f := cmd.Flags()
	f.BoolVar(&a.FailOnDrift, "fail-on-drift", false, "exit 5 when a metric drifted from the earlier runs of this plan on the same eval set (the show --trend rule) and the gates passed")
	f.IntVar(&a.DriftWindow, "drift-window", app.DefaultDriftWindow, "how many earlier runs each metric is judged against, for --fail-on-drift and --notify")
	f.StringArrayVar(&a.Notify, "notify", nil, "POST a JSON summary of the run to this webhook URL when it ends (repeatable; signed when "+notifySecretEnv+" is set; see docs/continuous.md)")
	f.BoolVar(&a.NotifyStrict, "notify-strict", false, "exit 3 when a notification fails and the run would otherwise pass (default: a warning)")
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if err := checkAfterRunFlags(*a); err != nil {
			return err
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

// checkAfterRunFlags refuses a window below 1 and a --notify that is not an
// http(s) URL, naming the URL by notify.Redact only.
func checkAfterRunFlags(a app.AfterRunOptions) error {
	if a.DriftWindow < 1 {
		return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--drift-window must be at least 1, got %d", a.DriftWindow), exitcode.BadInput),
			"--drift-window is how many earlier runs each metric is judged against (default 5)")
	}
	if a.NotifyStrict && len(a.Notify) == 0 {
		return exitcode.WithCode(errors.New("--notify-strict goes with --notify URL"), exitcode.BadInput)
	}
	for i, raw := range a.Notify {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--notify #%d (%s) is not an http(s) URL", i+1, notify.Redact(raw)), exitcode.BadInput),
				"pass the webhook's full address, e.g. https://hooks.example.com/…; an unset variable in $(…) gives an empty one")
		}
	}
	return nil
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
