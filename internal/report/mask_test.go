package report

import (
	"bytes"
	"strings"
	"testing"
)

// --mask-pii masks personal data in every rendered format and leaves the
// report it was given (what the store keeps) untouched.
func TestMaskPII(t *testing.T) {
	r := fixture()
	r.Tasks[0].Worst = append(r.Tasks[0].Worst, Example{Kind: "worst", ID: "pii", Metric: "token_f1",
		Prompt: "Email jane.doe@example.com", References: []string{"card 4111 1111 1111 1111"}, Baseline: "ok", Candidate: "call +44 20 7946 0958 or key AKIAIOSFODNN7EXAMPLE"})
	masked := MaskPII(r)
	for _, format := range []string{"md", "html", "json", "terminal"} {
		var b bytes.Buffer
		if err := Renderers[format](&b, masked); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, raw := range []string{"jane.doe@example.com", "4111 1111 1111 1111", "7946 0958", "AKIAIOSFODNN7EXAMPLE"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s: %q not masked", format, raw)
			}
		}
		if format == "md" && !strings.Contains(out, "EMAIL") {
			t.Errorf("md: no [EMAIL] marker")
		}
	}
	if !strings.Contains(r.Tasks[0].Worst[len(r.Tasks[0].Worst)-1].Prompt, "jane.doe@example.com") {
		t.Errorf("MaskPII changed the report it was given")
	}
}
