package cli

import (
	"testing"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/runner"
)

// The file provider sends nothing, so its answers must never be counted as
// requests sent.
func TestExecSummaryCountsFileModelsApart(t *testing.T) {
	sum := func(ms ...runner.ModelSummary) runner.Summary { return runner.Summary{Models: ms} }
	tests := []struct {
		name string
		out  app.Outcome
		want string
	}{
		{"file only", app.Outcome{Providers: map[string]string{"a": "file", "b": "file"},
			Exec: sum(runner.ModelSummary{Model: "a", Sent: 30}, runner.ModelSummary{Model: "b", Sent: 30})},
			"60 answers read from files, 0 from cache, 0 already done, 0 failed"},
		{"api only", app.Outcome{Providers: map[string]string{"a": "openai"},
			Exec: sum(runner.ModelSummary{Model: "a", Sent: 5, Cached: 2, Resumed: 1, Failed: 1})},
			"5 requests sent, 2 from cache, 1 already done, 1 failed"},
		{"mixed, judge not a plan model", app.Outcome{Providers: map[string]string{"a": "file", "b": "openai"},
			Exec: sum(runner.ModelSummary{Model: "a", Sent: 3}, runner.ModelSummary{Model: "b", Sent: 4}, runner.ModelSummary{Model: "judge", Sent: 7})},
			"11 requests sent, 3 answers read from files, 0 from cache, 0 already done, 0 failed"},
		{"nothing ran", app.Outcome{}, "0 requests sent, 0 from cache, 0 already done, 0 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := execSummary(&tt.out); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// The verdict decides the exit: a failed gate is 1, an undecidable one
// (every item failed) is 3 like a broken endpoint, never a pass, and an
// inconclusive one fails only when asked.
func TestVerdictExit(t *testing.T) {
	for _, tc := range []struct {
		v          gate.Status
		strict     bool
		wantCode   exitcode.Code
		wantPasses bool
	}{
		{gate.Pass, true, 0, true},
		{gate.Fail, false, exitcode.GateFailed, false},
		{gate.Error, false, exitcode.Unreachable, false},
		{gate.Inconclusive, false, 0, true},
		{gate.Inconclusive, true, exitcode.Inconclusive, false},
	} {
		err := verdictErr(tc.v, tc.strict)
		if (err == nil) != tc.wantPasses || (err != nil && exitcode.Of(err) != tc.wantCode) {
			t.Errorf("verdict %s (strict %v): %v (code %v), want code %v", tc.v, tc.strict, err, exitcode.Of(err), tc.wantCode)
		}
	}
}
