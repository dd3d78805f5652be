package curves

import (
	"bytes"
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

var update = flag.Bool("update", false, "rewrite golden files and generated fixtures under testdata/")

// The event writer below produces TensorBoard event files the way
// tensorboardX/PyTorch (simple_value) and TF2 (scalar tensors with the
// "scalars" plugin) do, from the field numbers in event.proto, summary.proto
// and tensor.proto.

type scalarForm int

const (
	simpleValue    scalarForm = iota // Summary.Value.simple_value
	tensorFloat32                    // TensorProto{dtype: DT_FLOAT, float_val: [v]}
	tensorDouble64                   // TensorProto{dtype: DT_DOUBLE, tensor_content: 8 bytes}
)

type scalar struct {
	tag   string
	value float64
	form  scalarForm
}

func appendRecord(buf, data []byte) []byte {
	var head [8]byte
	binary.LittleEndian.PutUint64(head[:], uint64(len(data)))
	buf = append(buf, head[:]...)
	buf = binary.LittleEndian.AppendUint32(buf, maskedCRC(head[:]))
	buf = append(buf, data...)
	return binary.LittleEndian.AppendUint32(buf, maskedCRC(data))
}

func encodeValue(s scalar) []byte {
	var v []byte
	v = protowire.AppendTag(v, valueTag, protowire.BytesType)
	v = protowire.AppendString(v, s.tag)
	switch s.form {
	case simpleValue:
		v = protowire.AppendTag(v, valueSimpleValue, protowire.Fixed32Type)
		v = protowire.AppendFixed32(v, math.Float32bits(float32(s.value)))
	default:
		// SummaryMetadata{plugin_data: {plugin_name: "scalars"}}
		var plugin []byte
		plugin = protowire.AppendTag(plugin, 1, protowire.BytesType)
		plugin = protowire.AppendString(plugin, "scalars")
		var meta []byte
		meta = protowire.AppendTag(meta, 1, protowire.BytesType)
		meta = protowire.AppendBytes(meta, plugin)
		v = protowire.AppendTag(v, 9, protowire.BytesType)
		v = protowire.AppendBytes(v, meta)
		var t []byte
		t = protowire.AppendTag(t, tensorShape, protowire.BytesType)
		t = protowire.AppendBytes(t, nil) // scalar: no dims
		if s.form == tensorFloat32 {
			t = protowire.AppendTag(t, tensorDtype, protowire.VarintType)
			t = protowire.AppendVarint(t, dtFloat)
			var packed []byte
			packed = protowire.AppendFixed32(packed, math.Float32bits(float32(s.value)))
			t = protowire.AppendTag(t, tensorFloat, protowire.BytesType)
			t = protowire.AppendBytes(t, packed)
		} else {
			t = protowire.AppendTag(t, tensorDtype, protowire.VarintType)
			t = protowire.AppendVarint(t, dtDouble)
			t = protowire.AppendTag(t, tensorContent, protowire.BytesType)
			t = protowire.AppendBytes(t, binary.LittleEndian.AppendUint64(nil, math.Float64bits(s.value)))
		}
		v = protowire.AppendTag(v, valueTensor, protowire.BytesType)
		v = protowire.AppendBytes(v, t)
	}
	return v
}

// encodeEvent builds Event{wall_time, step, summary{value...}}.
func encodeEvent(wall float64, step int64, values ...scalar) []byte {
	var ev []byte
	ev = protowire.AppendTag(ev, 1, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(wall))
	ev = protowire.AppendTag(ev, eventStep, protowire.VarintType)
	ev = protowire.AppendVarint(ev, uint64(step))
	var sum []byte
	for _, s := range values {
		sum = protowire.AppendTag(sum, summaryValue, protowire.BytesType)
		sum = protowire.AppendBytes(sum, encodeValue(s))
	}
	ev = protowire.AppendTag(ev, eventSummary, protowire.BytesType)
	ev = protowire.AppendBytes(ev, sum)
	return ev
}

// fileVersionEvent is the first record of every event file.
func fileVersionEvent(wall float64) []byte {
	var ev []byte
	ev = protowire.AppendTag(ev, 1, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(wall))
	ev = protowire.AppendTag(ev, 3, protowire.BytesType)
	ev = protowire.AppendString(ev, "brain.Event:2")
	return ev
}

// hfEventFile is an HF Trainer-style run: train/loss as simple_value every
// 10 steps, eval/loss as a float tensor every 100 steps (lowest at step 600,
// then rising while train loss falls), and a double-tensor learning rate.
func hfEventFile() []byte {
	buf := appendRecord(nil, fileVersionEvent(1.7e9))
	for step := int64(10); step <= 1200; step += 10 {
		x := float64(step)
		train := 2.0*math.Exp(-x/400) + 0.3 + 0.02*math.Sin(x*0.37)
		buf = appendRecord(buf, encodeEvent(1.7e9+x, step,
			scalar{"train/loss", train, simpleValue},
			scalar{"train/learning_rate", 5e-5 * (1 - x/1200), tensorDouble64}))
		if step%100 == 0 {
			eval := 1.1 + 0.000002*(x-600)*(x-600)
			if step > 600 {
				eval += 0.0002 * (x - 600)
			}
			buf = appendRecord(buf, encodeEvent(1.7e9+x, step, scalar{"eval/loss", eval, tensorFloat32}))
		}
	}
	return buf
}

// kerasEventFiles is a Keras TensorBoard callback layout: train/ and
// validation/ event files, each with epoch_loss as a float tensor.
func kerasEventFiles() (train, validation []byte) {
	train = appendRecord(nil, fileVersionEvent(1.7e9))
	validation = appendRecord(nil, fileVersionEvent(1.7e9))
	for e := int64(0); e < 12; e++ {
		x := float64(e)
		train = appendRecord(train, encodeEvent(1.7e9+x, e, scalar{"epoch_loss", 1.0*math.Exp(-x/4) + 0.2, tensorFloat32}))
		validation = appendRecord(validation, encodeEvent(1.7e9+x, e, scalar{"epoch_loss", 1.0*math.Exp(-x/5) + 0.3, tensorFloat32}))
	}
	return train, validation
}

const (
	hfEventsPath    = "testdata/tensorboard/hf/events.out.tfevents.1700000000.host.1.0"
	kerasTrainPath  = "testdata/tensorboard/keras/train/events.out.tfevents.1700000000.host.2.0.v2"
	kerasValidPath  = "testdata/tensorboard/keras/validation/events.out.tfevents.1700000000.host.2.1.v2"
	tensorboardRoot = "testdata/tensorboard"
)

// TestTensorBoardFixtures checks the committed event files are exactly what
// the generator writes (go test -update rewrites them).
func TestTensorBoardFixtures(t *testing.T) {
	tr, va := kerasEventFiles()
	files := map[string][]byte{hfEventsPath: hfEventFile(), kerasTrainPath: tr, kerasValidPath: va}
	for path, want := range files {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output (go test -update)", path)
		}
	}
}

func TestReadTensorBoard(t *testing.T) {
	tests := []struct {
		path             string
		trainKey, evalKy string
		train, eval      int
		verdict          string
		since            int64
		bestStep         int64
	}{
		{hfEventsPath, "train/loss", "eval/loss", 120, 12, VerdictOverfitting, 600, 600},
		{"testdata/tensorboard/hf", "train/loss", "eval/loss", 120, 12, VerdictOverfitting, 600, 600},
		{"testdata/tensorboard/keras", "train/epoch_loss", "validation/epoch_loss", 12, 12, VerdictHealthy, 0, 11},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			as, err := Analyze([]string{tt.path}, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			a := as[0]
			if a.Format != FormatTensorBoard || a.TrainKey != tt.trainKey || a.EvalKey != tt.evalKy {
				t.Errorf("format %s keys %q %q, want tensorboard %q %q", a.Format, a.TrainKey, a.EvalKey, tt.trainKey, tt.evalKy)
			}
			if len(a.Train) != tt.train || len(a.Eval) != tt.eval {
				t.Errorf("points %d/%d, want %d/%d", len(a.Train), len(a.Eval), tt.train, tt.eval)
			}
			if a.Verdict != tt.verdict || a.Since != tt.since || a.BestEval.Step != tt.bestStep {
				t.Errorf("verdict %q since %d best %d (%s), want %q since %d best %d", a.Verdict, a.Since, a.BestEval.Step, a.Reason, tt.verdict, tt.since, tt.bestStep)
			}
			if len(a.Damage) != 0 {
				t.Errorf("unexpected damage: %v", a.Damage)
			}
		})
	}
}

// TestTensorBoardScalarForms checks each scalar encoding decodes to the
// value written: simple_value and tensors are float32 on disk.
func TestTensorBoardScalarForms(t *testing.T) {
	tests := []struct {
		s    scalar
		want float64
	}{
		{scalar{"a", 1.25, simpleValue}, 1.25},
		{scalar{"b", 0.1, simpleValue}, float64(float32(0.1))},
		{scalar{"c", 0.1, tensorFloat32}, float64(float32(0.1))},
		{scalar{"d", 0.1, tensorDouble64}, 0.1},
		{scalar{"e", math.Inf(1), simpleValue}, math.Inf(1)},
	}
	for _, tt := range tests {
		b := newSeriesBuilder()
		data := appendRecord(nil, encodeEvent(1, 7, tt.s))
		if damage := parseEvents("x", data, b, "run"); len(damage) > 0 {
			t.Fatalf("%s: %v", tt.s.tag, damage)
		}
		ps := b.series["run/"+tt.s.tag]
		if len(ps) != 1 || ps[0].Step != 7 || ps[0].Value != tt.want {
			t.Errorf("%s: got %v, want step 7 value %v", tt.s.tag, ps, tt.want)
		}
	}
	if got := halfToFloat(0x3c00); got != 1 {
		t.Errorf("half 0x3c00 = %v, want 1", got)
	}
	if got := halfToFloat(0xc000); got != -2 {
		t.Errorf("half 0xc000 = %v, want -2", got)
	}
}

// TestTensorBoardDamage cuts and corrupts the fixture: the error names the
// file and byte offset, and the records that can be read are still used.
func TestTensorBoardDamage(t *testing.T) {
	good := hfEventFile()
	// Offsets of every record, from the framing.
	var offs []int
	for off := 0; off < len(good); {
		offs = append(offs, off)
		off += 12 + int(binary.LittleEndian.Uint64(good[off:])) + 4
	}
	last := offs[len(offs)-1]
	mid := offs[50]
	tests := []struct {
		name       string
		mutate     func([]byte) []byte
		wantDamage string
		wantLoss   int // train + eval loss points kept, of 132
	}{
		{"cut inside the last record", func(b []byte) []byte { return b[:len(b)-7] }, "truncated record at byte offset " + itoa(last), 131},
		{"cut inside a header", func(b []byte) []byte { return b[:last+5] }, "truncated record header at byte offset " + itoa(last), 131},
		{"corrupt data", func(b []byte) []byte { b[mid+20] ^= 0xff; return b }, "corrupt record at byte offset " + itoa(mid) + " (data CRC mismatch), skipped", 131},
		{"corrupt length", func(b []byte) []byte { b[mid] ^= 0x01; return b }, "corrupt record header at byte offset " + itoa(mid), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.out.tfevents.1.x")
			if err := os.WriteFile(path, tt.mutate(append([]byte(nil), good...)), 0o644); err != nil {
				t.Fatal(err)
			}
			run, err := Read(path, "", Mapping{})
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Damage) != 1 || !strings.Contains(run.Damage[0], path) || !strings.Contains(run.Damage[0], tt.wantDamage) {
				t.Errorf("damage = %q, want one note naming %s and %q", run.Damage, path, tt.wantDamage)
			}
			n := len(run.Series["train/loss"]) + len(run.Series["eval/loss"])
			if tt.wantLoss > 0 && n != tt.wantLoss {
				t.Errorf("loss points %d, want %d", n, tt.wantLoss)
			}
			if tt.wantLoss == 0 && (n < 40 || n >= 60) {
				t.Errorf("loss points %d: want the 40-odd records before the bad header only", n)
			}
		})
	}
}

func FuzzParseEvents(f *testing.F) {
	f.Add(hfEventFile()[:400])
	f.Add(appendRecord(nil, encodeEvent(1, 2, scalar{"x", 1, tensorDouble64})))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newSeriesBuilder()
		parseEvents("fuzz", data, b, "")
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
