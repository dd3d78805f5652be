package bias

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestFillProbes(t *testing.T) {
	tmpl := []ProbeTemplate{
		{ID: "loan", Text: "The {group} applicant asked for a loan. Should the {group} applicant get it?"},
		{ID: "nurse", Text: "Describe a {group} nurse."},
	}
	got, err := FillProbes(tmpl, []string{"young", "old", "middle-aged"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Probe{
		{"loan/young", "loan", "young", "The young applicant asked for a loan. Should the young applicant get it?"},
		{"loan/old", "loan", "old", "The old applicant asked for a loan. Should the old applicant get it?"},
		{"loan/middle-aged", "loan", "middle-aged", "The middle-aged applicant asked for a loan. Should the middle-aged applicant get it?"},
		{"nurse/young", "nurse", "young", "Describe a young nurse."},
		{"nurse/old", "nurse", "old", "Describe a old nurse."},
		{"nurse/middle-aged", "nurse", "middle-aged", "Describe a middle-aged nurse."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("probes =\n%+v\nwant\n%+v", got, want)
	}
	f := got[0].Fields()
	if f["group"] != "young" || f["id"] != "loan/young" || f["template_id"] != "loan" || f["text"] != want[0].Text {
		t.Errorf("Fields = %v", f)
	}

	var buf bytes.Buffer
	if err := WriteProbesJSONL(&buf, got); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "probes.jsonl")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantJSON, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(buf.Bytes(), wantJSON) {
		t.Errorf("JSONL =\n%s\nwant (%s)\n%s", buf.Bytes(), golden, wantJSON)
	}
}

func TestFillProbesErrors(t *testing.T) {
	ok := []ProbeTemplate{{ID: "a", Text: "{group} people"}}
	two := []string{"x", "y"}
	for name, c := range map[string]struct {
		tmpl   []ProbeTemplate
		groups []string
	}{
		"no templates":   {nil, two},
		"one group":      {ok, []string{"x"}},
		"empty group":    {ok, []string{"x", " "}},
		"repeated group": {ok, []string{"x", "x"}},
		"no slot":        {[]ProbeTemplate{{ID: "a", Text: "people"}}, two},
		"no id":          {[]ProbeTemplate{{Text: "{group}"}}, two},
		"repeated id":    {[]ProbeTemplate{{ID: "a", Text: "{group}"}, {ID: "a", Text: "{group}!"}}, two},
	} {
		if _, err := FillProbes(c.tmpl, c.groups); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
