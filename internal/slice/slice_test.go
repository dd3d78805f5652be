package slice

import (
	"slices"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
)

func TestLabels(t *testing.T) {
	row := map[string]any{"category": "coding", "q": "héllo wörld again", "n": float64(3), "tags": []any{"a"}, "null": nil}
	cases := []struct {
		name string
		s    plan.Slice
		row  map[string]any
		want string
		by   string
	}{
		{"field", plan.Slice{Field: "category"}, row, "coding", "field category"},
		{"number field", plan.Slice{Field: "n"}, row, "3", "field n"},
		{"list field", plan.Slice{Field: "tags"}, row, `["a"]`, "field tags"},
		{"missing field", plan.Slice{Field: "lang"}, row, Missing, "field lang"},
		{"null field", plan.Slice{Field: "null"}, row, Missing, "field null"},
		// 17 characters, not 20 bytes: é and ö are one character each.
		{"chars below", plan.Slice{Length: &plan.LengthSlice{Field: "q", Bounds: []int{18, 40}}}, row, "<18", "length of q in chars: <18, 18–39, ≥40"},
		{"chars at bound", plan.Slice{Length: &plan.LengthSlice{Field: "q", Bounds: []int{10, 17}}}, row, "≥17", "length of q in chars: <10, 10–16, ≥17"},
		{"chars middle", plan.Slice{Length: &plan.LengthSlice{Field: "q", Bounds: []int{10, 18}}}, row, "10–17", "length of q in chars: <10, 10–17, ≥18"},
		{"words", plan.Slice{Length: &plan.LengthSlice{Field: "q", Unit: "words", Bounds: []int{3, 5}}}, row, "3–4", "length of q in words: <3, 3–4, ≥5"},
		{"template", plan.Slice{Name: "long", Template: "{{ 'long' if q|length > 10 else 'short' }}"}, row, "long", "template {{ 'long' if q|length > 10 else 'short' }}"},
		{"empty template output", plan.Slice{Name: "e", Template: "{{ '' }} "}, row, Missing, "template {{ '' }} "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Label(c.row)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want || s.By != c.by {
				t.Errorf("got %q by %q, want %q by %q", got, s.By, c.want, c.by)
			}
		})
	}
}

func TestTemplateErrorNamesSlice(t *testing.T) {
	s, err := New(plan.Slice{Name: "lang", Template: "{{ language }}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Label(map[string]any{"q": "x"}); err == nil || !strings.Contains(err.Error(), "slice lang") {
		t.Fatalf("want an error naming the slice, got %v", err)
	}
}

func TestSort(t *testing.T) {
	s, _ := New(plan.Slice{Length: &plan.LengthSlice{Field: "q", Bounds: []int{10, 100}}})
	g := []string{"≥100", Missing, "<10", "10–99"}
	s.Sort(g)
	if want := []string{"<10", "10–99", "≥100", Missing}; !slices.Equal(g, want) {
		t.Errorf("length order %v, want %v", g, want)
	}
	f, _ := New(plan.Slice{Field: "c"})
	g = []string{Missing, "writing", "coding"}
	f.Sort(g)
	if want := []string{"coding", "writing", Missing}; !slices.Equal(g, want) {
		t.Errorf("field order %v, want %v", g, want)
	}
}
