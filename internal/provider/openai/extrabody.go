package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// ReservedBodyKeys are the request fields tunecheck sets itself, which an
// extra_body must not override: every JSON field of the bodies this package
// sends, plus the ones whose change would break how answers are read
// (stream, and the legacy completions fields suffix and best_of). The plan
// validator keeps its own copy of this list (plan cannot import providers);
// a registry test keeps the two equal.
func ReservedBodyKeys() []string {
	keys := []string{"stream", "stream_options", "suffix", "best_of"}
	for _, v := range []any{ChatRequest{}, CompletionRequest{}, RollingRequest{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				keys = append(keys, name)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// extraBodyFragment checks an extra_body and encodes it once as the members
// of a JSON object without its braces (sorted keys), for post to splice into
// every body: a marshal of the request struct and a copy, instead of a
// decode into a map and a second encode per request.
func extraBodyFragment(raw string) ([]byte, error) {
	if raw == "" {
		return nil, nil
	}
	var extra map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &extra); err != nil {
		return nil, fmt.Errorf("openai provider: extra_body is not a JSON object: %w", err)
	}
	if len(extra) == 0 {
		return nil, nil
	}
	reserved := ReservedBodyKeys()
	var bad []string
	for k := range extra {
		if slices.Contains(reserved, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, fmt.Errorf("openai provider: extra_body sets %s, which tunecheck sets itself; remove it (generation parameters go under params:)", strings.Join(bad, ", "))
	}
	b, err := json.Marshal(extra) // sorted keys, compact
	if err != nil {
		return nil, fmt.Errorf("openai provider: extra_body: %w", err)
	}
	return b[1 : len(b)-1], nil
}

// withExtra splices the extra_body members into an encoded request object.
func withExtra(body, extra []byte) []byte {
	if len(extra) == 0 {
		return body
	}
	body = bytes.TrimRight(body, " \n")
	if len(body) < 2 || body[len(body)-1] != '}' {
		return body // not an object: nothing of ours, leave it alone
	}
	out := make([]byte, 0, len(body)+len(extra)+1)
	out = append(out, body[:len(body)-1]...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, extra...)
	return append(out, '}')
}
