package web

import (
	"strings"
	"testing"
)

// With MaskPII (view --mask-pii) every item text the API returns has its
// personal data masked; without it the text comes back as stored.
func TestMaskPII(t *testing.T) {
	st := quickstart(t)
	secret := "write to jane.doe@example.com or pay 4111 1111 1111 1111"
	syntheticRun(t, st, "pii", 2, func(m string, i int) string { return secret })
	masked := newClient(t, st, Options{MaskPII: true})
	var p itemsPage
	masked.get("/api/runs/pii/items", &p)
	for _, o := range p.Items[0].Outputs {
		if strings.Contains(o.Text, "jane.doe") || strings.Contains(o.Text, "4111") || !strings.Contains(o.Text, "[EMAIL]") {
			t.Fatalf("masked output %q", o.Text)
		}
	}
	body := masked.get("/api/compare?a=pii&b=pii&model=tuned", nil).Body.String()
	if strings.Contains(body, "jane.doe") {
		t.Fatalf("compare leaks: %s", body)
	}
	raw := newClient(t, st, Options{})
	raw.get("/api/runs/pii/items", &p)
	if p.Items[0].Outputs[0].Text != secret {
		t.Fatalf("unmasked output %q", p.Items[0].Outputs[0].Text)
	}
}
