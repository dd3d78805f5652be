package report

import "github.com/tunecheck/tunecheck/internal/safety/pii"

// MaskPII returns a copy of r whose texts — the items shown side by side
// (prompts, references, outputs) and the side sections (which quote
// training data) — have personal data and secrets replaced by their kind
// ("[EMAIL]", "[CARD]", …; internal/safety/pii). The store keeps the raw
// text; only what is rendered is masked (`--mask-pii`).
func MaskPII(r *Report) *Report {
	out := *r
	out.Tasks = make([]Task, len(r.Tasks))
	for i, t := range r.Tasks {
		t.Worst = maskExamples(t.Worst)
		t.Flipped = maskExamples(t.Flipped)
		out.Tasks[i] = t
	}
	out.Sections = make([]Section, len(r.Sections))
	for i, s := range r.Sections {
		s.Markdown = pii.Mask(s.Markdown)
		out.Sections[i] = s
	}
	return &out
}

func maskExamples(es []Example) []Example {
	if es == nil {
		return nil
	}
	out := make([]Example, len(es))
	for i, e := range es {
		e.Prompt, e.Baseline, e.Candidate = pii.Mask(e.Prompt), pii.Mask(e.Baseline), pii.Mask(e.Candidate)
		refs := make([]string, len(e.References))
		for k, ref := range e.References {
			refs[k] = pii.Mask(ref)
		}
		if e.References == nil {
			refs = nil
		}
		e.References = refs
		out[i] = e
	}
	return out
}
