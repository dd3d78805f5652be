package file

import (
	"bytes"
	"context"
	"testing"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// FuzzRead: any input either fails with an error or yields a provider whose
// every id answers.
func FuzzRead(f *testing.F) {
	f.Add([]byte("{\"id\": \"a\", \"output\": \"x\"}\n{\"id\": 2, \"response\": [\"y\", \"z\"]}\n"))
	f.Add([]byte(`{"question_id": 81, "choices": [{"index": 0, "turns": ["t1", "t2"]}]}`))
	f.Add([]byte("{\"id\": \"a#2\", \"text\": \"x\"}\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			return
		}
		for _, id := range p.IDs() {
			if _, err := p.Do(context.Background(), provider.Request{Type: provider.Generate, ItemID: id}); err != nil {
				t.Fatalf("id %q from the file does not answer: %v", id, err)
			}
		}
	})
}
