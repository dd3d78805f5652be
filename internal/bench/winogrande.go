package bench

import (
	"fmt"
	"strings"

	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// winograndeDoc checks a WinoGrande row: the original {qID, sentence,
// option1, option2, answer: "1"|"2"} (kept as is: it is also the Hugging
// Face schema), or the llm-foundry cut stored in the binary
// {context_options, continuation, gold}, which already holds what
// partial scoring needs.
func winograndeDoc(_ int, d lmeval.Doc) (lmeval.Doc, error) {
	if _, ok := d["sentence"]; ok {
		_, _, _, err := winograndePartial(d)
		return d, err
	}
	if _, err := strs(d["context_options"], "context_options"); err != nil {
		return nil, fmt.Errorf("neither the original schema (sentence, option1, option2, answer) nor the stored cut: %w", err)
	}
	if _, err := str(d, "continuation"); err != nil {
		return nil, err
	}
	if g, ok := d["gold"].(int64); !ok || g < 0 || g > 1 {
		return nil, fmt.Errorf("field gold must be 0 or 1, got %v", d["gold"])
	}
	return d, nil
}

// winograndePartial is lm-eval's preprocess_winogrande: the contexts are
// the sentence up to the blank with each option filled in, the shared
// continuation is what follows the blank (stripped), gold is answer - 1.
func winograndePartial(d lmeval.Doc) (contexts []string, continuation string, gold int, err error) {
	if _, original := d["sentence"]; !original {
		// The stored cut, already checked by winograndeDoc.
		for _, o := range d["context_options"].([]any) {
			contexts = append(contexts, o.(string))
		}
		return contexts, d["continuation"].(string), int(d["gold"].(int64)), nil
	}
	sentence, err := str(d, "sentence")
	if err != nil {
		return nil, "", 0, err
	}
	blank := strings.Index(sentence, "_")
	if blank < 0 {
		return nil, "", 0, fmt.Errorf("field sentence has no \"_\" blank to fill")
	}
	for _, k := range []string{"option1", "option2"} {
		o, err := str(d, k)
		if err != nil {
			return nil, "", 0, err
		}
		contexts = append(contexts, sentence[:blank]+o)
	}
	switch d["answer"] {
	case "1":
		gold = 0
	case "2":
		gold = 1
	default:
		return nil, "", 0, fmt.Errorf("field answer must be \"1\" or \"2\", got %v", d["answer"])
	}
	return contexts, pyStrip(sentence[blank+1:]), gold, nil
}

// pyStrip is Python's str.strip() for the ASCII whitespace these files hold.
func pyStrip(s string) string { return strings.Trim(s, " \t\n\r\v\f") }

// buildWinoGrande renders lm-eval's winogrande task (zero-shot, as lm-eval
// runs it): one context per option and the shared continuation
// target_delimiter + the text after the blank; the model's choice is the
// context under which the continuation is most likely.
func buildWinoGrande(d Data, shots, limit int) ([]Instance, error) {
	if shots != 0 {
		return nil, fmt.Errorf("winogrande: %d few-shot examples requested; tunecheck runs WinoGrande zero-shot, as lm-eval does by default (use --num-fewshot 0)", shots)
	}
	t := &lmeval.Task{Name: "winogrande", DatasetPath: "winogrande", DatasetName: "winogrande_xl"}
	docs, err := d.split(t, "validation")
	if err != nil {
		return nil, err
	}
	if limit > 0 && limit < len(docs) {
		docs = docs[:limit]
	}
	out := make([]Instance, len(docs))
	for i, doc := range docs {
		if _, err := winograndeDoc(0, doc); err != nil {
			return nil, fmt.Errorf("winogrande doc %d: %w", i, err)
		}
		ctx, cont, gold, err := winograndePartial(doc)
		if err != nil {
			return nil, fmt.Errorf("winogrande doc %d: %w", i, err)
		}
		out[i] = Instance{Task: "winogrande", Doc: i, Contexts: ctx, Choices: ctx,
			Continuations: []string{" " + cont}, Gold: gold}
	}
	return out, nil
}
