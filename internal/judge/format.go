package judge

import (
	"fmt"
	"strings"
)

// A formatSegment is one piece of a parsed template: literal text (with
// "{{" and "}}" already unescaped) or a named placeholder.
type formatSegment struct {
	literal     string
	placeholder string // set for a placeholder; literal is then empty
}

// parseFormat splits s the way Python's str.format reads it, for the subset
// judge templates use: "{name}" is a placeholder, "{{" and "}}" are literal
// braces. Conversions and format specs ("{x!r}", "{x:>5}"), positional or
// automatic fields ("{0}", "{}"), attribute and index lookups ("{a.b}",
// "{a[0]}") and a lone "}" are errors, so a custom template never renders
// differently here than it would in Python.
func parseFormat(s string) ([]formatSegment, error) {
	var segs []formatSegment
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, formatSegment{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '}':
			return nil, fmt.Errorf("single '}' at byte %d (write '}}' for a literal brace)", i)
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed '{' at byte %d (write '{{' for a literal brace)", i)
			}
			name := s[i+1 : i+1+end]
			if !isIdentifier(name) {
				return nil, fmt.Errorf("placeholder {%s} at byte %d: only plain names like {question} are supported", name, i)
			}
			flush()
			segs = append(segs, formatSegment{placeholder: name})
			i += end + 2
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return segs, nil
}

// isIdentifier reports whether s is an ASCII identifier: a letter or '_'
// followed by letters, digits or '_'.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// placeholders returns the distinct placeholder names of segs in order of
// first appearance.
func placeholders(segs []formatSegment) []string {
	var names []string
	seen := map[string]bool{}
	for _, sg := range segs {
		if sg.placeholder != "" && !seen[sg.placeholder] {
			seen[sg.placeholder] = true
			names = append(names, sg.placeholder)
		}
	}
	return names
}
