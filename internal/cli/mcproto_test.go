package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --apply-chat-template reaches the run: a dry run says the multiple-choice
// task would be asked by generation as chat messages.
func TestRunApplyChatTemplateFlag(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mc.jsonl"), []byte(`{"id": "1", "q": "Sky?", "choices": ["blue", "green"], "gold": 0}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := `name: mc
models:
  - {name: base, provider: openai, base_url: http://127.0.0.1:1/v1, model: base}
tasks:
  - name: facts
    type: multiple_choice
    dataset: {path: mc.jsonl, id_field: id}
    prompt: {template: "{{ q }}"}
    choices: choices
    answer: gold
`
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", path, "--dry-run"}, "multiple choice facts: auto: loglikelihood if every model's endpoint"},
		{[]string{"run", path, "--dry-run", "--apply-chat-template"}, "multiple choice facts: generate, chat template"},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != 0 || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d, output lacks %q:\n%s%s", c.args, code, c.want, out, errOut)
		}
	}
}
