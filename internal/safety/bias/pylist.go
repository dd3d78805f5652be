package bias

import (
	"fmt"
	"strings"
)

// parsePyList parses a Python list literal of strings and nested lists, as
// CrowS-Pairs writes its annotation columns: "[['race-color'], []]". Strings
// may use single or double quotes with backslash escapes; nothing else
// (numbers, None, dicts) is accepted.
func parsePyList(s string) ([]any, error) {
	p := pyParser{s: s}
	p.space()
	v, err := p.list()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("trailing text at offset %d in %q", p.i, s)
	}
	return v, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) errorf(format string, a ...any) error {
	return fmt.Errorf("offset %d in %q: %s", p.i, p.s, fmt.Sprintf(format, a...))
}

func (p *pyParser) list() ([]any, error) {
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, p.errorf("want '['")
	}
	p.i++
	out := []any{}
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, p.errorf("unterminated list")
		}
		if p.s[p.i] == ']' {
			p.i++
			return out, nil
		}
		var v any
		var err error
		switch p.s[p.i] {
		case '[':
			v, err = p.list()
		case '\'', '"':
			v, err = p.str()
		default:
			err = p.errorf("want a string or a list")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			continue
		}
		return nil, p.errorf("want ',' or ']'")
	}
}

func (p *pyParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			n := p.s[p.i+1]
			switch n {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(n)
			default: // Python keeps unknown escapes verbatim
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("unterminated string")
}

// stringsOf asserts that every element of l is a string.
func stringsOf(l []any) ([]string, error) {
	out := make([]string, 0, len(l))
	for _, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("element %v is not a string", v)
		}
		out = append(out, s)
	}
	return out, nil
}
