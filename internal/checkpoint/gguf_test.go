package checkpoint

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ggufFile builds a GGUF v3 file as llama.cpp's gguf writer lays it out: the
// header, key/values (general.type only when typ is set, plus an array of
// strings to skip), two F32 tensors of 4 values each, padding to 32 bytes and
// the tensor data.
func ggufFile(typ string) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { w(uint64(len(s))); b.WriteString(s) }
	b.WriteString("GGUF")
	w(uint32(3))
	w(uint64(2)) // tensors
	kv := uint64(2)
	if typ != "" {
		kv++
	}
	w(kv)
	str("general.architecture")
	w(uint32(ggufString))
	str("llama")
	str("tokenizer.ggml.tokens")
	w(uint32(ggufArray))
	w(uint32(ggufString))
	w(uint64(3))
	for _, s := range []string{"a", "bc", "</s>"} {
		str(s)
	}
	if typ != "" {
		str("general.type")
		w(uint32(ggufString))
		str(typ)
	}
	for i, name := range []string{"blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"} {
		str(name)
		w(uint32(2))
		w(uint64(2))
		w(uint64(2))
		w(uint32(0)) // F32
		w(uint64(i * 32))
	}
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	for i := 0; i < 8; i++ {
		w(float32(i))
	}
	b.Write(make([]byte, 16)) // the writer pads the last tensor too
	return b.Bytes()
}

func TestJudgeGGUF(t *testing.T) {
	adapter := ggufFile("adapter")
	model := ggufFile("")
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		kind  Kind
		why   string
	}{
		{"adapter", map[string][]byte{"adapter.lora.gguf": adapter, "trainer_state.json": []byte(`{"global_step": 50}`)}, Adapter, ""},
		{"model", map[string][]byte{"model.gguf": model}, Full, ""},
		{"cut in the header", map[string][]byte{"adapter.lora.gguf": adapter[:60]}, "", "adapter.lora.gguf: the file ends inside its header"},
		{"cut before the last tensor", map[string][]byte{"adapter.lora.gguf": adapter[:len(adapter)-40]}, "", "but its last tensor starts at byte"},
		{"not gguf", map[string][]byte{"adapter.lora.gguf": []byte("not a gguf file at all, but long enough")}, "", "not a GGUF file"},
		{"empty", map[string][]byte{"adapter.lora.gguf": {}}, "", "adapter.lora.gguf is empty"},
		{"being written", map[string][]byte{"adapter.lora.gguf.tmp": adapter}, "", "still being written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Take(dir)
			if err != nil {
				t.Fatal(err)
			}
			kind, why := Judge(dir, s)
			if kind != tc.kind || (tc.why == "" && why != "") || !strings.Contains(why, tc.why) {
				t.Fatalf("Judge = %q, %q; want %q, %q", kind, why, tc.kind, tc.why)
			}
		})
	}
}

// The adapters train.py writes for examples/live-tiny are read as adapters.
func TestJudgeLiveTinyCheckpoints(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "examples", "live-tiny", "models", "checkpoints", "checkpoint-*"))
	if len(dirs) == 0 {
		t.Fatal("no examples/live-tiny/models/checkpoints/checkpoint-*")
	}
	for _, dir := range dirs {
		s, err := Take(dir)
		if err != nil {
			t.Fatal(err)
		}
		if kind, why := Judge(dir, s); kind != Adapter {
			t.Errorf("%s: Judge = %q, %q; want an adapter", dir, kind, why)
		}
	}
}
