package cli

import "fmt"

// Colour is decided once per invocation, per stream, in colorEnabled; every
// coloured word tunecheck writes goes through Env.paint, so --color and
// NO_COLOR hold everywhere. Today that is the error:, hint: and warning:
// prefixes on stderr and the verdict of `run --quiet` on stdout; reports and
// data outputs stay plain so that they compare byte for byte.

// ANSI SGR colour codes.
const (
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
)

// colorModes are the values of --color.
var colorModes = []string{"auto", "always", "never"}

// colorEnabled decides whether a stream gets colour: always and never force
// it; auto colours only a terminal, and only when NO_COLOR is unset or empty
// (https://no-color.org) and TERM is not dumb.
func colorEnabled(mode string, getenv func(string) string, isTerminal bool) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		return isTerminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb", nil
	}
	return false, badFlag(fmt.Errorf("--color %q: unknown mode", mode), "use "+orList(colorModes))
}

// colors holds the decision for stdout and stderr.
type colors struct{ out, err bool }

// decideColors sets env's decision for both streams from mode.
func (e Env) decideColors(mode string) error {
	if e.colors == nil {
		return nil
	}
	out, err := colorEnabled(mode, e.Getenv, e.StdoutIsTerminal)
	if err != nil {
		return err
	}
	errc, _ := colorEnabled(mode, e.Getenv, e.IsTerminal)
	*e.colors = colors{out: out, err: errc}
	return nil
}

// stream names which of Env's streams a coloured word goes to.
type stream int

const (
	toStdout stream = iota
	toStderr
)

// paint wraps s in the colour code when that stream gets colour.
func (e Env) paint(s stream, code, text string) string {
	on := e.colors != nil && (s == toStdout && e.colors.out || s == toStderr && e.colors.err)
	if !on {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}
