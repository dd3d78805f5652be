package task

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

// generateType asks for generated text and scores it with the plan's
// scorers. Rows may be rendered with a template, sent as their own chat
// `messages`, or (Alpaca rows) rendered from instruction and input. With
// `turns`, each user turn is a stage whose request carries the model's own
// answers to the turns before it (MT-Bench's second turn).
type generateType struct{}

func (generateType) Name() string { return Generate }

func (generateType) Doc() string {
	return "generated text scored by the task's scorers; one stage per turn with `turns`"
}

func (generateType) Keys() []Key {
	return []Key{{Name: "turns", Doc: "field holding a list of user turns; each turn is a stage that sees the model's own earlier answers, and the scorers score the last"}}
}

func (generateType) Check(t *plan.Task, at string, r plan.Reporter) {
	checkNoChoices(t, at, r)
	if t.FewShot.K > 0 && t.FewShot.Target == "" && t.Reference == "" {
		// An example without its answer teaches the model nothing.
		r.Errorf(at+".few_shot", "set `few_shot.target` (e.g. \"{{ answer }}\") or the task's `reference`, which examples then show as their answer", "few-shot examples need an answer")
	}
	checkNoOptions(t, at, r)
	if t.Turns != "" && t.FewShot.K > 0 {
		r.Errorf(at+".few_shot", "remove few_shot: a multi-turn conversation carries its own turns", "few_shot does not combine with turns")
	}
}

func (generateType) Stages(spec Spec, items []Item) []string {
	if spec.Turns == "" {
		return []string{"generate"}
	}
	n := 1
	for _, it := range items {
		n = max(n, len(it.Turns))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = "turn" + strconv.Itoa(i+1)
	}
	return out
}

func (generateType) Build(spec Spec, rows []Row) ([]Item, error) {
	if err := checkReferenceField(spec, rows); err != nil {
		return nil, err
	}
	if spec.Template == "" {
		switch {
		case spec.Turns != "":
			return buildTurns(spec, rows)
		case spec.Shape == dataset.ShapeAlpaca:
			spec.Template = alpacaTemplate
			if spec.Reference == "" {
				spec.Reference = "output"
			}
		case spec.Shape == dataset.ShapeChat:
			if spec.K > 0 {
				return nil, fmt.Errorf("task %s: few_shot needs a prompt.template; chat rows carry their own turns", spec.Name)
			}
			return buildChat(spec, rows)
		default:
			return nil, fmt.Errorf("task %s: prompt.template is missing; write a Jinja template such as \"{{ question }}\" (it may be left out only for chat `messages`, Alpaca rows or `turns`)", spec.Name)
		}
	}
	if spec.Turns != "" {
		return nil, fmt.Errorf("task %s: prompt.template and turns both say what to send; remove the template (each turn is sent as written) or turns", spec.Name)
	}
	return renderRows(spec, rows, func(r Row, rd rendered) (Item, error) {
		it := rd.item
		req := provider.Request{Type: provider.Generate, ItemID: r.ID, Params: spec.Params}
		if spec.Chat {
			req.System = rd.system
			for _, s := range rd.shots {
				req.Messages = append(req.Messages, provider.Message{Role: "user", Content: s[0]}, provider.Message{Role: "assistant", Content: s[1]})
			}
			req.Messages = append(req.Messages, provider.Message{Role: "user", Content: it.Prompt})
		} else {
			req.Prompt = completionPrompt(rd.system, rd.shots, it.Prompt)
		}
		it.Requests = []provider.Request{req}
		return it, nil
	})
}

// buildChat sends each chat row's messages up to (not including) its final
// assistant turn; that turn is the reference unless the task names one.
func buildChat(spec Spec, rows []Row) ([]Item, error) {
	ref, err := compileReference(spec)
	if err != nil {
		return nil, err
	}
	b := compiled{spec: spec, ref: ref}
	return eachRow(spec, rows, func(r Row) (Item, error) {
		raw, _ := r.Fields["messages"].([]any)
		var msgs []provider.Message
		for _, m := range raw {
			mm, _ := m.(map[string]any)
			role, _ := mm["role"].(string)
			content, _ := mm["content"].(string)
			msgs = append(msgs, provider.Message{Role: role, Content: content})
		}
		it := Item{ID: r.ID, Line: r.Line, Fields: r.Fields, Gold: -1}
		if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
			it.References = nonEmpty([]string{msgs[n-1].Content})
			msgs = msgs[:n-1]
		}
		if len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
			return it, fmt.Errorf("messages: the conversation must end with a user turn (optionally followed by the reference assistant turn)")
		}
		if spec.Reference != "" {
			refs, err := b.references(r)
			if err != nil {
				return it, err
			}
			it.References = refs
		}
		it.Prompt = msgs[len(msgs)-1].Content
		it.Requests = []provider.Request{{Type: provider.Generate, ItemID: r.ID, Messages: msgs, Params: spec.Params}}
		return it, nil
	})
}

// buildTurns reads each row's user turns; the first stage sends turn 1.
func buildTurns(spec Spec, rows []Row) ([]Item, error) {
	ref, err := compileReference(spec)
	if err != nil {
		return nil, err
	}
	sys, err := compileSystem(spec)
	if err != nil {
		return nil, err
	}
	b := compiled{spec: spec, ref: ref}
	return eachRow(spec, rows, func(r Row) (Item, error) {
		it := Item{ID: r.ID, Line: r.Line, Fields: r.Fields, Gold: -1}
		raw, ok := r.Fields[spec.Turns].([]any)
		if !ok || len(raw) == 0 {
			return it, fmt.Errorf("field %q (turns) must be a non-empty list of user turns, got %s", spec.Turns, describe(r.Fields[spec.Turns]))
		}
		for i, x := range raw {
			s, ok := x.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return it, fmt.Errorf("field %q (turns) entry %d must be a non-empty string, got %s", spec.Turns, i+1, describe(x))
			}
			it.Turns = append(it.Turns, s)
		}
		refs, err := b.references(r)
		if err != nil {
			return it, err
		}
		it.References = refs
		it.Prompt = turnsPrompt(it.Turns)
		system := ""
		if sys != nil {
			if system, err = sys.Render(r.Fields); err != nil {
				return it, fmt.Errorf("prompt.system: %w", err)
			}
		}
		it.Requests = []provider.Request{{Type: provider.Generate, ItemID: r.ID, System: system,
			Messages: []provider.Message{{Role: "user", Content: it.Turns[0]}}, Params: spec.Params}}
		return it, nil
	})
}

func compileSystem(spec Spec) (*Template, error) {
	if spec.System == "" {
		return nil, nil
	}
	t, err := Compile(spec.System)
	if err != nil {
		return nil, fmt.Errorf("task %s: prompt.system: %w", spec.Name, err)
	}
	return t, nil
}

// Next builds turn s+1: the conversation so far, with the model's own
// answers as the assistant turns, then the next user turn.
func (generateType) Next(spec Spec, s int, it *Item, prior [][]provider.Response) ([]provider.Request, error) {
	if s >= len(it.Turns) {
		return nil, nil
	}
	for k := 0; k < s; k++ {
		if strings.TrimSpace(prior[k][0].Text) == "" {
			// An empty answer ends the conversation: the item is counted
			// as empty, not sent on with an empty assistant turn.
			return nil, ErrEmptyOutput
		}
	}
	first := it.Requests[0]
	req := provider.Request{Type: provider.Generate, ItemID: it.ID, System: first.System, Params: first.Params}
	for k := 0; k < s; k++ {
		req.Messages = append(req.Messages, provider.Message{Role: "user", Content: it.Turns[k]},
			provider.Message{Role: "assistant", Content: prior[k][0].Text})
	}
	req.Messages = append(req.Messages, provider.Message{Role: "user", Content: it.Turns[s]})
	return []provider.Request{req}, nil
}

func (generateType) Scorers(Spec) []scorer.Scorer { return nil }

func (generateType) Input(spec Spec, it *Item, resps [][]provider.Response) (scorer.Input, string, error) {
	last := &resps[len(resps)-1][0]
	in := scorer.Input{Prediction: last.Text, References: it.References, Fields: it.Fields, Response: last, Gold: -1}
	if len(last.Texts) > 1 {
		in.Samples = last.Texts
	}
	if len(resps) > 1 {
		in.Stages = map[string]*provider.Response{}
		for k := range resps[:len(resps)-1] {
			in.Stages["turn"+strconv.Itoa(k+1)] = &resps[k][0]
		}
	}
	if strings.TrimSpace(last.Text) == "" {
		return in, last.Text, ErrEmptyOutput
	}
	return in, last.Text, nil
}

// turnsPrompt shows a multi-turn item's user turns in reports, each marked;
// the answers between them are each model's own.
func turnsPrompt(turns []string) string {
	if len(turns) == 1 {
		return turns[0]
	}
	var b strings.Builder
	for i, t := range turns {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "[turn %d] %s", i+1, t)
	}
	return b.String()
}
