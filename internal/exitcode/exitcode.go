// Package exitcode is the one place tunecheck's process exit codes are defined.
// Errors carry their code by wrapping (WithCode) and a user hint the same way
// (WithHint); the CLI maps the final error to a code in one place.
package exitcode

import "errors"

// Code is a process exit status.
type Code int

// The exit codes; DESIGN.md and docs/usage.md list them for users.
const (
	OK           Code = 0   // verdict pass, or a command that succeeded
	GateFailed   Code = 1   // at least one gate failed
	BadInput     Code = 2   // bad plan, flags or input files
	Unreachable  Code = 3   // a provider could not be reached
	Inconclusive Code = 4   // a gate was inconclusive and --fail-on-inconclusive was set
	Drift        Code = 5   // run --fail-on-drift: a metric drifted from the plan's history (gates passed)
	Interrupted  Code = 130 // Ctrl-C / SIGTERM
)

type coded struct {
	err  error
	code Code
}

func (c *coded) Error() string { return c.err.Error() }
func (c *coded) Unwrap() error { return c.err }

// WithCode attaches an exit code to err (nil stays nil).
func WithCode(err error, code Code) error {
	if err == nil {
		return nil
	}
	return &coded{err: err, code: code}
}

// Of returns the exit code carried by err: OK for nil, the attached code when
// there is one, and BadInput otherwise (an unclassified error is most often a
// usage problem; internal failures are rare and still non-zero).
func Of(err error) Code {
	if err == nil {
		return OK
	}
	var c *coded
	if errors.As(err, &c) {
		return c.code
	}
	return BadInput
}

type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// WithHint attaches a sentence telling the user what to do next.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}

// Hint returns the outermost hint attached to err, or "".
func Hint(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}
