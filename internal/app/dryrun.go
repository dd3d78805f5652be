package app

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
)

// Estimate is what a run would send, worked out from the plan and the data
// alone: nothing is sent, nothing is stored. Later stages' prompts carry
// answers not yet written, so their tokens are estimated from each
// endpoint's max_tokens (512 when unset); tokens are characters / 4.
type Estimate struct {
	Endpoints []EndpointEstimate
	// Protocols say how each multiple_choice task would ask, by task name.
	Protocols map[string]string
}

// EndpointEstimate is one model's or judge's share of an Estimate.
type EndpointEstimate struct {
	Name, Role       string
	Requests         int
	PromptTokens     int
	CompletionTokens int
	// Cost is in the unit of the endpoint's prices; HasPrice is false when
	// the plan gives none.
	Cost     float64
	HasPrice bool
}

const (
	charsPerToken      = 4
	defaultAnswerChars = 512 * charsPerToken
)

func tokens(chars int) int { return (chars + charsPerToken - 1) / charsPerToken }

func requestChars(r provider.Request) int {
	n := utf8.RuneCountInString(r.System) + utf8.RuneCountInString(r.Prompt) + utf8.RuneCountInString(r.Continuation)
	for _, m := range r.Messages {
		n += utf8.RuneCountInString(m.Content)
	}
	return n
}

// estimate works out the requests of every stage of every task, and the
// judges', without sending any.
func estimate(p *plan.Plan, tasks []*builtTask) *Estimate {
	answerChars := func(m plan.Model) int {
		if m.Params.MaxTokens > 0 {
			return m.Params.MaxTokens * charsPerToken
		}
		return defaultAnswerChars
	}
	var eps []*EndpointEstimate
	byName := map[string]*EndpointEstimate{}
	add := func(m plan.Model, role string) {
		e := &EndpointEstimate{Name: m.Name, Role: role, HasPrice: m.Prices.InputPerMTok > 0 || m.Prices.OutputPerMTok > 0}
		eps = append(eps, e)
		byName[m.Name] = e
	}
	for _, m := range p.Models {
		add(m, "")
	}
	for _, m := range p.Judges {
		add(m, "judge")
	}
	for _, m := range p.Models {
		e := byName[m.Name]
		for _, bt := range tasks {
			for i := range bt.Items {
				it := &bt.Items[i]
				for _, r := range it.Requests {
					e.Requests++
					e.PromptTokens += tokens(requestChars(r))
					if r.Type == provider.Generate {
						// The task's params win over the model's, as when sent.
						if mt := mergeParams(r.Params, toParams(m.Params)).MaxTokens; mt > 0 {
							e.CompletionTokens += mt
						} else {
							e.CompletionTokens += tokens(answerChars(m))
						}
					}
				}
				// Later turns: the conversation so far, with answers of
				// max_tokens each.
				for s := 1; s < len(bt.Stages) && s < len(it.Turns); s++ {
					chars := 0
					for k := 0; k <= s; k++ {
						chars += utf8.RuneCountInString(it.Turns[k])
					}
					chars += s * answerChars(m)
					e.Requests++
					e.PromptTokens += tokens(chars)
					e.CompletionTokens += tokens(answerChars(m))
				}
			}
		}
	}
	for _, bt := range tasks {
		jt := bt.Judge
		if jt == nil {
			continue
		}
		for _, name := range jt.judges {
			var jm plan.Model
			for _, j := range p.Judges {
				if j.Name == name {
					jm = j
				}
			}
			e := byName[name]
			for i := range bt.Items {
				it := &bt.Items[i]
				refs, _ := jt.references(it)
				turns := max(1, len(it.Turns))
				tmpl, err := jt.template(turns, len(refs) > 0)
				if err != nil {
					continue
				}
				chars := utf8.RuneCountInString(tmpl.System) + utf8.RuneCountInString(tmpl.Prompt)
				for _, r := range refs {
					chars += utf8.RuneCountInString(r)
				}
				for _, q := range append([]string{it.Prompt}, it.Turns...) {
					chars += utf8.RuneCountInString(q)
				}
				judgments := len(p.Models)
				answers := 0
				for _, m := range p.Models {
					answers += turns * answerChars(m)
				}
				perJudgment := chars + answers/max(1, len(p.Models))
				if jt.pairwise {
					judgments = 2
					perJudgment = chars + answers
				}
				e.Requests += judgments
				e.PromptTokens += judgments * tokens(perJudgment)
				e.CompletionTokens += judgments * tokens(answerChars(jm))
			}
		}
	}
	// Safety classifiers: one request per model, item, classifier and
	// sample (n answers per item where a model samples them).
	for _, c := range p.Classifiers {
		e := &EndpointEstimate{Name: c.Name, Role: "classifier"}
		eps = append(eps, e)
		for _, bt := range tasks {
			if bt.Classify == nil || !slices.ContainsFunc(bt.Classify.classifiers, func(x plan.Classifier) bool { return x.Name == c.Name }) {
				continue
			}
			for _, m := range p.Models {
				n := max(1, m.Params.N)
				for range bt.Items {
					e.Requests += n
					e.PromptTokens += n * tokens(answerChars(m))
				}
			}
		}
	}
	out := &Estimate{}
	for _, e := range eps {
		var m plan.Model
		for _, x := range append(append([]plan.Model{}, p.Models...), p.Judges...) {
			if x.Name == e.Name {
				m = x
			}
		}
		e.Cost = (float64(e.PromptTokens)*m.Prices.InputPerMTok + float64(e.CompletionTokens)*m.Prices.OutputPerMTok) / 1e6
		out.Endpoints = append(out.Endpoints, *e)
	}
	return out
}

// Write prints the estimate as a table.
func (e *Estimate) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "endpoint\trole\trequests\test. prompt tokens\test. completion tokens\test. cost")
	var total float64
	priced := false
	for _, x := range e.Endpoints {
		role := "model"
		if x.Role != "" {
			role = x.Role
		}
		cost := "— (no prices)"
		if x.HasPrice {
			cost = fmt.Sprintf("%.4f", x.Cost)
			total += x.Cost
			priced = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", x.Name, role, x.Requests, x.PromptTokens, x.CompletionTokens, cost)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if priced {
		fmt.Fprintf(w, "estimated total: %.4f at the plan's prices, before the response cache (cached answers cost nothing)\n", total)
	}
	for _, name := range sortedKeys(e.Protocols) {
		fmt.Fprintf(w, "multiple choice %s: %s\n", name, e.Protocols[name])
	}
	_, err := fmt.Fprintln(w, "dry run: nothing was sent or stored; tokens are estimated as characters / 4, answers not yet written as max_tokens (512 when unset)")
	return err
}
