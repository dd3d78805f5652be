package dataset

import (
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// Rows that carry their own id keep it without id_field, so outputs keyed by
// that id (the file provider's) match; the fingerprint never depends on ids.
func TestDefaultIDField(t *testing.T) {
	tests := []struct {
		name, data string
		opts       Options
		field      string
		first      string
	}{
		{"id", `{"id":"q1","x":1}` + "\n" + `{"id":"q2","x":2}`, Options{}, "id", "q1"},
		{"numeric id", `{"id":7,"x":1}` + "\n" + `{"id":8,"x":2}`, Options{}, "id", "7"},
		{"question_id after a repeated id", `{"id":1,"question_id":81}` + "\n" + `{"id":1,"question_id":82}`, Options{}, "question_id", "81"},
		{"task_id after a missing id", `{"id":1,"task_id":"HumanEval/0"}` + "\n" + `{"task_id":"HumanEval/1"}`, Options{}, "task_id", "HumanEval/0"},
		{"null id", `{"id":null,"x":1}` + "\n" + `{"id":2,"x":2}`, Options{}, "", ""},
		{"none", `{"x":1}` + "\n" + `{"x":2}`, Options{}, "", ""},
		{"id_field wins", `{"id":"q1","key":"k1"}` + "\n" + `{"id":"q2","key":"k2"}`, Options{IDField: "key"}, "key", "k1"},
		{"content ids asked", `{"id":"q1"}` + "\n" + `{"id":"q2"}`, Options{ContentIDs: true}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode("d.jsonl", []byte(tt.data), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.IDField != tt.field {
				t.Errorf("IDField = %q, want %q", d.IDField, tt.field)
			}
			want := tt.first
			if tt.field == "" {
				want = contentID(t, tt.data)
			}
			if d.Rows[0].ID != want {
				t.Errorf("first id = %q, want %q", d.Rows[0].ID, want)
			}
			c, err := Decode("d.jsonl", []byte(tt.data), Options{ContentIDs: true})
			if err != nil {
				t.Fatal(err)
			}
			if c.Fingerprint != d.Fingerprint {
				t.Errorf("the fingerprint changed with the ids: %s vs %s", d.Fingerprint, c.Fingerprint)
			}
		})
	}
}

func contentID(t *testing.T, data string) string {
	t.Helper()
	d, err := Decode("d.jsonl", []byte(data), Options{ContentIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	return d.Rows[0].ID
}

func TestDefaultIDFieldShared(t *testing.T) {
	for _, tt := range []struct {
		path         []string
		field, first string
	}{
		{[]string{"benchmarks", "humaneval", "HumanEval.jsonl.gz"}, "task_id", "HumanEval/0"},
		{[]string{"mtbench", "question.jsonl"}, "question_id", "81"},
		{[]string{"benchmarks", "gsm8k", "test_first300.jsonl"}, "", "d975fa1ff1b1"},
	} {
		d, err := Load(shareddata.Path(t, tt.path...), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.IDField != tt.field || d.Rows[0].ID != tt.first {
			t.Errorf("%v: ids from %q, first %q; want %q, %q", tt.path, d.IDField, d.Rows[0].ID, tt.field, tt.first)
		}
	}
}
