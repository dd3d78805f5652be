package curves

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// TensorBoard event files are TFRecord streams: each record is
//
//	uint64 length | uint32 masked CRC32C(length) | data | uint32 masked CRC32C(data)
//
// little-endian, and data is a serialized tensorflow.Event protobuf. The
// field numbers below come from tensorflow/core/util/event.proto,
// framework/summary.proto and framework/tensor.proto.
const (
	eventStep    = 2 // int64
	eventSummary = 5 // Summary

	summaryValue = 1 // repeated Summary.Value

	valueTag         = 1 // string
	valueSimpleValue = 2 // float
	valueTensor      = 8 // TensorProto

	tensorDtype   = 1  // DataType enum
	tensorShape   = 2  // TensorShapeProto
	tensorContent = 4  // bytes, little-endian
	tensorFloat   = 5  // repeated float (packed)
	tensorDouble  = 6  // repeated double (packed)
	tensorInt     = 7  // repeated int32 (packed)
	tensorInt64   = 10 // repeated int64 (packed)
	tensorHalf    = 13 // repeated int32 holding float16 bits

	dtFloat  = 1
	dtDouble = 2
	dtInt32  = 3
	dtInt64  = 9
	dtBF16   = 14
	dtHalf   = 19

	shapeDim = 2 // repeated Dim
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's masked CRC32C, which keeps a CRC of data that
// itself holds CRCs from being trivially zero.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// isEventFileName reports whether name looks like a TensorBoard event file.
func isEventFileName(name string) bool {
	return strings.Contains(name, "tfevents")
}

// looksLikeTFRecord checks the first record header's CRC.
func looksLikeTFRecord(head []byte) bool {
	if len(head) < 12 {
		return false
	}
	return maskedCRC(head[:8]) == binary.LittleEndian.Uint32(head[8:12])
}

// parseEvents adds the scalars of one event file to b. Tags are logged at
// different cadences (per step, per epoch), so a restart is detected per tag,
// never from the event stream as a whole. Damage (a truncated
// tail, a record whose CRC fails) is returned as notes; the records before
// it, and for a data CRC failure the records after it, are kept.
func parseEvents(path string, data []byte, b *seriesBuilder, prefix string) []string {
	var damage []string
	tags := make(map[string]string)
	off := 0
	for off < len(data) {
		if len(data)-off < 12 {
			damage = append(damage, fmt.Sprintf("%s: truncated record header at byte offset %d (%d bytes left, file cut short?); records before it were read", path, off, len(data)-off))
			break
		}
		head := data[off : off+12]
		if maskedCRC(head[:8]) != binary.LittleEndian.Uint32(head[8:12]) {
			damage = append(damage, fmt.Sprintf("%s: corrupt record header at byte offset %d (length CRC mismatch); the rest of the file cannot be framed and was not read", path, off))
			break
		}
		n := binary.LittleEndian.Uint64(head[:8])
		if n > uint64(len(data)-off-12) || uint64(len(data)-off-12)-n < 4 {
			damage = append(damage, fmt.Sprintf("%s: truncated record at byte offset %d (needs %d data bytes, %d left; file cut short?); records before it were read", path, off, n+4, len(data)-off-12))
			break
		}
		rec := data[off+12 : off+12+int(n)]
		crc := binary.LittleEndian.Uint32(data[off+12+int(n):])
		if maskedCRC(rec) != crc {
			damage = append(damage, fmt.Sprintf("%s: corrupt record at byte offset %d (data CRC mismatch), skipped", path, off))
		} else if err := parseEvent(rec, b, prefix, tags); err != nil {
			damage = append(damage, fmt.Sprintf("%s: record at byte offset %d is not a valid Event protobuf (%v), skipped", path, off, err))
		}
		off += 12 + int(n) + 4
	}
	return damage
}

// parseEvent decodes one Event and adds its scalar summary values.
func parseEvent(rec []byte, b *seriesBuilder, prefix string, tags map[string]string) error {
	var step int64
	var summary []byte
	for len(rec) > 0 {
		num, typ, n := protowire.ConsumeTag(rec)
		if n < 0 {
			return protowire.ParseError(n)
		}
		rec = rec[n:]
		switch {
		case num == eventStep && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(rec)
			if n < 0 {
				return protowire.ParseError(n)
			}
			step = int64(v)
			rec = rec[n:]
		case num == eventSummary && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(rec)
			if n < 0 {
				return protowire.ParseError(n)
			}
			summary = v
			rec = rec[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, rec)
			if n < 0 {
				return protowire.ParseError(n)
			}
			rec = rec[n:]
		}
	}
	if summary == nil {
		return nil
	}
	for len(summary) > 0 {
		num, typ, n := protowire.ConsumeTag(summary)
		if n < 0 {
			return protowire.ParseError(n)
		}
		summary = summary[n:]
		if num != summaryValue || typ != protowire.BytesType {
			n := protowire.ConsumeFieldValue(num, typ, summary)
			if n < 0 {
				return protowire.ParseError(n)
			}
			summary = summary[n:]
			continue
		}
		val, n := protowire.ConsumeBytes(summary)
		if n < 0 {
			return protowire.ParseError(n)
		}
		summary = summary[n:]
		tag, v, ok, err := parseValue(val)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		name, found := tags[string(tag)]
		if !found {
			name = string(tag)
			if prefix != "" {
				name = prefix + "/" + name
			}
			tags[string(tag)] = name
		}
		b.add(name, step, v)
	}
	return nil
}

// parseValue decodes a Summary.Value; ok is false for non-scalar values
// (images, histograms, text).
func parseValue(val []byte) (tag []byte, v float64, ok bool, err error) {
	var tensor []byte
	hasSimple := false
	for len(val) > 0 {
		num, typ, n := protowire.ConsumeTag(val)
		if n < 0 {
			return nil, 0, false, protowire.ParseError(n)
		}
		val = val[n:]
		switch {
		case num == valueTag && typ == protowire.BytesType:
			tag, n = protowire.ConsumeBytes(val)
		case num == valueSimpleValue && typ == protowire.Fixed32Type:
			var bits uint32
			bits, n = protowire.ConsumeFixed32(val)
			v, hasSimple = float64(math.Float32frombits(bits)), true
		case num == valueTensor && typ == protowire.BytesType:
			tensor, n = protowire.ConsumeBytes(val)
		default:
			n = protowire.ConsumeFieldValue(num, typ, val)
		}
		if n < 0 {
			return nil, 0, false, protowire.ParseError(n)
		}
		val = val[n:]
	}
	if hasSimple {
		return tag, v, true, nil
	}
	if tensor != nil {
		v, ok, err = scalarTensor(tensor)
		return tag, v, ok, err
	}
	return tag, 0, false, nil
}

// scalarTensor reads a TensorProto holding exactly one number, the form
// TF2's tf.summary.scalar and PyTorch's add_scalar(new_style=True) write.
func scalarTensor(t []byte) (float64, bool, error) {
	var dtype uint64
	var content []byte
	var vals []float64
	dims := 0
	for len(t) > 0 {
		num, typ, n := protowire.ConsumeTag(t)
		if n < 0 {
			return 0, false, protowire.ParseError(n)
		}
		t = t[n:]
		switch {
		case num == tensorDtype && typ == protowire.VarintType:
			dtype, n = protowire.ConsumeVarint(t)
		case num == tensorShape && typ == protowire.BytesType:
			var shape []byte
			shape, n = protowire.ConsumeBytes(t)
			dims = countDims(shape)
		case num == tensorContent && typ == protowire.BytesType:
			content, n = protowire.ConsumeBytes(t)
		case num == tensorFloat || num == tensorDouble || num == tensorInt || num == tensorInt64 || num == tensorHalf:
			n = consumeRepeated(num, typ, t, &vals)
		default:
			n = protowire.ConsumeFieldValue(num, typ, t)
		}
		if n < 0 {
			return 0, false, protowire.ParseError(n)
		}
		t = t[n:]
	}
	if dims > 0 {
		return 0, false, nil
	}
	if len(content) > 0 {
		switch {
		case dtype == dtFloat && len(content) == 4:
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(content))), true, nil
		case dtype == dtDouble && len(content) == 8:
			return math.Float64frombits(binary.LittleEndian.Uint64(content)), true, nil
		case dtype == dtInt32 && len(content) == 4:
			return float64(int32(binary.LittleEndian.Uint32(content))), true, nil
		case dtype == dtInt64 && len(content) == 8:
			return float64(int64(binary.LittleEndian.Uint64(content))), true, nil
		case dtype == dtHalf && len(content) == 2:
			return halfToFloat(binary.LittleEndian.Uint16(content)), true, nil
		case dtype == dtBF16 && len(content) == 2:
			return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(content)) << 16)), true, nil
		}
		return 0, false, nil
	}
	if len(vals) != 1 {
		return 0, false, nil
	}
	v := vals[0]
	switch dtype {
	case dtHalf:
		v = halfToFloat(uint16(v))
	case dtBF16:
		v = float64(math.Float32frombits(uint32(v) << 16))
	}
	return v, true, nil
}

// consumeRepeated appends the values of a packed or unpacked numeric field.
func consumeRepeated(num protowire.Number, typ protowire.Type, t []byte, out *[]float64) int {
	one := func(b []byte) int {
		switch num {
		case tensorFloat:
			v, n := protowire.ConsumeFixed32(b)
			*out = append(*out, float64(math.Float32frombits(v)))
			return n
		case tensorDouble:
			v, n := protowire.ConsumeFixed64(b)
			*out = append(*out, math.Float64frombits(v))
			return n
		default:
			v, n := protowire.ConsumeVarint(b)
			if num == tensorInt64 {
				*out = append(*out, float64(int64(v)))
			} else if num == tensorInt {
				*out = append(*out, float64(int32(v)))
			} else {
				*out = append(*out, float64(v))
			}
			return n
		}
	}
	if typ != protowire.BytesType {
		return one(t)
	}
	packed, n := protowire.ConsumeBytes(t)
	if n < 0 {
		return n
	}
	for len(packed) > 0 {
		m := one(packed)
		if m < 0 {
			return m
		}
		packed = packed[m:]
	}
	return n
}

func countDims(shape []byte) int {
	dims := 0
	for len(shape) > 0 {
		num, typ, n := protowire.ConsumeTag(shape)
		if n < 0 {
			return dims
		}
		shape = shape[n:]
		if num == shapeDim {
			dims++
		}
		n = protowire.ConsumeFieldValue(num, typ, shape)
		if n < 0 {
			return dims
		}
		shape = shape[n:]
	}
	return dims
}

// halfToFloat converts IEEE 754 binary16 bits.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// readTensorBoard reads one event file, or every event file under a
// directory. Scalars from a subdirectory are prefixed with its relative path
// ("validation/epoch_loss"), as Keras writes train/ and validation/ runs.
func readTensorBoard(path string) (*Run, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	run := &Run{Path: path, Format: FormatTensorBoard, Series: make(map[string][]Point)}
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		b := newSeriesBuilder()
		run.Damage = parseEvents(path, data, b, "")
		run.Series, run.Restarts = b.series, b.restarts
		return run, nil
	}
	byDir := make(map[string][]string)
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isEventFileName(d.Name()) {
			rel, _ := filepath.Rel(path, filepath.Dir(p))
			byDir[rel] = append(byDir[rel], p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(byDir) == 0 {
		return nil, fmt.Errorf("%s: no TensorBoard event files (events.out.tfevents.*) under this directory", path)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		files := byDir[d]
		// Event file names carry the creation time, so name order is
		// write order and a resumed run's later file wins on shared steps.
		sort.Strings(files)
		b := newSeriesBuilder()
		prefix := filepath.ToSlash(d)
		if prefix == "." {
			prefix = ""
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			run.Damage = append(run.Damage, parseEvents(f, data, b, prefix)...)
		}
		for name, ps := range b.series {
			run.Series[name] = ps
		}
		run.Restarts = append(run.Restarts, b.restarts...)
	}
	return run, nil
}
