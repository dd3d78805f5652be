package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// TestJudgeWinRateJSON: the JSON keys are the leaderboard CSV's columns and
// the values those of weighted_alpaca_eval_gpt4_turbo_leaderboard.csv.
func TestJudgeWinRateJSON(t *testing.T) {
	dir := shareddata.Path(t, "alpacaeval", "annotations")
	code, out, errOut := runCLI(t, "judge", "winrate", "--format", "json",
		filepath.Join(dir, "gpt-3.5-turbo-1106.json"), filepath.Join(dir, "gpt-3.5-turbo-1106_verbose.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rs []map[string]any
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0]["model"] != "gpt-3.5-turbo-1106" || rs[1]["model"] != "gpt-3.5-turbo-1106_verbose" {
		t.Fatalf("models: %v", out)
	}
	for _, k := range []string{"win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total", "discrete_win_rate", "avg_length", "length_controlled_winrate", "lc_standard_error"} {
		if _, ok := rs[0][k]; !ok {
			t.Errorf("no key %q", k)
		}
	}
	if rs[0]["n_wins"] != 64.0 || rs[0]["n_draws"] != 4.0 || rs[1]["n_wins"] != 94.0 || rs[1]["discrete_win_rate"] != 11.801242236024844 {
		t.Errorf("counts: %v", out)
	}
}

func TestJudgeWinRateFormats(t *testing.T) {
	p := shareddata.Path(t, "alpacaeval", "annotations", "gpt-3.5-turbo-1106_concise.json")
	code, out, _ := runCLI(t, "judge", "winrate", p)
	if code != 0 || !strings.Contains(out, "gpt-3.5-turbo-1106_concise  7.42 ") || !strings.Contains(out, "win rates against gpt4_1106_preview") {
		t.Errorf("text (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI(t, "judge", "winrate", "--format", "md", p)
	if code != 0 || !strings.Contains(out, "| gpt-3.5-turbo-1106_concise | 7.42 ± 0.84 |") {
		t.Errorf("md (exit %d):\n%s", code, out)
	}
}

func TestJudgeWinRateBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"instruction": "x", "output_1": "a", "output_2": "b", "raw_completion": {"message": {}}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"judge", "winrate", "--format", "csv", bad}, `--format "csv": unknown output format`},
		{[]string{"judge", "winrate", bad}, "bad.json: record 0 (instruction \"x\"): raw_completion.logprobs.content: missing"},
		{[]string{"judge", "winrate", filepath.Join(dir, "none.json")}, "none.json: no such file"},
		{[]string{"judge", "winrate"}, "requires at least 1 arg"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestJudgeCalibrateCommand(t *testing.T) {
	mt := shareddata.Path(t, "prometheus", "mt_bench_eval.json")
	code, out, errOut := runCLI(t, "judge", "calibrate", "--prometheus", mt)
	if code != 0 || !strings.Contains(out, "all samples agree               141/320 (44.1%)") {
		t.Errorf("mt_bench (exit %d, %s):\n%s", code, errOut, out)
	}
	hhh := shareddata.Path(t, "prometheus", "hhh_alignment_eval.json")
	verdicts := filepath.Join("..", "judge", "testdata", "calibrate_hhh_verdicts.jsonl")
	code, out, errOut = runCLI(t, "judge", "calibrate", "--prometheus", hhh, "--judgments", verdicts, "--format", "json")
	if code != 0 {
		t.Fatalf("hhh: exit %d: %s", code, errOut)
	}
	var rs []struct {
		Judge string
		Human struct {
			Pairs int     `json:"pairs"`
			Kappa float64 `json:"cohen_kappa"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Judge != "longer-response" || rs[0].Human.Pairs != 40 || rs[1].Human.Kappa != 0 {
		t.Errorf("hhh: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"judge", "calibrate"}, "no judgments: give --judgments FILE"},
		{[]string{"judge", "calibrate", "--prometheus", mt, "--judgments", verdicts}, "holds judgments already: drop --judgments"},
		{[]string{"judge", "calibrate", "--judgments", verdicts, "--format", "html"}, `--format "html"`},
		{[]string{"judge", "calibrate", "--judgments", verdicts, "--labels", filepath.Join("..", "judge", "testdata", "calibrate_scores_labels.jsonl")}, "is a score, but the judgments are choices"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}
