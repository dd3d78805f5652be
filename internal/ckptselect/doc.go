// Package ckptselect chooses a fine-tune's checkpoint by the task metric
// that matters instead of the eval loss, from checkpoints already evaluated
// and stored (one run per checkpoint-N, tagged with its step, as `tunecheck
// watch` stores them) and the trainer log in the same directory. It is pure:
// evaluations and a log already read go in, a Report comes out, and writers
// render it as a terminal table, Markdown, JSON or an SVG plot.
//
// API:
//
//	run, _ := curves.Read(dir, "", curves.Mapping{}) // any reader internal/curves knows; nil when there is no log
//	rep, err := ckptselect.Analyze(evals, run, ckptselect.Options{Confidence: 0.95, Seed: seed, Patience: 3})
//	ckptselect.Text(w, rep) // or Markdown, JSON, SVG
//
// What Analyze computes:
//
//   - Rows: per evaluated step, the primary metric's mean over the items with
//     a score, its percentile bootstrap interval (stats.DescribeFast), n, the
//     items that failed (counted, never scored as 0), and the train and eval
//     loss the log holds at that step or, failing that, at the nearest logged
//     step before it (LossAt.Step says which step the value is from).
//   - BestByMetric: the step with the best mean in the metric's direction;
//     BestByEvalLoss: the evaluated step with the lowest eval loss. Ties go to
//     the earlier step, as the Trainer keeps its best only on a strict gain.
//   - Difference: the paired difference best-by-metric minus best-by-loss on
//     the items both checkpoints scored, by stats.ComparePairedTest (the
//     metric's declared test, bootstrap intervals, MDE).
//   - EarlyStop: curves.ReplayHF — the rule of transformers'
//     EarlyStoppingCallback that `tunecheck curves` replays on the eval loss —
//     run on the metric's means (patience counted in evaluations, MinDelta as
//     early_stopping_threshold), beside the same rule replayed on the log's
//     eval loss, so the two answers are computed by one piece of code.
//   - Warnings: what a reader must know before trusting the pick.
//
// The JSON field names are stable and listed in docs/continuous.md. The SVG
// is drawn as text, the way internal/report draws its inline plots (data
// only inside <text>/<title>, escaped through report.PlainText and
// html.EscapeString, numbers written by fmt), so no plotting library is
// linked in; report's svgDoc is unexported, so the few lines of that pattern
// are repeated here rather than widening report's API.
package ckptselect
