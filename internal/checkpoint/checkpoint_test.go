package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The layouts under testdata/layouts are the files the Hugging Face Trainer
// (and LLaMA-Factory and Axolotl, which train through it) writes into a
// checkpoint-N folder, whole and caught mid-write.
func TestJudgeLayouts(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		kind Kind
		why  string
	}{
		{"hf-peft-safetensors", Adapter, ""},
		{"hf-peft-bin", Adapter, ""},
		{"hf-full-single", Full, ""},
		{"hf-full-pytorch-bin", Full, ""},
		{"hf-full-sharded", Full, ""},
		{"deepspeed-zero", Adapter, ""},
		{"plain-adapter", Adapter, ""},
		{"hf-full-sharded-missing", "", "shard model-00002-of-00002.safetensors named by model.safetensors.index.json is missing"},
		{"trainer-state-not-yet", "", "trainer_state.json is not written yet"},
		{"trainer-state-cut-off", "", "trainer_state.json: not valid JSON"},
		{"adapter-config-only", "", "adapter_config.json without adapter_model.safetensors"},
		{"temp-file", "", "adapter_model.safetensors.tmp is still being written"},
		{"rsync-partial", "", ".adapter_model.safetensors.Xb3k2a is still being written"},
		{"optimizer-only", "", "neither adapter_config.json"},
		{"config-no-weights", "", "config.json without model.safetensors"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "layouts", tc.dir)
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
	dir := t.TempDir()
	if _, why := Judge(dir, Snapshot{}); why != "the folder is empty" {
		t.Fatalf("empty folder: %q", why)
	}
	write(t, filepath.Join(dir, "adapter_config.json"), "{}")
	write(t, filepath.Join(dir, "adapter_model.safetensors"), "")
	s, _ := Take(dir)
	if _, why := Judge(dir, s); why != "adapter_model.safetensors is empty" {
		t.Fatalf("empty weights: %q", why)
	}
}

func TestParseStep(t *testing.T) {
	for name, want := range map[string]int{"checkpoint-100": 100, "checkpoint-0": 0, "checkpoint-x": -1, "tmp-checkpoint-5": -1, "checkpoint-5-old": -1, "checkpoint-": -1} {
		got, ok := ParseStep(name)
		if (want < 0) == ok || ok && got != want {
			t.Errorf("ParseStep(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
}

// clock is a hand-moved clock for Scan.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// Scan over the output folders LLaMA-Factory and Axolotl leave: only
// checkpoint-N folders count (the final adapter at the top, HF's
// tmp-checkpoint-N staging folder and logs do not), each is handed out once
// it looked the same Settle apart, in step order.
func TestScanOutputs(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		steps   []int
		pending map[int]string
	}{
		{"llamafactory", []int{50, 100}, nil},
		{"axolotl", []int{10, 20, 200}, map[int]string{210: "trainer_state.json is not written yet"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			c := &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
			w, err := New(filepath.Join("testdata", "outputs", tc.dir), Options{Settle: 10 * time.Second, Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			ready, pending, err := w.Scan()
			if err != nil || len(ready) != 0 || len(pending) != len(tc.steps)+len(tc.pending) {
				t.Fatalf("first scan: ready %v, pending %v, %v; want nothing ready before the settle interval", ready, pending, err)
			}
			c.t = c.t.Add(5 * time.Second)
			if ready, _, _ := w.Scan(); len(ready) != 0 {
				t.Fatalf("ready after 5s of a 10s settle: %v", ready)
			}
			c.t = c.t.Add(5 * time.Second)
			ready, pending, err = w.Scan()
			if err != nil {
				t.Fatal(err)
			}
			var steps []int
			for _, r := range ready {
				steps = append(steps, r.Step)
				if r.Rel != filepath.Base(r.Path) || !filepath.IsAbs(r.Path) || r.Kind != Adapter || len(r.Fingerprint) != 16 {
					t.Errorf("checkpoint %+v", r)
				}
			}
			if !equalInts(steps, tc.steps) {
				t.Fatalf("ready steps %v, want %v", steps, tc.steps)
			}
			if len(pending) != len(tc.pending) {
				t.Fatalf("pending %v, want %v", pending, tc.pending)
			}
			for _, p := range pending {
				if !strings.Contains(p.Reason, tc.pending[p.Step]) {
					t.Errorf("pending step %d: %q, want %q", p.Step, p.Reason, tc.pending[p.Step])
				}
			}
			// Handed out once.
			c.t = c.t.Add(time.Minute)
			if ready, _, _ := w.Scan(); len(ready) != 0 {
				t.Fatalf("handed out again: %v", ready)
			}
			if ready[0].Fingerprint == ready[1].Fingerprint {
				t.Fatal("two checkpoints with different trainer states have one fingerprint")
			}
		})
	}
}

// A file that grows between looks restarts the settle interval.
func TestScanWaitsForGrowth(t *testing.T) {
	c := &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	ck := filepath.Join(dir, "checkpoint-7")
	write(t, filepath.Join(ck, "adapter_config.json"), "{}")
	write(t, filepath.Join(ck, "adapter_model.safetensors"), "abc")
	w, err := New(dir, Options{Settle: time.Second, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	w.Scan()
	c.t = c.t.Add(2 * time.Second)
	appendTo(t, filepath.Join(ck, "adapter_model.safetensors"), "def")
	if ready, pending, _ := w.Scan(); len(ready) != 0 || len(pending) != 1 || !strings.Contains(pending[0].Reason, "changed") {
		t.Fatalf("after growth: ready %v pending %v", ready, pending)
	}
	c.t = c.t.Add(2 * time.Second)
	if ready, _, _ := w.Scan(); len(ready) != 1 || ready[0].Step != 7 {
		t.Fatalf("after settling: %v", ready)
	}
}

// trainer writes checkpoint folders the way a slow disk shows them: the
// weights in chunks, the trainer state last, each step after the one before.
func trainer(t *testing.T, dir string, steps []int, pause time.Duration) {
	t.Helper()
	for _, s := range steps {
		ck := filepath.Join(dir, "checkpoint-"+itoa(s))
		write(t, filepath.Join(ck, "adapter_config.json"), `{"r":8}`)
		write(t, filepath.Join(ck, "training_args.bin"), "args")
		weights := bytes.Repeat([]byte{byte(s)}, 4096)
		for i := 0; i < len(weights); i += 1024 {
			appendTo(t, filepath.Join(ck, "adapter_model.safetensors"), string(weights[i:i+1024]))
			time.Sleep(pause)
		}
		write(t, filepath.Join(ck, "trainer_state.json"), `{"global_step":`+itoa(s)+`}`)
		time.Sleep(pause)
	}
}

func TestRunNotifyAndPoll(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		mode string
	}{
		// Settle far above the poll interval: with notifications the
		// watcher hears each chunk; the poll is only a backstop.
		{"fsnotify", Options{Settle: 150 * time.Millisecond, Poll: time.Hour}, "fsnotify"},
		{"poll", Options{Settle: 150 * time.Millisecond, Poll: 20 * time.Millisecond, ForcePoll: true}, "poll"},
		{"fallback", Options{Settle: 150 * time.Millisecond, Poll: 20 * time.Millisecond,
			Notify: func() (Notifier, error) { return nil, errors.New("inotify: too many open files") }}, "poll"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := New(dir, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := make(chan Checkpoint)
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx, out) }()
			go trainer(t, dir, []int{100, 200}, 40*time.Millisecond)
			var got []int
			for len(got) < 2 {
				select {
				case c := <-out:
					// Handed out only whole: all four chunks and the state.
					b, err := os.ReadFile(filepath.Join(c.Path, "adapter_model.safetensors"))
					if err != nil || len(b) != 4096 {
						t.Fatalf("checkpoint %d handed out with %d bytes of weights, %v", c.Step, len(b), err)
					}
					if _, err := os.Stat(filepath.Join(c.Path, "trainer_state.json")); err != nil {
						t.Fatalf("checkpoint %d handed out before its trainer state", c.Step)
					}
					got = append(got, c.Step)
				case err := <-done:
					t.Fatalf("watcher stopped: %v", err)
				case <-time.After(20 * time.Second):
					t.Fatalf("timed out with %v", got)
				}
			}
			if !equalInts(got, []int{100, 200}) {
				t.Fatalf("steps %v", got)
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Run after cancel: %v", err)
			}
			if w.Mode != tc.mode {
				t.Fatalf("mode %q, want %q", w.Mode, tc.mode)
			}
		})
	}
}

// Once hands out what is complete now and names what is not.
func TestOnce(t *testing.T) {
	dir := t.TempDir()
	trainer(t, dir, []int{5}, 0)
	ck := filepath.Join(dir, "checkpoint-9")
	write(t, filepath.Join(ck, "adapter_config.json"), "{}")
	write(t, filepath.Join(ck, "adapter_model.safetensors.tmp"), "x")
	w, err := New(dir, Options{Settle: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ready, pending, err := w.Once(context.Background())
	if err != nil || len(ready) != 1 || ready[0].Step != 5 || len(pending) != 1 || pending[0].Step != 9 {
		t.Fatalf("Once = %v, %v, %v", ready, pending, err)
	}
	if _, err := New(filepath.Join(dir, "nope"), Options{}); err == nil {
		t.Fatal("New on a missing directory")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Error(err)
		return
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Error(err)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	f.WriteString(s)
	f.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
