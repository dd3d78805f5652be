package judge

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// TestWinRateAlpacaEvalLeaderboard recomputes every preference of the three
// gpt-3.5-turbo-1106 annotation files from the judge's raw logprobs and
// matches weighted_alpaca_eval_gpt4_turbo_leaderboard.csv's row of each.
// Counts match exactly; standard_error to the last printed digit; win_rate
// within 2e-14 (2 ulps: the CSV's last digit depends on the order pandas
// summed the items in, which the annotations file does not record).
func TestWinRateAlpacaEvalLeaderboard(t *testing.T) {
	dir := shareddata.Path(t, "alpacaeval")
	rows := winRateLeaderboard(t, dir+"/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv")
	for _, model := range []string{"gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106_concise", "gpt-3.5-turbo-1106_verbose"} {
		t.Run(model, func(t *testing.T) {
			path := dir + "/annotations/" + model + ".json"
			as, err := ReadWinRateAnnotations(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := WinRate(path, as, WinRateAlpacaEval())
			if err != nil {
				t.Fatal(err)
			}
			want := rows[model]
			if got.Model != model {
				t.Errorf("model %q, want %q", got.Model, model)
			}
			for _, c := range []struct {
				col  string
				got  float64
				ulps float64
			}{
				{"win_rate", got.WinRate, 2},
				{"standard_error", got.StandardError, 0},
				{"discrete_win_rate", got.DiscreteWinRate, 0},
			} {
				w := winRateFloat(t, want[c.col])
				if math.Abs(c.got-w) > c.ulps*winRateULP(w) {
					t.Errorf("%s = %v, CSV %s (diff %.3g)", c.col, c.got, want[c.col], c.got-w)
				}
			}
			for _, c := range []struct {
				col string
				got int
			}{
				{"n_wins", got.NWins}, {"n_wins_base", got.NWinsBase}, {"n_draws", got.NDraws},
				{"n_total", got.NTotal}, {"avg_length", got.AvgLength},
			} {
				if strconv.Itoa(c.got) != want[c.col] {
					t.Errorf("%s = %d, CSV %s", c.col, c.got, want[c.col])
				}
			}
			if got.NoVerdict != 0 {
				t.Errorf("%d records without a verdict token", got.NoVerdict)
			}
		})
	}
}

// TestWinRatePreferenceStored: every recomputed preference equals the stored
// one exactly (the stored values are rounded to 10 decimals; so are ours),
// which also checks the swap decision of every item with distinct outputs.
func TestWinRatePreferenceStored(t *testing.T) {
	dir := shareddata.Path(t, "alpacaeval")
	for _, model := range []string{"gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106_concise", "gpt-3.5-turbo-1106_verbose"} {
		as, err := ReadWinRateAnnotations(dir + "/annotations/" + model + ".json")
		if err != nil {
			t.Fatal(err)
		}
		switched := 0
		for i, a := range as {
			got, err := WinRatePreference(a, WinRateAlpacaEval())
			if err != nil {
				t.Fatalf("%s record %d: %v", model, i, err)
			}
			if a.Preference == nil || got != *a.Preference {
				t.Errorf("%s record %d: preference %v, stored %v", model, i, got, *a.Preference)
			}
			if winRateSwitched(a.Instruction, 0) {
				switched++
			}
		}
		// Without the swap (or with the processor's own default seed 123) about
		// half the items would come out reversed.
		if switched < 300 || switched > 500 {
			t.Errorf("%s: %d of %d switched", model, switched, len(as))
		}
	}
}

func TestWinRateMetricsTable(t *testing.T) {
	for _, c := range []struct {
		name                      string
		prefs                     []float64
		wins, base, draws, total  int
		winRate, discrete, stdErr float64
	}{
		{"all model", []float64{2, 2, 2}, 3, 0, 0, 3, 100, 100, 0},
		{"draw and split", []float64{1.5, 1, 2, 1.6}, 2, 1, 1, 4, 52.5, 62.5, 100 * math.Sqrt(0.5075/3/4)},
		{"nan dropped", []float64{math.NaN(), 1.2, 1.4}, 0, 2, 0, 2, 30, 0, 10},
		{"near draw is not a draw", []float64{1.5000000001, 1.4999999999}, 1, 1, 0, 2, 50, 50, 100 * math.Sqrt(2e-20) / math.Sqrt(2)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := WinRateMetrics(c.prefs)
			if r.NWins != c.wins || r.NWinsBase != c.base || r.NDraws != c.draws || r.NTotal != c.total {
				t.Errorf("wins/base/draws/total = %d/%d/%d/%d, want %d/%d/%d/%d", r.NWins, r.NWinsBase, r.NDraws, r.NTotal, c.wins, c.base, c.draws, c.total)
			}
			if math.Abs(r.WinRate-c.winRate) > 1e-9 || math.Abs(r.DiscreteWinRate-c.discrete) > 1e-9 || math.Abs(r.StandardError-c.stdErr) > 1e-6 {
				t.Errorf("win rate %v discrete %v se %v, want %v %v %v", r.WinRate, r.DiscreteWinRate, r.StandardError, c.winRate, c.discrete, c.stdErr)
			}
		})
	}
}

func TestWinRatePreferenceErrors(t *testing.T) {
	for _, c := range []struct {
		name, raw, want string
	}{
		{"null completion", `null`, "raw_completion: missing"},
		{"no logprobs", `{"message":{"content":"m"}}`, "logprobs.content: missing"},
		{"no verdict", `{"logprobs":{"content":[{"token":"The","top_logprobs":[{"token":"The","logprob":-0.1}]}]}}`, "neither verdict token"},
	} {
		_, err := WinRatePreference(WinRateAnnotation{Instruction: "x", Output1: "a", Output2: "b", RawCompletion: []byte(c.raw)}, WinRateAlpacaEval())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// One token only: the other has probability 0.
	p, err := WinRatePreference(WinRateAnnotation{Instruction: "x", Output1: "a", Output2: "b",
		RawCompletion: []byte(`{"logprobs":{"content":[{"token":"M","top_logprobs":[{"token":"M","logprob":-0.1}]}]}}`)}, WinRateAlpacaEval())
	if err != nil || (p != 2 && p != 1) {
		t.Errorf("only M: %v %v, want 1 or 2", p, err)
	}
}

func winRateULP(x float64) float64 {
	return math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x)
}

func winRateFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// winRateLeaderboard reads the leaderboard CSV into model → column → cell.
func winRateLeaderboard(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for j, col := range recs[0] {
			row[col] = rec[j]
		}
		out[rec[0]] = row
	}
	return out
}
