package leakage

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/benchdata"
	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

// vocabulary returns the distinct words of the stored benchmarks, so that
// synthetic documents have a real word distribution.
func vocabulary(tb testing.TB) []string {
	tb.Helper()
	seen := map[string]bool{}
	var words []string
	for _, name := range benchdata.Names() {
		items, err := benchdata.Load(name)
		if err != nil {
			tb.Fatal(err)
		}
		for _, it := range items {
			for _, w := range strings.Fields(it.Text()) {
				if !seen[w] {
					seen[w] = true
					words = append(words, w)
				}
			}
		}
	}
	return words
}

// docStream is an io.Reader of n JSONL rows {"id": …, "text": …} of 60-140
// random vocabulary words, generated on the fly so that a million documents
// never sit in memory.
type docStream struct {
	rng   *rand.Rand
	vocab []string
	n, i  int
	buf   []byte
	bytes atomic.Int64
}

func newDocStream(vocab []string, n int, seed uint64) *docStream {
	return &docStream{rng: rand.New(rand.NewPCG(seed, 1)), vocab: vocab, n: n}
}

func (s *docStream) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) && s.i < s.n {
		s.buf = append(s.buf, `{"id":"d`...)
		s.buf = strconv.AppendInt(s.buf, int64(s.i), 10)
		s.buf = append(s.buf, `","text":"`...)
		words := 60 + s.rng.IntN(81)
		for w := range words {
			if w > 0 {
				s.buf = append(s.buf, ' ')
			}
			s.buf = appendJSONSafe(s.buf, s.vocab[s.rng.IntN(len(s.vocab))])
		}
		s.buf = append(s.buf, "\"}\n"...)
		s.i++
	}
	if len(s.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.buf)
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	s.bytes.Add(int64(n))
	return n, nil
}

func appendJSONSafe(b []byte, w string) []byte {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '"' || c == '\\' || c < 0x20 {
			continue
		}
		b = append(b, c)
	}
	return b
}

func streamSource(name string, vocab []string, n int, seed uint64) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(newDocStream(vocab, n, seed)), nil }}
}

// peakHeap samples the heap in use while f runs.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return max(peak.Load(), m.HeapInuse)
}

func BenchmarkMinHashSignature(b *testing.B) {
	vocab := vocabulary(b)
	rng := rand.New(rand.NewPCG(1, 1))
	docs := make([]string, 1000)
	for i := range docs {
		var sb strings.Builder
		for range 100 {
			sb.WriteString(vocab[rng.IntN(len(vocab))])
			sb.WriteByte(' ')
		}
		docs[i] = DefaultNormalize().Apply(sb.String())
	}
	mh := NewMinHasher(128, 1)
	cpu0 := cpuclock.Process().Seconds()
	var set []uint64
	var toks []string
	sig := make([]uint32, 128)
	i := 0
	for b.Loop() {
		set, toks = Shingling{}.ShingleSet(docs[i%len(docs)], toks, set)
		sig = mh.Signature(set, sig)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(b.N)/(cpuclock.Process().Seconds()-cpu0), "docs/cpu-s")
}

// BenchmarkNearDup1M streams 1,000,000 training documents against 10,000
// test documents (exact + MinHash, num_perm 128, threshold 0.8).
func BenchmarkNearDup1M(b *testing.B) {
	benchStream(b, 1_000_000, Options{Methods: []string{MethodExact, MethodMinHash}, Normalize: DefaultNormalize(), Seed: 1}, true)
}

// BenchmarkNgram1M streams 1,000,000 training documents against every stored
// benchmark's test items (13-grams).
func BenchmarkNgram1M(b *testing.B) {
	benchStream(b, 1_000_000, Options{Methods: []string{MethodNgram}, Benchmarks: benchdata.Names()}, false)
}

func benchStream(b *testing.B, n int, opt Options, withTest bool) {
	vocab := vocabulary(b)
	var peak uint64
	cpu0 := cpuclock.Process().Seconds()
	for b.Loop() {
		var test *Source
		if withTest {
			s := streamSource("test", vocab, 10_000, 99)
			test = &s
		}
		var rep *Report
		var err error
		peak = max(peak, peakHeap(func() {
			rep, err = Check(context.Background(), streamSource("train", vocab, n, 1), test, opt)
		}))
		if err != nil {
			b.Fatal(err)
		}
		if rep.Train.Rows != n {
			b.Fatal(fmt.Sprintf("read %d rows", rep.Train.Rows))
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	cpu := (cpuclock.Process().Seconds() - cpu0) / float64(b.N)
	b.ReportMetric(sec, "s/run")
	b.ReportMetric(cpu, "cpu-s/run")
	b.ReportMetric(float64(n)/sec, "docs/s")
	b.ReportMetric(float64(n)/cpu, "docs/cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkMemorisation1M streams 1,000,000 training documents against 1,000
// model outputs of 200 words (seed span 8).
func BenchmarkMemorisation1M(b *testing.B) {
	vocab := vocabulary(b)
	rng := rand.New(rand.NewPCG(5, 5))
	outs := make([]Output, 1000)
	for i := range outs {
		var sb strings.Builder
		for range 200 {
			sb.WriteString(vocab[rng.IntN(len(vocab))])
			sb.WriteByte(' ')
		}
		outs[i] = Output{ID: strconv.Itoa(i), Text: sb.String()}
	}
	const n = 1_000_000
	cpu0 := cpuclock.Process().Seconds()
	for b.Loop() {
		rep, err := Memorisation(context.Background(), outs, streamSource("train", vocab, n, 1), MemoOptions{})
		if err != nil || rep.Train.Rows != n {
			b.Fatal(err, rep.Train.Rows)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	cpu := (cpuclock.Process().Seconds() - cpu0) / float64(b.N)
	b.ReportMetric(sec, "s/run")
	b.ReportMetric(cpu, "cpu-s/run")
	b.ReportMetric(float64(n)/cpu, "docs/cpu-s")
}

// BenchmarkGenerate1M only produces the synthetic stream the 1M benchmarks
// read, to tell the harness's own cost from the checks'.
func BenchmarkGenerate1M(b *testing.B) {
	vocab := vocabulary(b)
	const n = 1_000_000
	buf := make([]byte, 1<<20)
	cpu0 := cpuclock.Process().Seconds()
	var total int64
	for b.Loop() {
		s := newDocStream(vocab, n, 1)
		for {
			k, err := s.Read(buf)
			total += int64(k)
			if err == io.EOF {
				break
			}
		}
	}
	b.ReportMetric((cpuclock.Process().Seconds()-cpu0)/float64(b.N), "cpu-s/run")
	b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "MiB/run")
}
