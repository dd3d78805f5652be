package gate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Known is what a plan, as built and before any request, says a run will
// have: the tasks, each task's metrics, and whether two models are compared.
type Known struct {
	// Tasks maps each task name to its metric names, in the order the
	// report lists them. A nil list means the task's metrics are not known
	// before the run; its metrics are then not checked.
	Tasks map[string][]string
	// Compared is true when the plan sets both compare.baseline and
	// compare.candidate; without it only value, candidate and count fields exist.
	Compared bool
	// Slices maps a task to its slices' names (tasks without slices are absent).
	Slices map[string][]string
}

// Validate checks a parsed gate against the plan: the task exists, the
// metric is one of the task's, and a comparison field has a comparison. It
// returns every problem found, each an *ExprError with the offset of the part
// at fault (joined with errors.Join when there are several).
func Validate(g Gate, known Known) error {
	errs := validate(g, known)
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

func validate(g Gate, known Known) []*ExprError {
	p, perr := parse(g.Expr)
	if perr != nil || p.g.Task != g.Task || p.g.Metric != g.Metric || p.g.Field != g.Field || p.g.Slice != g.Slice || p.g.Group != g.Group {
		// A gate built by hand, or whose Expr was edited: locate its parts
		// in its canonical form instead.
		p, perr = parse(g.String())
	}
	if perr != nil {
		return []*ExprError{perr}
	}
	expr := p.g.Expr
	var errs []*ExprError
	add := func(off int, msg, fix string) {
		errs = append(errs, &ExprError{Expr: expr, Offset: off, Msg: msg, Fix: fix})
	}
	metrics, ok := known.Tasks[g.Task]
	if !ok {
		names := make([]string, 0, len(known.Tasks))
		for t := range known.Tasks {
			names = append(names, t)
		}
		sort.Strings(names)
		add(p.taskOff, fmt.Sprintf("unknown task %q", g.Task), knownFix(g.Task, names, "the plan has no tasks"))
	} else if g.Metric != "" && metrics != nil && !contains(metrics, g.Metric) {
		add(p.metricOff, fmt.Sprintf("unknown metric %q in task %s", g.Metric, g.Task), knownFix(g.Metric, metrics, "task "+g.Task+" has no metrics"))
	}
	if g.Slice != "" && ok && !contains(known.Slices[g.Task], g.Slice) {
		add(p.sliceOff, fmt.Sprintf("unknown slice %q in task %s", g.Slice, g.Task), knownFix(g.Slice, known.Slices[g.Task], "task "+g.Task+" has no slices: add `slices: [{field: FIELD}]` to it in the plan"))
	}
	if NeedsComparison(g.Field) && !known.Compared {
		add(p.fieldOff, fmt.Sprintf("%s needs a comparison, and this plan compares no models", g.Field),
			"set compare.baseline and compare.candidate, or gate on value or candidate (the only model's score)")
	}
	return errs
}

// knownFix lists the known names with a did-you-mean for name.
func knownFix(name string, known []string, none string) string {
	if len(known) == 0 {
		return none
	}
	return "known: " + strings.Join(known, ", ") + didYouMean(suggest(name, known))
}

// ValidateAll parses and validates a plan's gate expressions, returning the
// gates that have no problem and every problem found, joined, each an
// *ExprError labelled gates[i]. Nothing should be sent when the error is
// not nil.
func ValidateAll(exprs []string, known Known) ([]Gate, error) {
	var gs []Gate
	var errs []error
	for i, expr := range exprs {
		label := fmt.Sprintf("gates[%d]", i)
		p, perr := parse(expr)
		var found []*ExprError
		if perr != nil {
			found = []*ExprError{perr}
		} else {
			found = validate(p.g, known)
		}
		for _, e := range found {
			e.Label = label
			errs = append(errs, e)
		}
		if len(found) == 0 {
			gs = append(gs, p.g)
		}
	}
	return gs, errors.Join(errs...)
}
