package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

var updateCurves = flag.Bool("update-curves", false, "rewrite internal/cli/testdata/curves golden files")

// runCLI runs tunecheck with args and returns its exit code and outputs,
// with the shared data directory replaced by $SHARED so goldens are portable.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
	shared := shareddata.Dir(t)
	clean := func(s string) string { return strings.ReplaceAll(s, shared, "$SHARED") }
	return code, clean(out.String()), clean(errOut.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "curves", name)
	if *updateCurves {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Curves -update-curves to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (refresh with -update-curves if intended)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestCurvesCommandGolden(t *testing.T) {
	dir := shareddata.Path(t, "curves")
	logs := []string{
		filepath.Join(dir, "llamafactory_qwen2.5-7b-medical.trainer_log.jsonl"),
		filepath.Join(dir, "trl_sft_tinyllama_healthy.trainer_state.json"),
		filepath.Join(dir, "hf_mt5-az-summarization_noisy.trainer_state.json"),
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"three runs, text", append([]string{"curves"}, logs...), 0, "three.txt"},
		{"overfitting, markdown", []string{"curves", logs[0], "-f", "md", "--patience", "2"}, 0, "overfit.md"},
		{"threshold and keras restore", []string{"curves", logs[1], "--patience", "3", "--threshold", "0.01", "--restore-best-weights"}, 0, "healthy-thr.txt"},
		{"fail-on overfitting", []string{"curves", logs[0], logs[1], "--fail-on", "overfitting,diverged"}, 1, "fail-on.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			checkGolden(t, tt.golden, out+errOut)
		})
	}
}

func TestCurvesCommandJSONAndPlot(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "loss.svg")
	log := shareddata.Path(t, "curves", "trl_sft_tinyllama_healthy.trainer_state.json")
	code, out, errOut := runCLI(t, "curves", log, "-f", "json", "--plot", plot)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Runs []struct {
			Verdict  string `json:"verdict"`
			BestEval struct {
				Step int64 `json:"step"`
			} `json:"best_eval"`
			Eval []struct {
				Step  int64    `json:"step"`
				Value *float64 `json:"value"`
			} `json:"eval"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(doc.Runs) != 1 || doc.Runs[0].Verdict != "healthy" || doc.Runs[0].BestEval.Step != 2800 || len(doc.Runs[0].Eval) != 14 {
		t.Errorf("unexpected JSON: %+v", doc.Runs)
	}
	svg, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("eval minimum (step 2800)")) {
		t.Errorf("plot lacks the svg root or the minimum's legend entry (%d bytes)", len(svg))
	}
}

func TestCurvesCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	noLoss := filepath.Join(dir, "metrics.csv")
	if err := os.WriteFile(noLoss, []byte("step,lr,grad_norm\n1,0.1,2\n2,0.1,1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{"curves", filepath.Join(dir, "nope.json")}, []string{"nope.json", "no such file"}},
		{"no loss", []string{"curves", noLoss}, []string{noLoss, "no train or eval loss", "series found: grad_norm, lr", "hint: name the loss columns with --map"}},
		{"bad flag value", []string{"curves", noLoss, "--smooth", "1.5"}, []string{"--smooth 1.5"}},
		{"bad map", []string{"curves", noLoss, "--map", "loss"}, []string{"ROLE=COLUMN"}},
		{"bad format", []string{"curves", noLoss, "--reader", "xls"}, []string{"unknown reader"}},
		{"bad fail-on", []string{"curves", noLoss, "--fail-on", "sad"}, []string{"not a verdict"}},
		{"no args", []string{"curves"}, []string{"requires at least 1 arg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (bad input)", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestCurvesMapFlag(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "log.csv")
	var b strings.Builder
	b.WriteString("iter,tr,va\n")
	for i := 1; i <= 40; i++ {
		va := ""
		if i%5 == 0 {
			va = strings.TrimRight(strings.TrimRight(fmtFloat(2-float64(i)/50), "0"), ".")
		}
		b.WriteString(strings.Join([]string{itoa(i * 10), fmtFloat(3 - float64(i)/20), va}, ",") + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "curves", p, "--map", "step=iter,train=tr,eval=va")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"(csv, steps 10-400, 40 train / 8 eval points)", "verdict      healthy", "best eval    1.2 at step 400"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }
func itoa(i int) string         { return strconv.Itoa(i) }

// TestCurvesFailOnDivergedTrainOnly: a train-only QLoRA log whose loss climbs
// from 1 to 30 is diverged, and --fail-on diverged fires without eval loss.
func TestCurvesFailOnDivergedTrainOnly(t *testing.T) {
	log := filepath.Join("testdata", "curves", "qlora_diverging.trainer_log.jsonl")
	code, out, errOut := runCLI(t, "curves", log, "--fail-on", "diverged")
	if code != 1 || !strings.Contains(out, "diverged since step 10") || !strings.Contains(errOut, "--fail-on") {
		t.Errorf("exit %d, out %s, stderr %s; want diverged and exit 1", code, out, errOut)
	}
	if !strings.Contains(out, "the last logged value is 30") {
		t.Errorf("the reason should quote the raw last loss: %s", out)
	}
}

// TestCurvesLightningVersions: without --join the summary says only the
// newest version was read; with it the versions are one curve, resumed once.
func TestCurvesLightningVersions(t *testing.T) {
	dir := filepath.Join("testdata", "curves", "lightning_logs")
	code, out, errOut := runCLI(t, "curves", dir)
	if code != 0 || !strings.Contains(out, "only the newest, version_1, was read: pass --join") || !strings.Contains(out, "steps 19-49") {
		t.Errorf("exit %d, out %s, stderr %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "curves", dir, "--join")
	if code != 0 || !strings.Contains(out, "steps 9-49") || !strings.Contains(out, "the log goes back to step 19") || !strings.Contains(out, "joined 2 logger versions") {
		t.Errorf("--join: exit %d, out %s, stderr %s", code, out, errOut)
	}
}
