package text

import (
	"fmt"
	"unicode/utf8"
)

// RowError says which input row (0-based) a metric could not score.
type RowError struct {
	Row int
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// LengthError reports prediction and reference lists of different lengths.
type LengthError struct {
	Predictions, References int
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("%d predictions but %d reference rows: give one reference row per prediction", e.Predictions, e.References)
}

// decodeRune decodes the rune at byte offset i, fast for ASCII.
func decodeRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}
