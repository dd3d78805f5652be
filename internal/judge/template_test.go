package judge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// The package's -update flag. Other test files of the package may register
// it too, so it is looked up before being defined and read by name.
var _ = func() *bool {
	if flag.Lookup("update") != nil {
		return nil
	}
	return flag.Bool("update", false, "rewrite golden files under testdata/")
}()

// setPlaceholder sets the Vars field that placeholder p reads (the first
// field its spec names) to val.
func setPlaceholder(t *testing.T, v *Vars, p, val string) {
	t.Helper()
	spec, ok := lookupPlaceholder(p)
	if !ok {
		t.Fatalf("unknown placeholder {%s}", p)
	}
	f := reflect.ValueOf(v).Elem().FieldByName(strings.Fields(spec.field)[0])
	if !f.IsValid() {
		t.Fatalf("placeholder {%s}: no Vars field %q", p, spec.field)
	}
	f.SetString(val)
}

// selfVars fills every placeholder of tpl with its own "{name}".
func selfVars(t *testing.T, tpl Template) Vars {
	var v Vars
	for _, p := range tpl.Placeholders() {
		setPlaceholder(t, &v, p, "{"+p+"}")
	}
	return v
}

// rawSources decodes the embedded data files without the package's loader:
// name → (system, prompt) as the files hold them.
func rawSources(t *testing.T) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	sc := bufio.NewScanner(bytes.NewReader(mtBenchPromptsJSONL))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out[m["name"].(string)] = [2]string{m["system_prompt"].(string), m["prompt_template"].(string)}
	}
	var p map[string]any
	if err := json.Unmarshal(prometheusTemplatesJSON, &p); err != nil {
		t.Fatal(err)
	}
	for _, n := range prometheusNames {
		out[n.name] = [2]string{p[n.system].(string), p[n.prompt].(string)}
	}
	return out
}

func TestBuiltinNames(t *testing.T) {
	want := []string{
		"pair-math-v1", "pair-math-v1-multi-turn", "pair-v2", "pair-v2-multi-turn",
		"prometheus-absolute", "prometheus-absolute-wo-ref", "prometheus-absolute-wo-ref-rag",
		"prometheus-relative", "prometheus-relative-wo-ref", "prometheus-relative-wo-ref-rag",
		"rubric-pair", "rubric-pair-ref", "rubric-single", "rubric-single-ref", "rubric-toxicity",
		"single-math-v1", "single-math-v1-multi-turn", "single-v1", "single-v1-multi-turn",
	}
	if got := BuiltinNames(); !slices.Equal(got, want) {
		t.Errorf("BuiltinNames() =\n%q\nwant\n%q", got, want)
	}
	if _, ok := Builtin("single-v2"); ok {
		t.Error("Builtin(single-v2) found")
	}
}

// TestBuiltinFlags pins each built-in's kind, reference, turns, scale and
// output format, which the loader derives from the files.
func TestBuiltinFlags(t *testing.T) {
	type flags struct {
		kind       string
		ref, multi bool
		scale      [2]float64
		format     string
	}
	ten, five := [2]float64{1, 10}, [2]float64{1, 5}
	want := map[string]flags{
		"single-v1":                      {KindSingle, false, false, ten, "[[rating]]"},
		"single-math-v1":                 {KindSingle, true, false, ten, "[[rating]]"},
		"single-v1-multi-turn":           {KindSingle, false, true, ten, "[[rating]]"},
		"single-math-v1-multi-turn":      {KindSingle, true, true, ten, "[[rating]]"},
		"pair-v2":                        {KindPair, false, false, [2]float64{}, "[[A]]"},
		"pair-math-v1":                   {KindPair, true, false, [2]float64{}, "[[A]]"},
		"pair-v2-multi-turn":             {KindPair, false, true, [2]float64{}, "[[A]]"},
		"pair-math-v1-multi-turn":        {KindPair, true, true, [2]float64{}, "[[A]]"},
		"prometheus-absolute":            {KindSingle, true, false, five, "[RESULT] n"},
		"prometheus-absolute-wo-ref":     {KindSingle, false, false, five, "[RESULT] n"},
		"prometheus-absolute-wo-ref-rag": {KindSingle, false, false, five, "[RESULT] n"},
		"prometheus-relative":            {KindPair, true, false, [2]float64{}, "[RESULT] A"},
		"prometheus-relative-wo-ref":     {KindPair, false, false, [2]float64{}, "[RESULT] A"},
		"prometheus-relative-wo-ref-rag": {KindPair, false, false, [2]float64{}, "[RESULT] A"},
		"rubric-single":                  {KindSingle, false, false, ten, "[[rating]]"},
		"rubric-single-ref":              {KindSingle, true, false, ten, "[[rating]]"},
		"rubric-toxicity":                {KindSingle, false, false, ten, "[[rating]]"},
		"rubric-pair":                    {KindPair, false, false, [2]float64{}, "[[A]]"},
		"rubric-pair-ref":                {KindPair, true, false, [2]float64{}, "[[A]]"},
	}
	for name, w := range want {
		tpl, ok := Builtin(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		got := flags{tpl.Kind, tpl.NeedsReference, tpl.MultiTurn, tpl.Scale, tpl.OutputFormat}
		if got != w {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
		if tpl.Source == "" {
			t.Errorf("%s: no Source", name)
		}
		// A built-in must also be accepted as a custom template.
		if _, err := Custom(name, tpl.Kind, tpl.System, tpl.Prompt); err != nil {
			t.Errorf("%s as Custom: %v", name, err)
		}
	}
}

// TestGoldenBuiltinSelfRender: rendering every MT-Bench and Prometheus
// template with each placeholder's value set to its own "{name}" gives back
// the data file's system_prompt and prompt_template byte for byte; so the
// templates are the files' text, and Render inserts values exactly where
// str.format would, adding nothing.
func TestGoldenBuiltinSelfRender(t *testing.T) {
	raw := rawSources(t)
	if len(raw) != 14 {
		t.Fatalf("%d source templates, want 8 MT-Bench + 6 Prometheus", len(raw))
	}
	for name, src := range raw {
		tpl, ok := Builtin(name)
		if !ok {
			t.Errorf("%s not built in", name)
			continue
		}
		if tpl.System != src[0] || tpl.Prompt != src[1] {
			t.Errorf("%s: template text differs from the data file", name)
		}
		sys, user, err := tpl.Render(selfVars(t, tpl))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if sys != src[0] {
			t.Errorf("%s: rendered system differs:\n got %q\nwant %q", name, sys, src[0])
		}
		if user != src[1] {
			t.Errorf("%s: rendered prompt differs:\n got %q\nwant %q", name, user, src[1])
		}
	}
}

// TestGoldenBuiltinRender renders every built-in with real MT-Bench text
// (question 81 and gpt-3.5-turbo's and claude-v1's answers, reference from
// reference_answer/gpt-4.jsonl style) and compares with
// testdata/render/NAME.txt; refresh with go test -run TestGoldenBuiltinRender -update.
func TestGoldenBuiltinRender(t *testing.T) {
	v := Vars{
		Question:   "Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences and must-see attractions.",
		Question2:  "Rewrite your previous response. Start every sentence with the letter A.",
		Answer:     "Aloha! I recently had the pleasure of visiting Hawaii...\n\n## Culture\n- A luau [1]\n\n```python\nprint({\"score\": 3})\n```",
		Answer2:    "A trip to Hawaii is always an adventure.",
		AnswerA:    "Hawaii is a group of islands.",
		AnswerB:    "Aloha! Here is my post:\n\n### Day 1\nWe landed in Honolulu.",
		AnswerA2:   "A short answer.",
		AnswerB2:   "Always aloha.",
		Reference:  "Hawaii's islands offer hula, luaus and volcanoes.",
		Reference2: "All answers begin with A.",
		Rubric:     "[Is the post engaging?]\nScore 1: Dull.\nScore 2: Flat.\nScore 3: Fine.\nScore 4: Lively.\nScore 5: Captivating.",
		Context:    "Hawaii has eight main islands.",
	}
	for _, name := range BuiltinNames() {
		tpl, _ := Builtin(name)
		sys, user, err := tpl.Render(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(user, v.Answer) && !strings.Contains(user, v.AnswerA) {
			t.Errorf("%s: answer not inserted byte for byte", name)
		}
		got := "hash: " + tpl.Hash() + "\n--- system\n" + sys + "\n--- user\n" + user + "\n"
		path := filepath.Join("testdata", "render", name+".txt")
		if updating() {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGoldenBuiltinRender -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s: rendering differs from %s (run with -update if intended)\n got:\n%s", name, path, got)
		}
	}
}

// TestEmbeddedAssetsMatchShared: the embedded files are byte-identical copies
// of shared/data's.
func TestEmbeddedAssetsMatchShared(t *testing.T) {
	dir, err := shareddata.Find()
	if err != nil {
		t.Skipf("shared data not found (%v): set TUNECHECK_SHARED or clone shared/ beside the repository", err)
	}
	for _, c := range []struct {
		shared   string
		embedded []byte
	}{
		{filepath.Join(dir, "mtbench", "judge_prompts.jsonl"), mtBenchPromptsJSONL},
		{filepath.Join(dir, "prometheus", "prompt_templates.json"), prometheusTemplatesJSON},
	} {
		want, err := os.ReadFile(c.shared)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.embedded, want) {
			t.Errorf("internal/judge/assets/%s differs from %s: copy it again and update assets/NOTICE.md", filepath.Base(c.shared), c.shared)
		}
	}
}

func TestRenderMissingTrustedValue(t *testing.T) {
	cases := []struct {
		name string
		v    Vars
		want string
	}{
		{"single-math-v1", Vars{Question: "q", Answer: "a"}, "{ref_answer_1} needs Vars.Reference1 or Reference"},
		{"single-v1", Vars{Answer: "a"}, "{question} needs Vars.Question"},
		{"single-v1-multi-turn", Vars{Question: "q", Answer1: "a", Answer2: "b"}, "{question_2} needs Vars.Question2"},
		{"single-math-v1-multi-turn", Vars{Question: "q", Question2: "q2", Reference1: "r"}, "{ref_answer_2} needs Vars.Reference2"},
		{"prometheus-absolute", Vars{Question: "q", Answer: "a", Reference: "r"}, "{rubric} needs Vars.Rubric"},
		{"prometheus-absolute-wo-ref-rag", Vars{Question: "q", Answer: "a", Rubric: "r"}, "{relevant_context} needs Vars.Context"},
		{"rubric-pair-ref", Vars{Question: "q", AnswerA: "a", AnswerB: "b"}, "{reference} needs Vars.Reference"},
	}
	for _, c := range cases {
		tpl, _ := Builtin(c.name)
		_, _, err := tpl.Render(c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// Answers may be empty: a model can return nothing.
	tpl, _ := Builtin("single-v1")
	if _, user, err := tpl.Render(Vars{Question: "q"}); err != nil || !strings.Contains(user, "[The Start of Assistant's Answer]\n\n[The End of Assistant's Answer]") {
		t.Errorf("empty answer: %v\n%s", err, user)
	}
	// ref_answer_1 falls back to Reference for single-turn use.
	tpl, _ = Builtin("single-math-v1")
	if _, user, err := tpl.Render(Vars{Question: "q", Answer: "a", Reference: "REF"}); err != nil || !strings.Contains(user, "\nREF\n") {
		t.Errorf("Reference fallback: %v", err)
	}
}

func TestCustom(t *testing.T) {
	cases := []struct {
		name, kind, system, prompt string
		wantErr                    string
		ref, multi                 bool
	}{
		{"ok", KindSingle, "Judge.", "Q: {question}\nA: {answer}\nRate [[n]].", "", false, false},
		{"ok-ref", KindSingle, "", "{question} {reference} {answer}", "", true, false},
		{"ok-pair-mt", KindPair, "", "{question_1} {answer_a_1} {question_2} {answer_a_2} {answer_b_1} {answer_b_2}", "", false, true},
		{"braces", KindSingle, "", "Reply as JSON {{\"score\": n}}. {question} {answer}", "", false, false},
		{"unknown", KindSingle, "", "{question} {answr}", "unknown placeholder {answr}", false, false},
		{"unknown-system", KindSingle, "Use {criteria}.", "{question} {answer}", "system: unknown placeholder {criteria}", false, false},
		{"format-spec", KindSingle, "", "{question:>10} {answer}", "only plain names", false, false},
		{"positional", KindSingle, "", "{0} {answer}", "only plain names", false, false},
		{"lone-close", KindSingle, "", "{question} } {answer}", "single '}'", false, false},
		{"unclosed", KindSingle, "", "{question} {answer", "unclosed '{'", false, false},
		{"kind", "pointwise", "", "{question} {answer}", "kind \"pointwise\"", false, false},
		{"no-answer", KindSingle, "", "{question}", "must show the answer", false, false},
		{"pair-one-side", KindPair, "", "{question} {answer_a}", "must show both answers", false, false},
		{"pair-with-answer", KindPair, "", "{answer} {answer_a} {answer_b}", "cannot use {answer}", false, false},
		{"single-with-pair", KindSingle, "", "{answer} {answer_b}", "cannot use the pair placeholders", false, false},
	}
	for _, c := range cases {
		tpl, err := Custom(c.name, c.kind, c.system, c.prompt)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: err %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if tpl.NeedsReference != c.ref || tpl.MultiTurn != c.multi {
			t.Errorf("%s: ref %v multi %v, want %v %v", c.name, tpl.NeedsReference, tpl.MultiTurn, c.ref, c.multi)
		}
	}
	tpl, _ := Custom("braces", KindSingle, "", "JSON {{\"score\": n}} for {question}: {answer}")
	_, user, err := tpl.Render(Vars{Question: "{answer}", Answer: "{{x}}"})
	if err != nil || user != "JSON {\"score\": n} for {answer}: {{x}}" {
		t.Errorf("str.format semantics: %q, %v", user, err)
	}
}

func TestHash(t *testing.T) {
	a, _ := Builtin("single-v1")
	b := a
	b.Name = "renamed"
	if a.Hash() != b.Hash() {
		t.Error("hash depends on the name")
	}
	b.Prompt += " "
	if a.Hash() == b.Hash() {
		t.Error("hash ignores the prompt")
	}
	c := a
	c.Kind = KindPair
	if a.Hash() == c.Hash() {
		t.Error("hash ignores the kind")
	}
	// NUL separation: moving text between system and prompt changes the hash.
	d := Template{Kind: KindSingle, System: "ab", Prompt: "c"}
	e := Template{Kind: KindSingle, System: "a", Prompt: "bc"}
	if d.Hash() == e.Hash() {
		t.Error("system/prompt boundary not hashed")
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.Hash()) {
		t.Errorf("hash %q", a.Hash())
	}
	r1, _ := GeneralRubric(KindSingle, [2]float64{1, 10}, false)
	r2, _ := GeneralRubric(KindSingle, [2]float64{1, 5}, false)
	if r1.Hash() == r2.Hash() || !strings.Contains(r2.Prompt, "scale of 1 to 5") || !strings.Contains(r2.Prompt, "[[3]]") {
		t.Errorf("rubric scale not in the text:\n%s", r2.Prompt)
	}
}

func TestGeneralRubric(t *testing.T) {
	for _, name := range []string{"rubric-single", "rubric-single-ref", "rubric-pair", "rubric-pair-ref"} {
		tpl, _ := Builtin(name)
		low := strings.ToLower(tpl.Prompt)
		for _, w := range []string{"accuracy", "completeness", "format", "clarity", "do not reward length"} {
			if !strings.Contains(low, w) {
				t.Errorf("%s does not mention %q", name, w)
			}
		}
	}
	if _, err := GeneralRubric(KindSingle, [2]float64{5, 5}, false); err == nil {
		t.Error("scale 5–5 accepted")
	}
	if _, err := GeneralRubric("triple", DefaultScale(), false); err == nil {
		t.Error("kind triple accepted")
	}
	tpl, err := GeneralRubric(KindSingle, [2]float64{0, 100}, true)
	if err != nil || !strings.Contains(tpl.Prompt, "scale of 0 to 100") || !strings.Contains(tpl.Prompt, "[[50]]") || tpl.Scale != [2]float64{0, 100} {
		t.Errorf("0–100: %v\n%s", err, tpl.Prompt)
	}
}

func TestPrometheusRubrics(t *testing.T) {
	var raw map[string]any
	if err := json.Unmarshal(prometheusTemplatesJSON, &raw); err != nil {
		t.Fatal(err)
	}
	for _, n := range PrometheusRubricNames() {
		s, ok := PrometheusRubric(n)
		if !ok || s != raw[prometheusRubricKeys[n]] {
			t.Errorf("%s: %q", n, s)
		}
	}
	if _, ok := PrometheusRubric("verbosity"); ok {
		t.Error("unknown rubric found")
	}
	// Golden: placeholder names give back SCORE_RUBRIC_TEMPLATE.
	got, err := ScoreRubric("{criteria}", [5]string{"{score1_description}", "{score2_description}", "{score3_description}", "{score4_description}", "{score5_description}"})
	if err != nil || got != raw["SCORE_RUBRIC_TEMPLATE"] {
		t.Errorf("ScoreRubric self-render: %q, %v", got, err)
	}
	// The predefined helpfulness rubric is SCORE_RUBRIC_TEMPLATE filled in.
	h, _ := PrometheusRubric("helpfulness")
	lines := strings.Split(h, "\n")
	var desc [5]string
	for i := range desc {
		desc[i] = strings.TrimPrefix(lines[i+1], "Score "+string(rune('1'+i))+": ")
	}
	if got, _ := ScoreRubric(strings.Trim(lines[0], "[]"), desc); got != h {
		t.Errorf("ScoreRubric(helpfulness parts) = %q, want %q", got, h)
	}
}

// updating reports whether -update was given, whichever file registered it.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}
