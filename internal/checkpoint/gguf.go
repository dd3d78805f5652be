package checkpoint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ggufHeader is what a look at a GGUF file needs: whether it is an adapter
// (general.type "adapter": a llama.cpp LoRA, served with --lora) and where its
// last tensor's data begins, to tell a whole file from one cut off mid-write.
//
// Hand-written: the GGUF readers in Go (gguf-parser-go and kin) bring whole
// model-estimation libraries for these two facts; the format's header is a
// flat list of typed key/values and tensor descriptors (llama.cpp's
// ggml/include/gguf.h, docs/gguf.md there).
type ggufHeader struct {
	Type string
	// LastData is the file offset where the last tensor's data starts (or
	// where tensor data would start, when there are no tensors).
	LastData int64
	Tensors  uint64
}

const (
	ggufU8 = iota
	ggufI8
	ggufU16
	ggufI16
	ggufU32
	ggufI32
	ggufF32
	ggufBool
	ggufString
	ggufArray
	ggufU64
	ggufI64
	ggufF64
)

// errTruncated marks a GGUF file that ends inside its header.
var errTruncated = errors.New("the file ends inside its header (cut off while being written?)")

func readGGUF(path string) (ggufHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return ggufHeader{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ggufHeader{}, err
	}
	r := &ggufReader{r: bufio.NewReaderSize(f, 1<<16)}
	h, err := r.header()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ggufHeader{}, errTruncated
		}
		return ggufHeader{}, err
	}
	if h.LastData > info.Size() || (h.Tensors > 0 && h.LastData == info.Size()) {
		return ggufHeader{}, fmt.Errorf("the file is %d bytes but its last tensor starts at byte %d (cut off while being written?)", info.Size(), h.LastData)
	}
	return h, nil
}

type ggufReader struct {
	r   *bufio.Reader
	pos int64
	err error
}

func (g *ggufReader) u32() uint32 {
	var b [4]byte
	g.read(b[:])
	return binary.LittleEndian.Uint32(b[:])
}

func (g *ggufReader) u64() uint64 {
	var b [8]byte
	g.read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func (g *ggufReader) read(b []byte) {
	if g.err != nil {
		return
	}
	n, err := io.ReadFull(g.r, b)
	g.pos += int64(n)
	g.err = err
}

func (g *ggufReader) skip(n uint64) {
	if g.err != nil {
		return
	}
	if n > 1<<34 {
		g.err = fmt.Errorf("a length of %d bytes in the header is not plausible", n)
		return
	}
	d, err := g.r.Discard(int(n))
	g.pos += int64(d)
	g.err = err
}

func (g *ggufReader) str() string {
	n := g.u64()
	if g.err != nil {
		return ""
	}
	if n > 1<<20 {
		g.skip(n)
		return ""
	}
	b := make([]byte, n)
	g.read(b)
	return string(b)
}

var ggufScalarSize = map[uint32]uint64{ggufU8: 1, ggufI8: 1, ggufBool: 1, ggufU16: 2, ggufI16: 2,
	ggufU32: 4, ggufI32: 4, ggufF32: 4, ggufU64: 8, ggufI64: 8, ggufF64: 8}

// value reads one value of type t and returns it when it is a string or a
// uint32 (the only ones this reader keeps).
func (g *ggufReader) value(t uint32) (string, uint64) {
	switch t {
	case ggufString:
		return g.str(), 0
	case ggufU32:
		return "", uint64(g.u32())
	case ggufArray:
		et, n := g.u32(), g.u64()
		if size, ok := ggufScalarSize[et]; ok {
			g.skip(size * n)
			return "", 0
		}
		for i := uint64(0); i < n && g.err == nil; i++ {
			g.value(et)
		}
		return "", 0
	}
	size, ok := ggufScalarSize[t]
	if !ok {
		g.err = fmt.Errorf("unknown value type %d in the header", t)
		return "", 0
	}
	g.skip(size)
	return "", 0
}

func (g *ggufReader) header() (ggufHeader, error) {
	var magic [4]byte
	g.read(magic[:])
	if g.err == nil && string(magic[:]) != "GGUF" {
		return ggufHeader{}, fmt.Errorf("not a GGUF file (it starts with %q)", magic[:])
	}
	version := g.u32()
	if g.err == nil && version < 2 {
		return ggufHeader{}, fmt.Errorf("GGUF version %d is older than llama.cpp reads (2)", version)
	}
	nTensors, nKV := g.u64(), g.u64()
	var h ggufHeader
	align := uint64(32)
	for i := uint64(0); i < nKV && g.err == nil; i++ {
		key := g.str()
		s, u := g.value(g.u32())
		switch key {
		case "general.type":
			h.Type = s
		case "general.alignment":
			if u > 0 {
				align = u
			}
		}
	}
	var last uint64
	for i := uint64(0); i < nTensors && g.err == nil; i++ {
		g.str()
		dims := g.u32()
		if dims > 8 {
			return ggufHeader{}, fmt.Errorf("tensor %d has %d dimensions", i, dims)
		}
		g.skip(8 * uint64(dims))
		g.u32() // type
		if off := g.u64(); off > last {
			last = off
		}
	}
	if g.err != nil {
		return ggufHeader{}, g.err
	}
	start := (uint64(g.pos) + align - 1) / align * align
	h.LastData = int64(start + last)
	h.Tensors = nTensors
	return h, nil
}
