package plan

import _ "embed"

//go:embed starter.yaml
var starter []byte

// Starter returns the commented starter plan `tunecheck init` writes. It
// parses and validates as it is (a test holds it to that).
func Starter() []byte { return append([]byte(nil), starter...) }
