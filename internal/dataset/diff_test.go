package dataset

import (
	"bytes"
	"slices"
	"testing"
)

func TestCompare(t *testing.T) {
	old, err := Decode("old.jsonl", []byte(`{"id":1,"q":"a","a":"x"}
{"id":2,"q":"b","a":"y"}
{"id":3,"q":"c","a":"z"}
`), Options{IDField: "id"})
	if err != nil {
		t.Fatal(err)
	}
	new, err := Decode("new.jsonl", []byte(`{"id":1,"q":"a","a":"x"}
{"id":3,"q":"c!","a":"z","note":"fixed"}
{"id":4,"q":"d","a":"w"}
`), Options{IDField: "id"})
	if err != nil {
		t.Fatal(err)
	}
	d := Compare(old, new)
	if !slices.Equal(d.Added, []string{"4"}) || !slices.Equal(d.Removed, []string{"2"}) || d.Same != 1 ||
		len(d.Changed) != 1 || d.Changed[0].ID != "3" || !slices.Equal(d.Changed[0].Fields, []string{"note", "q"}) {
		t.Errorf("diff %+v", d)
	}
	var b bytes.Buffer
	if err := WriteDiff(&b, d); err != nil {
		t.Fatal(err)
	}
	want := "old  " + old.Fingerprint + "  3 rows  old.jsonl\nnew  " + new.Fingerprint + "  3 rows  new.jsonl\n" +
		"added 1, removed 1, changed 1, unchanged 1\n+ 4\n- 2\n~ 3  fields: note, q\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteDiff(&b, Compare(old, old)); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("identical: same rows in the same order\n")) {
		t.Errorf("self diff:\n%s", b.String())
	}
}
