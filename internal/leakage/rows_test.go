package leakage

import (
	"strings"
	"testing"
)

func readAll(t *testing.T, data string, ro ReadOptions) ([]Doc, error) {
	t.Helper()
	var docs []Doc
	err := ReadDocs(strings.NewReader(data), "in.jsonl", ro, func(d Doc) error {
		docs = append(docs, d)
		return nil
	})
	return docs, err
}

func TestReadDocs(t *testing.T) {
	chat := `{"id":"c1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi there"},{"role":"assistant","content":[{"type":"text","text":"Hello"}]}]}`
	alpaca := `{"instruction":"Add","input":"2 and 3","output":"5"}`
	tests := []struct {
		name  string
		data  string
		ro    ReadOptions
		texts []string
		ids   []string
	}{
		{"plain text", "first line\n\n second line \r\n", ReadOptions{}, []string{"first line", "second line"}, []string{"line 1", "line 3"}},
		{"chat all roles", chat, ReadOptions{}, []string{"Be brief.\nHi there\nHello"}, []string{"c1"}},
		{"chat chosen roles", chat, ReadOptions{Fields: ParseFields("messages:user+assistant")}, []string{"Hi there\nHello"}, []string{"c1"}},
		{"alpaca default", alpaca, ReadOptions{}, []string{"Add\n2 and 3\n5"}, []string{"line 1"}},
		{"alpaca chosen fields", alpaca, ReadOptions{Fields: []string{"instruction", "input"}}, []string{"Add\n2 and 3"}, []string{"line 1"}},
		{"text field", `{"text":"abc","n":1,"id":7}`, ReadOptions{}, []string{"abc"}, []string{"7"}},
		{"other string fields in key order", `{"q":"why","a":"because"}`, ReadOptions{}, []string{"because\nwhy"}, []string{"line 1"}},
		{"id field", `{"key":"k9","text":"abc"}`, ReadOptions{IDField: "key"}, []string{"abc"}, []string{"k9"}},
		{"forced text format", `{"text":"abc"}`, ReadOptions{Format: "text"}, []string{`{"text":"abc"}`}, []string{"line 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := readAll(t, tc.data, tc.ro)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tc.texts) {
				t.Fatalf("got %d docs, want %d", len(docs), len(tc.texts))
			}
			for i, d := range docs {
				if d.Text != tc.texts[i] || d.ID != tc.ids[i] {
					t.Errorf("doc %d = (%q, %q), want (%q, %q)", i, d.ID, d.Text, tc.ids[i], tc.texts[i])
				}
			}
		})
	}
}

func TestReadDocsErrors(t *testing.T) {
	tests := []struct {
		name, data string
		ro         ReadOptions
		want       []string
	}{
		{"bad json", "{\"text\":\"a\"}\n{broken\n", ReadOptions{}, []string{"in.jsonl line 2", "not a JSON object"}},
		{"missing field", `{"text":"a"}`, ReadOptions{Fields: []string{"prompt"}}, []string{"in.jsonl line 1", "prompt", "--fields"}},
		{"bad messages", `{"messages":[1,2]}`, ReadOptions{}, []string{"line 1", `field "messages"`}},
		{"no strings", `{"n":1}`, ReadOptions{}, []string{"line 1", "no text field"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.data, tc.ro)
			if err == nil {
				t.Fatal("want error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestReadDocsLongLine(t *testing.T) {
	long := strings.Repeat("word ", 500000) // 2.5 MB, past the reader's buffer
	docs, err := readAll(t, long+"\nshort\n", ReadOptions{})
	if err != nil || len(docs) != 2 || len(docs[0].Text) != len(strings.TrimSpace(long)) || docs[1].Text != "short" {
		t.Fatalf("got %d docs, err %v", len(docs), err)
	}
}

// FuzzReadDocs: any input either fails with an error naming a line, or
// yields rows with increasing line numbers; as plain text every non-blank
// line is one row.
func FuzzReadDocs(f *testing.F) {
	f.Add(`{"messages":[{"role":"user","content":"hi"}]}` + "\n" + `{"text":"x"}`)
	f.Add("plain\n\n  text \r\n")
	f.Add(`{"instruction":"a","input":"","output":"b","id":3}`)
	f.Add(`{"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		last := 0
		err := ReadDocs(strings.NewReader(data), "in", ReadOptions{}, func(d Doc) error {
			if d.Line <= last {
				t.Fatalf("line %d after %d", d.Line, last)
			}
			last = d.Line
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "in line ") {
			t.Fatalf("error without a line: %v", err)
		}
		n := 0
		if err := ReadDocs(strings.NewReader(data), "in", ReadOptions{Format: "text"}, func(Doc) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, l := range strings.Split(data, "\n") {
			if strings.TrimSpace(l) != "" {
				want++
			}
		}
		if n != want {
			t.Fatalf("%d text rows, want %d", n, want)
		}
	})
}
