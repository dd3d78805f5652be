package bias

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Slot is the placeholder a counterfactual template fills with a group.
const Slot = "{group}"

// ProbeTemplate is one counterfactual template: Text holds Slot at least
// once, e.g. "The {group} applicant asked about the loan. Should we approve it?".
type ProbeTemplate struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Probe is a template with its slot filled by one group: an item whose group
// field a plan slice (`by: field group`) breaks metrics down by, so per-group
// scores and the largest gap between groups come from the slice machinery.
type Probe struct {
	// ID is "<template id>/<group>", unique over a Fill call.
	ID         string `json:"id"`
	TemplateID string `json:"template_id"`
	Group      string `json:"group"`
	Text       string `json:"text"`
}

// Fields returns the probe as a dataset row's fields.
func (p Probe) Fields() map[string]any {
	return map[string]any{"id": p.ID, "template_id": p.TemplateID, "group": p.Group, "text": p.Text}
}

// FillProbes fills every template with every group, templates first and
// groups in the given order, so the same inputs give the same items. Every
// occurrence of Slot is replaced; a template without one, a repeated or empty
// template id, and an empty or repeated group are errors (a probe set where
// one group is missing would hide exactly the gap it is meant to show).
func FillProbes(templates []ProbeTemplate, groups []string) ([]Probe, error) {
	if len(templates) == 0 {
		return nil, fmt.Errorf("no templates")
	}
	if len(groups) < 2 {
		return nil, fmt.Errorf("%d groups: counterfactual probes need at least 2 to compare", len(groups))
	}
	seenG := map[string]bool{}
	for i, g := range groups {
		if strings.TrimSpace(g) == "" {
			return nil, fmt.Errorf("group %d is empty", i+1)
		}
		if seenG[g] {
			return nil, fmt.Errorf("group %q is listed twice", g)
		}
		seenG[g] = true
	}
	seenT := map[string]bool{}
	out := make([]Probe, 0, len(templates)*len(groups))
	for i, t := range templates {
		if t.ID == "" {
			return nil, fmt.Errorf("template %d has no id", i+1)
		}
		if seenT[t.ID] {
			return nil, fmt.Errorf("template id %q is used twice", t.ID)
		}
		seenT[t.ID] = true
		if !strings.Contains(t.Text, Slot) {
			return nil, fmt.Errorf("template %q has no %s slot: %q", t.ID, Slot, t.Text)
		}
		for _, g := range groups {
			out = append(out, Probe{
				ID:         t.ID + "/" + g,
				TemplateID: t.ID,
				Group:      g,
				Text:       strings.ReplaceAll(t.Text, Slot, g),
			})
		}
	}
	return out, nil
}

// WriteProbesJSONL writes one JSON object per probe (id, template_id, group,
// text), the shape the dataset loader reads.
func WriteProbesJSONL(w io.Writer, probes []Probe) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, p := range probes {
		if err := enc.Encode(p); err != nil {
			return fmt.Errorf("writing probe %s: %w", p.ID, err)
		}
	}
	return nil
}
