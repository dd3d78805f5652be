package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/bench"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

func runTasksCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"tasks"}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" },
	})
	return code, out.String(), errOut.String()
}

func TestTasksListsEveryBenchmark(t *testing.T) {
	code, out, errOut := runTasksCLI(t)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, n := range bench.Names() {
		if !strings.Contains(out, "\n"+n+" ") {
			t.Errorf("benchmark %s is not listed:\n%s", n, out)
		}
	}
	if !strings.Contains(out, "mmlu (57 tasks)  multiple_choice  5 ") {
		t.Errorf("mmlu line lacks its task count, type or n-shot:\n%s", out)
	}
}

func TestTasksJSONAndAlias(t *testing.T) {
	code, out, errOut := runTasksCLI(t, "arc", "gsm8k", "-f", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []bench.Info
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range got {
		names = append(names, i.Name)
	}
	if strings.Join(names, ",") != "arc_easy,arc_challenge,gsm8k" {
		t.Fatalf("got %v, want arc_easy, arc_challenge, gsm8k", names)
	}
	if got[2].NShot != 5 || got[2].Version != "3.0" || got[2].Source == "" {
		t.Errorf("gsm8k listing %+v", got[2])
	}
}

func TestTasksUnknownName(t *testing.T) {
	code, _, errOut := runTasksCLI(t, "mmlu_pro")
	if code != int(exitcode.BadInput) || !strings.Contains(errOut, `unknown benchmark "mmlu_pro"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
