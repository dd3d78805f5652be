package checkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkScan is one look at an output directory of 20 sharded full-weight
// checkpoints (30 shards each, with their index and trainer state), all
// handed out already but the newest, the steady state of a long watch: what
// each notification burst or poll costs.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	for s := 1; s <= 20; s++ {
		ck := filepath.Join(dir, fmt.Sprintf("checkpoint-%d", s*100))
		wm := map[string]string{}
		for i := 1; i <= 30; i++ {
			name := fmt.Sprintf("model-%05d-of-00030.safetensors", i)
			wm[fmt.Sprintf("w%d", i)] = name
			writeB(b, filepath.Join(ck, name), "w")
		}
		idx, _ := json.Marshal(map[string]any{"weight_map": wm})
		writeB(b, filepath.Join(ck, "model.safetensors.index.json"), string(idx))
		writeB(b, filepath.Join(ck, "config.json"), "{}")
		writeB(b, filepath.Join(ck, "training_args.bin"), "a")
		writeB(b, filepath.Join(ck, "trainer_state.json"), `{"global_step": 1}`)
	}
	t0 := time.Now()
	now := t0
	w, err := New(dir, Options{Settle: time.Second, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	w.Scan()
	now = t0.Add(2 * time.Second)
	if ready, _, _ := w.Scan(); len(ready) != 20 {
		b.Fatalf("%d ready", len(ready))
	}
	// The newest is rewritten: pending again.
	delete(w.done, "checkpoint-2000")
	for b.Loop() {
		if _, pending, err := w.Scan(); err != nil || len(pending) != 1 {
			b.Fatal(len(pending), err)
		}
	}
}

func writeB(b *testing.B, path, s string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		b.Fatal(err)
	}
}
