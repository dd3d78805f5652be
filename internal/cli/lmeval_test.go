package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

func runLMEvalCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"lm-eval"}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" },
	})
	return code, out.String(), errOut.String()
}

const lmevalFixtures = "../lmeval/testdata/"

func TestLMEvalTasksListsFixtures(t *testing.T) {
	code, out, errOut := runLMEvalCLI(t, "tasks", lmevalFixtures+"tasks")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"arc_easy       multiple_choice  0      acc, acc_norm",
		"gsm8k          generate_until   5      exact_match [strict-match, flexible-extract]  3.0",
		"group tc_reasoning",
		": arc_easy, arc_challenge, hellaswag",
		"group mmlu_stem",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
}

func TestLMEvalRenderPrintsPromptBytes(t *testing.T) {
	code, out, errOut := runLMEvalCLI(t, "render", lmevalFixtures+"tasks/mmlu/mmlu_anatomy.yaml", "--data-dir", lmevalFixtures+"data", "--limit", "1", "--num-fewshot", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "=== mmlu_anatomy doc 0 (multiple_choice, few-shot docs [0] of dev)\n" +
		"The following are multiple choice questions (with answers) about anatomy.\n\n"
	if !strings.HasPrefix(out, want) || !strings.Contains(out, "\nAnswer: ") || !strings.Contains(out, "[3] \" D\"") {
		t.Fatalf("render output:\n%s", out)
	}
}

func TestLMEvalRenderErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"render", lmevalFixtures + "tasks/arc/arc_easy.yaml"}, "--data-dir is required"},
		{[]string{"render", lmevalFixtures + "tasks/arc/arc_easy.yaml", "--data-dir", t.TempDir()}, "ARC-Easy"},
		{[]string{"render", lmevalFixtures + "bad/missing_hook.yaml", "--data-dir", "x"}, "no Go implementation"},
		{[]string{"render", lmevalFixtures + "tasks/groups/reasoning.yaml", "--data-dir", "x"}, "group file"},
		{[]string{"tasks", lmevalFixtures + "bad"}, "include cycle"},
	} {
		code, _, errOut := runLMEvalCLI(t, c.args...)
		if code != int(exitcode.BadInput) || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
}

func TestLMEvalExportWritesRowsAndPlanTask(t *testing.T) {
	out := filepath.Join(t.TempDir(), "arc.jsonl")
	code, stdout, errOut := runLMEvalCLI(t, "export", lmevalFixtures+"tasks/arc/arc_easy.yaml", "--data-dir", lmevalFixtures+"data", "--out", out, "--num-fewshot", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"4 prompts of lm-eval task arc_easy", "type: multiple_choice", "template: \"{{ context }}\"", "choices: choices", "answer: gold"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan task lacks %q:\n%s", want, stdout)
		}
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var first struct {
		ID      string
		Context string
		Choices []string
		Gold    int
	}
	if err := json.Unmarshal([]byte(strings.SplitN(string(raw), "\n", 2)[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.ID != "arc_easy-0" || !strings.HasSuffix(first.Context, "photosynthesis is the foundation of most food webs?\nAnswer:") || len(first.Choices) != 4 {
		t.Fatalf("first row %+v", first)
	}
	if code, _, errOut := runLMEvalCLI(t, "export", lmevalFixtures+"tasks/arc/arc_easy.yaml", "--data-dir", lmevalFixtures+"data"); code != int(exitcode.BadInput) || !strings.Contains(errOut, "--out") {
		t.Errorf("missing --out: exit %d %q", code, errOut)
	}
}
