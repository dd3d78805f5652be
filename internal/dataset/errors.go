package dataset

import (
	"fmt"
	"strings"
)

// Error is a problem with a dataset file: where it is, which field, what is
// wrong and what to do about it.
type Error struct {
	File string
	// Line is 1-based (the row number for Parquet); 0 when the problem is the whole file.
	Line int
	// Column is the 1-based byte column within Line for syntax errors, else 0.
	Column int
	// Field is the column or key concerned, "" when none.
	Field string
	Msg   string
	Hint  string
}

// Error renders "file:line:col: field "x": msg (hint)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}
