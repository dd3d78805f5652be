package leakage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tunecheck/tunecheck/internal/benchdata"
)

// Source is a data set that can be read, possibly more than once.
type Source struct {
	Name string // shown in reports: a path, or "test"
	Open func() (io.ReadCloser, error)
	Read ReadOptions
}

// FileSource reads path (gzip when it ends in .gz).
func FileSource(path string, ro ReadOptions) Source {
	return Source{Name: path, Open: func() (io.ReadCloser, error) { return OpenFile(path) }, Read: ro}
}

// StringSource reads rows from a string (tests, and data already in memory).
func StringSource(name, data string, ro ReadOptions) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }, Read: ro}
}

// Methods of a leakage check.
const (
	MethodExact   = "exact"
	MethodMinHash = "minhash"
	MethodNgram   = "ngram"
	MethodEmbed   = "embed"
)

// Kinds of pairs.
const (
	KindExact    = "exact"
	KindNear     = "near"
	KindSemantic = "semantic"
	// KindNgram is a test item whose share of tokens inside 13-grams also
	// found in a training row is at or above Ngram.CleanBelow.
	KindNgram = "ngram"
)

// Scopes of pairs.
const (
	ScopeCross       = "train-test"
	ScopeWithinTrain = "within-train"
	ScopeWithinTest  = "within-test"
)

// Options configures Check.
type Options struct {
	Methods   []string  // exact, minhash, ngram, embed
	Normalize Normalize // for exact and MinHash
	Shingling Shingling
	NumPerm   int     // MinHash signature length, default 128
	Seed      uint64  // permutation seed, recorded in the report
	Threshold float64 // Jaccard threshold for near duplicates, default 0.8
	// FPWeight and FNWeight weigh false positives and false negatives when
	// choosing the banding (datasketch's weights argument). Defaults 0.1 and
	// 0.9, not datasketch's 0.5/0.5: every candidate is verified with the
	// exact Jaccard, so a false positive costs only time, while at 0.5/0.5
	// more than half of the pairs right at the threshold are never seen.
	FPWeight, FNWeight float64
	// Within also reports duplicates inside each split: always exact, and
	// near duplicates inside the test set. WithinTrainNear adds near
	// duplicates inside the training set, which indexes every training row
	// (memory grows with the training set; off by default).
	Within          bool
	WithinTrainNear bool
	Benchmarks      []string // for ngram: names from benchdata
	BenchItems      []benchdata.Item
	Ngram           NgramOptions
	Semantic        SemanticOptions
	MaxPairs        int // pairs kept per kind and scope in the report, default 1000
	Workers         int // default GOMAXPROCS
}

func (o Options) has(m string) bool { return slices.Contains(o.Methods, m) }

func (o Options) withDefaults() Options {
	if o.NumPerm <= 0 {
		o.NumPerm = 128
	}
	if o.Threshold <= 0 {
		o.Threshold = 0.8
	}
	if o.FPWeight <= 0 && o.FNWeight <= 0 {
		o.FPWeight, o.FNWeight = 0.1, 0.9
	}
	o.Shingling = o.Shingling.withDefaults()
	if o.Ngram.N <= 0 {
		o.Ngram = DefaultNgram()
	}
	if o.MaxPairs <= 0 {
		o.MaxPairs = 1000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if len(o.Methods) == 0 {
		o.Methods = []string{MethodExact, MethodMinHash}
	}
	return o
}

// ParseMethods reads a --method list.
func ParseMethods(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch f {
		case "":
		case MethodExact, MethodMinHash, MethodNgram, MethodEmbed:
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		default:
			return nil, fmt.Errorf("unknown method %q (use exact, minhash, ngram, embed)", f)
		}
	}
	return out, nil
}

// DocRef points at one row in a report.
type DocRef struct {
	Split string `json:"split"`
	Line  int    `json:"line"`
	ID    string `json:"id"`
	Text  string `json:"text"` // shortened to 400 characters
}

func ref(split string, d Doc) DocRef {
	return DocRef{Split: split, Line: d.Line, ID: d.ID, Text: shorten(d.Text, 400)}
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Pair is two rows found to be duplicates. For train-test pairs A is the
// training row and B the test row; within a split A comes first.
type Pair struct {
	Kind       string  `json:"kind"`
	Scope      string  `json:"scope"`
	Similarity float64 `json:"similarity"` // 1 for exact, Jaccard for near, cosine for semantic
	A          DocRef  `json:"a"`
	B          DocRef  `json:"b"`
}

// SetInfo describes one input.
type SetInfo struct {
	Name  string `json:"name"`
	Rows  int    `json:"rows"`
	Empty int    `json:"empty"` // rows whose text is empty after normalisation (not compared)
	// Fields are the fields whose text was compared ("(line)" for plain
	// text, "messages:user" for chat turns), in DefaultFields order. Each
	// row is compared whole; a training row also field by field, a test
	// row also by its PromptFields together.
	Fields       []string `json:"fields"`
	PromptFields []string `json:"prompt_fields,omitempty"`
}

// fieldSet collects the fields seen on one side.
type fieldSet struct{ all, prompt map[string]bool }

func newFieldSet() fieldSet { return fieldSet{all: map[string]bool{}, prompt: map[string]bool{}} }

func (f fieldSet) add(d Doc) {
	for _, p := range d.Parts {
		f.all[p.Field] = true
		if p.Prompt {
			f.prompt[p.Field] = true
		}
	}
}

func rankedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, FieldRank)
	return out
}

// Config is what the report records about how it was made.
type Config struct {
	Methods   []string        `json:"methods"`
	Normalize Normalize       `json:"normalize"`
	Shingling Shingling       `json:"shingling"`
	NumPerm   int             `json:"num_perm"`
	Seed      uint64          `json:"seed"`
	Threshold float64         `json:"threshold"`
	LSH       LSHParams       `json:"lsh"`
	FPWeight  float64         `json:"fp_weight"`
	FNWeight  float64         `json:"fn_weight"`
	Ngram     *NgramOptions   `json:"ngram,omitempty"`
	Semantic  *SemanticConfig `json:"semantic,omitempty"`
}

// Summary is the headline: how many test items leaked, by kind.
type Summary struct {
	TestItems   int            `json:"test_items"`
	Leaked      map[string]int `json:"leaked"` // test items with at least one training duplicate, by kind
	LeakedAny   int            `json:"leaked_any"`
	LeakedShare float64        `json:"leaked_share"`
	// Within counts duplicate pairs inside each split, by "scope/kind".
	Within map[string]int `json:"within,omitempty"`
	// BenchmarkShare is the largest contaminated share over the benchmarks checked.
	BenchmarkShare float64 `json:"benchmark_share"`
}

// Report is the outcome of Check.
type Report struct {
	Train      SetInfo                  `json:"train"`
	Test       *SetInfo                 `json:"test,omitempty"`
	Config     Config                   `json:"config"`
	Summary    Summary                  `json:"summary"`
	Pairs      []Pair                   `json:"pairs"`
	Truncated  map[string]int           `json:"truncated,omitempty"` // pairs left out, by "scope/kind"
	Benchmarks []BenchmarkContamination `json:"benchmarks,omitempty"`
	// TestNgram is the n-gram overlap of each test item with the training
	// set, reported as a benchmark is, when method ngram runs without
	// benchmarks.
	TestNgram *BenchmarkContamination `json:"test_ngram,omitempty"`
	// LeakedTestIDs lists the ids of leaked test items, sorted, so that a
	// score on the remaining items can be reported separately.
	LeakedTestIDs []string `json:"leaked_test_ids,omitempty"`
}

// Worst is the share compared with --fail-above: the larger of the leaked
// test share and the largest benchmark contamination share.
func (r *Report) Worst() float64 {
	return max(r.Summary.LeakedShare, r.Summary.BenchmarkShare)
}

// prepared is one row with what the methods need.
type prepared struct {
	doc   Doc
	empty bool
	key   [16]byte
	set   []uint64
	sig   []uint32
	th    []uint64
	// extra are the row's other comparison units, beyond the whole text:
	// each field of a training row, the prompt fields of a test row.
	extra []unit
}

// unit is one normalised text compared on its own.
type unit struct {
	norm string
	key  [16]byte
	set  []uint64
	sig  []uint32
}

// extraTexts lists the normalised texts a row is compared by besides its
// whole text n: for a training row each part alone, for a test row its
// prompt parts together (its answer alone would match any row that gives
// the same short answer). Texts equal to n or to each other are left out.
func (p *preparer) extraTexts(d Doc, n string, test bool) []string {
	if len(d.Parts) < 2 {
		return nil
	}
	var texts []string
	if test {
		var prompt []string
		for _, pt := range d.Parts {
			if pt.Prompt {
				prompt = append(prompt, pt.Text)
			}
		}
		if len(prompt) > 0 {
			texts = append(texts, p.opt.Normalize.Apply(strings.Join(prompt, "\n")))
		}
	} else {
		for _, pt := range d.Parts {
			texts = append(texts, p.opt.Normalize.Apply(pt.Text))
		}
	}
	out := texts[:0]
	for _, t := range texts {
		if t != n && strings.TrimSpace(t) != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

type preparer struct {
	opt    Options
	mh     *MinHasher
	toks   []string
	setBuf []uint64 // reused for training rows' shingles
}

func (p *preparer) prepare(d Doc, keepSig bool) prepared {
	pr := prepared{doc: d}
	needNorm := p.opt.has(MethodExact) || p.opt.has(MethodMinHash)
	if needNorm {
		n := p.opt.Normalize.Apply(d.Text)
		if strings.TrimSpace(n) == "" {
			pr.empty = true
		} else {
			if p.opt.has(MethodExact) {
				sum := sha256.Sum256([]byte(n))
				copy(pr.key[:], sum[:16])
			}
			for _, t := range p.extraTexts(d, n, keepSig) {
				u := unit{norm: t}
				if p.opt.has(MethodExact) {
					sum := sha256.Sum256([]byte(t))
					copy(u.key[:], sum[:16])
				}
				if keepSig && p.opt.has(MethodMinHash) {
					u.set, p.toks = p.opt.Shingling.ShingleSet(t, p.toks, nil)
					u.sig = p.mh.Signature(u.set, nil)
				}
				if keepSig {
					u.norm = "" // test units are held; their sets are enough
				}
				pr.extra = append(pr.extra, u)
			}
			if p.opt.has(MethodMinHash) {
				if keepSig {
					pr.set, p.toks = p.opt.Shingling.ShingleSet(n, p.toks, nil)
					pr.sig = p.mh.Signature(pr.set, nil)
				} else {
					// Training rows: sorted later, only if they meet a candidate.
					pr.set, p.toks = p.opt.Shingling.shingles(n, p.toks, p.setBuf[:0])
					p.setBuf = pr.set
				}
			}
		}
	}
	if p.opt.has(MethodNgram) {
		p.toks = Tokens(d.Text, p.toks)
		pr.th = tokenHashes(p.toks, nil)
	}
	return pr
}

// pairList keeps up to max pairs per scope/kind and counts the rest.
type pairList struct {
	max       int
	pairs     []Pair
	count     map[string]int
	truncated map[string]int
}

func newPairList(max int) *pairList {
	return &pairList{max: max, count: map[string]int{}, truncated: map[string]int{}}
}

func (l *pairList) add(p Pair) {
	k := p.Scope + "/" + p.Kind
	l.count[k]++
	if l.count[k] > l.max {
		l.truncated[k]++
		return
	}
	l.pairs = append(l.pairs, p)
}

// testLeak is the best training match of one test item for one kind.
type testLeak struct {
	train DocRef
	sim   float64
	found bool
}

// Check runs the chosen methods of a training set against a test set
// (optional: nil checks only within the training set and the benchmarks).
// The training set is streamed once; the test set and benchmark items are
// held in memory.
func Check(ctx context.Context, train Source, test *Source, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	params := OptimalLSH(opt.Threshold, opt.NumPerm, opt.FPWeight, opt.FNWeight)
	rep := &Report{
		Train: SetInfo{Name: train.Name},
		Config: Config{Methods: opt.Methods, Normalize: opt.Normalize, Shingling: opt.Shingling,
			NumPerm: opt.NumPerm, Seed: opt.Seed, Threshold: opt.Threshold, LSH: params,
			FPWeight: opt.FPWeight, FNWeight: opt.FNWeight},
		Summary: Summary{Leaked: map[string]int{}},
	}
	mh := NewMinHasher(opt.NumPerm, opt.Seed)
	pairs := newPairList(opt.MaxPairs)

	// The test side, in memory.
	var tdocs []prepared
	testByKey := map[[16]byte][]int32{}
	withinByKey := map[[16]byte]int32{} // whole texts only
	testIx := NewLSHIndex(params)
	// ixToTest maps testIx positions to tdocs: a test row may be indexed
	// more than once (whole and prompt), and empty rows not at all.
	var ixToTest []int32
	if test != nil {
		rep.Test = &SetInfo{Name: test.Name}
		p := &preparer{opt: opt, mh: mh}
		fs := newFieldSet()
		if err := readSource(*test, func(d Doc) error {
			fs.add(d)
			pr := p.prepare(d, true)
			pr.doc.Parts = nil
			tdocs = append(tdocs, pr)
			return nil
		}); err != nil {
			return nil, err
		}
		rep.Test.Fields, rep.Test.PromptFields = rankedKeys(fs.all), rankedKeys(fs.prompt)
		rep.Test.Rows = len(tdocs)
		rep.Summary.TestItems = len(tdocs)
		keys := []uint64(nil)
		seen := map[int32]struct{}{}
		for i, td := range tdocs {
			if td.empty {
				rep.Test.Empty++
				continue
			}
			if opt.has(MethodExact) {
				if prev, ok := withinByKey[td.key]; opt.Within && ok {
					pairs.add(Pair{Kind: KindExact, Scope: ScopeWithinTest, Similarity: 1,
						A: ref("test", tdocs[prev].doc), B: ref("test", td.doc)})
				} else if !ok {
					withinByKey[td.key] = int32(i)
				}
				testByKey[td.key] = append(testByKey[td.key], int32(i))
			}
			if opt.has(MethodMinHash) {
				if opt.Within {
					var ms []Match
					ms, keys = testIx.Query(td.sig, td.set, opt.Threshold, keys, seen)
					for _, m := range ms {
						other := tdocs[ixToTest[m.Pos]]
						if opt.has(MethodExact) && other.key == td.key {
							continue // already an exact pair
						}
						pairs.add(Pair{Kind: KindNear, Scope: ScopeWithinTest, Similarity: m.Jaccard,
							A: ref("test", other.doc), B: ref("test", td.doc)})
					}
				}
				testIx.Add(td.sig, td.set)
				ixToTest = append(ixToTest, int32(i))
			}
		}
		// The prompt units go in after the within-test pairs, which compare
		// whole rows only.
		for i, td := range tdocs {
			for _, u := range td.extra {
				if opt.has(MethodExact) && !slices.Contains(testByKey[u.key], int32(i)) {
					testByKey[u.key] = append(testByKey[u.key], int32(i))
				}
				if opt.has(MethodMinHash) {
					testIx.Add(u.sig, u.set)
					ixToTest = append(ixToTest, int32(i))
				}
			}
		}
	}

	var nix *NgramIndex
	var nacc *ngramAcc
	testNgram := false
	ngramRows := map[int32]DocRef{} // training rows that share an n-gram with a test item
	if opt.has(MethodNgram) {
		items := opt.BenchItems
		if items == nil {
			for _, b := range opt.Benchmarks {
				its, err := benchdata.Load(b)
				if err != nil {
					return nil, err
				}
				items = append(items, its...)
			}
		}
		if len(items) == 0 && test != nil {
			// No benchmarks: the test set is the benchmark.
			testNgram = true
			items = make([]benchdata.Item, len(tdocs))
			for i, td := range tdocs {
				items[i] = benchdata.Item{Benchmark: test.Name, ID: td.doc.ID, Question: td.doc.Text}
			}
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("method ngram needs a test set or benchmarks (--test, or --bench mmlu,gsm8k or all)")
		}
		nix = NewNgramIndex(items, opt.Ngram)
		nacc = nix.newAcc()
		ng := opt.Ngram
		rep.Config.Ngram = &ng
	}

	leaks := map[string][]testLeak{KindExact: make([]testLeak, len(tdocs)), KindNear: make([]testLeak, len(tdocs))}
	type firstRow struct {
		line int32
		id   string
	}
	trainByKey := map[[16]byte]firstRow{}
	var trainIx *LSHIndex
	var trainRefs []Doc
	var trainKeys [][16]byte
	if opt.Within && opt.WithinTrainNear && opt.has(MethodMinHash) {
		trainIx = NewLSHIndex(params)
	}
	trainFields := newFieldSet()
	collect := func(r trainResult) {
		rep.Train.Rows++
		trainFields.add(r.doc)
		if r.empty {
			rep.Train.Empty++
			return
		}
		for _, ti := range r.exact {
			l := &leaks[KindExact][ti]
			if !l.found {
				*l = testLeak{train: ref("train", r.doc), sim: 1, found: true}
				pairs.add(Pair{Kind: KindExact, Scope: ScopeCross, Similarity: 1, A: ref("train", r.doc), B: ref("test", tdocs[ti].doc)})
			}
		}
		for _, m := range r.near {
			ti := ixToTest[m.Pos]
			if slices.Contains(r.exact, ti) {
				continue
			}
			l := &leaks[KindNear][ti]
			if !l.found || m.Jaccard > l.sim {
				*l = testLeak{train: ref("train", r.doc), sim: m.Jaccard, found: true}
			}
		}
		if opt.Within && opt.has(MethodExact) {
			if first, ok := trainByKey[r.key]; ok {
				// Only the first row's line and id are kept per distinct text,
				// so memory stays small on large training sets.
				pairs.add(Pair{Kind: KindExact, Scope: ScopeWithinTrain, Similarity: 1,
					A: DocRef{Split: "train", Line: int(first.line), ID: first.id}, B: ref("train", r.doc)})
			} else {
				trainByKey[r.key] = firstRow{line: int32(r.doc.Line), id: r.doc.ID}
			}
		}
		if trainIx != nil {
			ms, _ := trainIx.Query(r.sig, r.set, opt.Threshold, nil, map[int32]struct{}{})
			for _, m := range ms {
				if opt.has(MethodExact) && trainKeys[m.Pos] == r.key {
					continue // already an exact pair
				}
				pairs.add(Pair{Kind: KindNear, Scope: ScopeWithinTrain, Similarity: m.Jaccard,
					A: ref("train", trainRefs[m.Pos]), B: ref("train", r.doc)})
			}
			trainIx.Add(r.sig, r.set)
			trainRefs = append(trainRefs, Doc{Line: r.doc.Line, ID: r.doc.ID, Text: shorten(r.doc.Text, 400)})
			trainKeys = append(trainKeys, r.key)
		}
		if nix != nil {
			nix.add(nacc, r.hits)
			if testNgram && len(r.hits) > 0 {
				ngramRows[int32(r.doc.Line)] = ref("train", r.doc)
			}
		}
	}
	if err := streamTrain(ctx, train, opt, mh, testByKey, testIx, nix, trainIx != nil, collect); err != nil {
		return nil, err
	}
	rep.Train.Fields = rankedKeys(trainFields.all)

	// Near pairs are reported once per test item, with its best match.
	for ti, l := range leaks[KindNear] {
		if l.found {
			pairs.add(Pair{Kind: KindNear, Scope: ScopeCross, Similarity: l.sim, A: l.train, B: ref("test", tdocs[ti].doc)})
		}
	}
	if opt.has(MethodEmbed) {
		sem, err := semanticCheck(ctx, train, tdocs, opt)
		if err != nil {
			return nil, err
		}
		rep.Config.Semantic = &sem.config
		leaks[KindSemantic] = sem.leaks
		for _, p := range sem.pairs {
			pairs.add(p)
		}
	}

	if testNgram {
		res := nix.result(nacc)
		if len(res) == 1 {
			rep.TestNgram = &res[0]
		}
		ls := make([]testLeak, len(tdocs))
		for i := range tdocs {
			frac, ok := nix.fraction(nacc, i)
			if !ok || opt.Ngram.classify(frac) == ClassClean {
				continue
			}
			a := ngramRows[nacc.first[i]]
			ls[i] = testLeak{train: a, sim: frac, found: true}
			pairs.add(Pair{Kind: KindNgram, Scope: ScopeCross, Similarity: frac, A: a, B: ref("test", tdocs[i].doc)})
		}
		leaks[KindNgram] = ls
	}

	leakedIDs := []string{}
	for ti := range tdocs {
		any := false
		for kind, ls := range leaks {
			if ls[ti].found {
				rep.Summary.Leaked[kind]++
				any = true
			}
		}
		if any {
			rep.Summary.LeakedAny++
			leakedIDs = append(leakedIDs, tdocs[ti].doc.ID)
		}
	}
	sort.Strings(leakedIDs)
	rep.LeakedTestIDs = leakedIDs
	if len(tdocs) > 0 {
		rep.Summary.LeakedShare = float64(rep.Summary.LeakedAny) / float64(len(tdocs))
	}
	if nix != nil && !testNgram {
		rep.Benchmarks = nix.result(nacc)
		for _, b := range rep.Benchmarks {
			rep.Summary.BenchmarkShare = max(rep.Summary.BenchmarkShare, b.Share)
		}
	}
	for k, n := range pairs.count {
		if strings.HasPrefix(k, "within-") {
			if rep.Summary.Within == nil {
				rep.Summary.Within = map[string]int{}
			}
			rep.Summary.Within[k] = n
		}
	}
	if len(pairs.truncated) > 0 {
		rep.Truncated = pairs.truncated
	}
	rep.Pairs = pairs.pairs
	if rep.Pairs == nil {
		rep.Pairs = []Pair{} // "pairs": [] in JSON, not null
	}
	sortPairs(rep.Pairs)
	return rep, nil
}

var scopeOrder = map[string]int{ScopeCross: 0, ScopeWithinTest: 1, ScopeWithinTrain: 2}
var kindOrder = map[string]int{KindExact: 0, KindNear: 1, KindNgram: 2, KindSemantic: 3}

func sortPairs(ps []Pair) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if scopeOrder[a.Scope] != scopeOrder[b.Scope] {
			return scopeOrder[a.Scope] < scopeOrder[b.Scope]
		}
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		if a.B.Line != b.B.Line {
			return a.B.Line < b.B.Line
		}
		return a.A.Line < b.A.Line
	})
}

func readSource(s Source, each func(Doc) error) error {
	rc, err := s.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return ReadDocs(rc, s.Name, s.Read, each)
}

// trainResult is what a worker found for one training row.
type trainResult struct {
	err   error // the row could not be parsed
	doc   Doc
	empty bool
	key   [16]byte
	exact []int32
	near  []Match
	hits  []ngramHit
	set   []uint64
	sig   []uint32
}

type batch struct {
	seq    int
	format string
	arena  []byte // the batch's lines, back to back
	lines  []int  // line numbers
	ends   []int  // end offset of each line in arena
	res    []trainResult
}

const batchSize = 256

// streamTrain reads the training set once and fans lines out to workers that
// parse them and compute keys, signatures and n-gram hits against the
// in-memory indexes; a single collector sees the results in file order, so
// reports (and the first parse error) do not depend on scheduling.
func streamTrain(ctx context.Context, train Source, opt Options, mh *MinHasher,
	testByKey map[[16]byte][]int32, testIx *LSHIndex, nix *NgramIndex, keepSig bool, collect func(trainResult)) error {
	g, ctx := errgroup.WithContext(ctx)
	in := make(chan *batch, opt.Workers*2)
	out := make(chan *batch, opt.Workers*2)
	g.Go(func() error {
		defer close(in)
		rc, err := train.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b := &batch{}
		seq := 0
		send := func() error {
			b.seq = seq
			seq++
			select {
			case in <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			b = &batch{}
			return nil
		}
		err = readLines(rc, train.Name, train.Read.Format, func(line int, l []byte, format string) error {
			b.format = format
			b.arena = append(b.arena, l...)
			b.lines = append(b.lines, line)
			b.ends = append(b.ends, len(b.arena))
			if len(b.lines) == batchSize {
				return send()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(b.lines) > 0 {
			return send()
		}
		return nil
	})
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			p := &preparer{opt: opt, mh: mh}
			var keys []uint64
			seen := map[int32]struct{}{}
			sig := make([]uint32, mh.NumPerm())
			var uset []uint64
			var toks []string
			specs := parseFieldSpecs(train.Read.Fields)
			for b := range in {
				b.res = make([]trainResult, len(b.lines))
				start := 0
				for i, line := range b.lines {
					raw := b.arena[start:b.ends[i]]
					start = b.ends[i]
					d, err := parseDoc(raw, line, b.format, specs, train.Read)
					if err != nil {
						b.res[i] = trainResult{err: fmt.Errorf("%s line %d: %w", train.Name, line, err)}
						continue
					}
					pr := p.prepare(d, false)
					r := trainResult{doc: d, empty: pr.empty, key: pr.key}
					if !pr.empty {
						if ts, ok := testByKey[pr.key]; ok {
							r.exact = ts
						}
						if opt.has(MethodMinHash) {
							s := mh.Signature(pr.set, sig)
							if testIx.Len() > 0 {
								r.near, keys = testIx.query(s, pr.set, false, opt.Threshold, keys, seen)
							}
							if keepSig {
								r.sig = slices.Clone(s)
								r.set = sortSet(slices.Clone(pr.set))
							}
						}
						// Each field alone: a test prompt copied into one
						// field of a longer row.
						for _, u := range pr.extra {
							if ts, ok := testByKey[u.key]; ok && opt.has(MethodExact) {
								r.exact = append(slices.Clip(r.exact), ts...)
							}
							if opt.has(MethodMinHash) && testIx.Len() > 0 {
								uset, toks = opt.Shingling.shingles(u.norm, toks, uset[:0])
								var ms []Match
								ms, keys = testIx.query(mh.Signature(uset, sig), uset, false, opt.Threshold, keys, seen)
								r.near = append(r.near, ms...)
							}
						}
					}
					if nix != nil {
						r.hits = nix.scan(pr.th, d.Line, nil)
					}
					b.res[i] = r
				}
				b.arena = nil
				select {
				case out <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	go func() { wg.Wait(); close(out) }()
	g.Go(func() error {
		pending := map[int]*batch{}
		next := 0
		for b := range out {
			pending[b.seq] = b
			for {
				nb, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				for _, r := range nb.res {
					if r.err != nil {
						return r.err
					}
					collect(r)
				}
			}
		}
		return nil
	})
	return g.Wait()
}
