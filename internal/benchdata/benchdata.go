// Package benchdata owns the benchmark test items shipped inside the binary
// (MMLU, GSM8K, HumanEval, TruthfulQA, ARC, HellaSwag, WinoGrande, PIQA) and
// their loaders. The files under data/ are byte-for-byte copies of the samples
// in shared/data/benchmarks, stored gzip-compressed as NAME.embed.gz and read
// back as NAME by FS (gzfs.go); data/NOTICE.md and each SOURCE.md give their
// origin and licence. Item ids are the row positions in the original files
// (the samples are "first N rows" cuts), so ids stay valid against the full
// upstream sets.
package benchdata

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed data
var files embed.FS

// FS is the embedded sample data, with the layout of ../shared/data/benchmarks
// below a top-level "data" directory; internal/bench reads it in the
// original file formats.
func FS() fs.FS { return gzFS{files} }

// Item is one benchmark test item in a uniform shape.
type Item struct {
	Benchmark string   `json:"benchmark"`
	ID        string   `json:"id"`
	Question  string   `json:"question"`
	Choices   []string `json:"choices,omitempty"`
	Answer    string   `json:"answer,omitempty"`
}

// Text is what a contamination check compares against training data: the
// question followed by every choice and the reference answer, because a
// training row that contains the answer leaks the item as much as one that
// contains the question.
func (it Item) Text() string {
	var b strings.Builder
	b.WriteString(it.Question)
	for _, c := range it.Choices {
		b.WriteByte('\n')
		b.WriteString(c)
	}
	if it.Answer != "" && !contains(it.Choices, it.Answer) {
		b.WriteByte('\n')
		b.WriteString(it.Answer)
	}
	return b.String()
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

type loader func(fsys fs.FS) ([]Item, error)

// loaders maps each benchmark, named as internal/bench's registry (and
// lm-eval) name it, to its loader; a test there checks the two agree.
var loaders = map[string]loader{
	"arc_challenge":  loadARCPart("arc_challenge"),
	"arc_easy":       loadARCPart("arc_easy"),
	"gsm8k":          loadGSM8K,
	"hellaswag":      loadHellaSwag,
	"humaneval":      loadHumanEval,
	"mmlu":           loadMMLU,
	"piqa":           loadPIQA,
	"truthfulqa_mc1": loadTruthfulQAAs("truthfulqa_mc1"),
	"truthfulqa_mc2": loadTruthfulQAAs("truthfulqa_mc2"),
	"winogrande":     loadWinoGrande,
}

// aliases are the earlier names, each standing for several benchmarks.
// Deprecated: arc (arc_easy + arc_challenge) and truthfulqa (its mc1 and
// mc2 tasks share the 817 questions) are kept so existing commands work.
var aliases = map[string][]string{
	"arc":        {"arc_challenge", "arc_easy"},
	"truthfulqa": {"truthfulqa_mc1"},
}

// Names lists the stored benchmarks, sorted.
func Names() []string {
	out := make([]string, 0, len(loaders))
	for n := range loaders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Load returns the stored test items of one benchmark.
func Load(name string) ([]Item, error) {
	return LoadFS(FS(), name)
}

// LoadFS loads benchmark name from fsys, which must have the layout of data/
// below a top-level "data" directory (tests pass shared/data/benchmarks this way).
func LoadFS(fsys fs.FS, name string) ([]Item, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if parts, ok := aliases[name]; ok {
		var out []Item
		for _, p := range parts {
			its, err := loaders[p](fsys)
			if err != nil {
				return nil, err
			}
			out = append(out, its...)
		}
		return out, nil
	}
	l, ok := loaders[name]
	if !ok {
		return nil, fmt.Errorf("unknown benchmark %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return l(fsys)
}

// Parse splits a comma-separated list such as "mmlu,gsm8k" (or "all") into
// known benchmark names.
func Parse(list string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if f == "all" {
			return Names(), nil
		}
		names := []string{f}
		if parts, ok := aliases[f]; ok {
			names = parts
		} else if _, ok := loaders[f]; !ok {
			return nil, fmt.Errorf("unknown benchmark %q in --bench (known: %s, or all)", f, strings.Join(Names(), ", "))
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func readJSONL(fsys fs.FS, name string, each func(line int, raw []byte) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer gz.Close()
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := each(line, b); err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func loadMMLU(fsys fs.FS) ([]Item, error) {
	paths, err := fs.Glob(fsys, "data/mmlu/data/test/*_test.csv")
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("mmlu: no data/mmlu/data/test/*_test.csv files")
	}
	sort.Strings(paths)
	var out []Item
	for _, p := range paths {
		subject := strings.TrimSuffix(path.Base(p), "_test.csv")
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for i, r := range recs {
			if len(r) != 6 {
				return nil, fmt.Errorf("%s row %d: want 6 fields (question, A, B, C, D, answer), got %d", p, i+1, len(r))
			}
			k := strings.Index("ABCD", strings.TrimSpace(r[5]))
			if k < 0 || len(strings.TrimSpace(r[5])) != 1 {
				return nil, fmt.Errorf("%s row %d: answer %q is not one of A, B, C, D", p, i+1, r[5])
			}
			out = append(out, Item{Benchmark: "mmlu", ID: fmt.Sprintf("mmlu/%s/%d", subject, i),
				Question: r[0], Choices: r[1:5], Answer: r[1+k]})
		}
	}
	return out, nil
}

func loadGSM8K(fsys fs.FS) ([]Item, error) {
	var out []Item
	err := readJSONL(fsys, "data/gsm8k/test_first300.jsonl", func(line int, raw []byte) error {
		var r struct {
			Question string `json:"question"`
			Answer   string `json:"answer"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if r.Question == "" {
			return fmt.Errorf("field question is empty")
		}
		out = append(out, Item{Benchmark: "gsm8k", ID: fmt.Sprintf("gsm8k/test/%d", line-1), Question: r.Question, Answer: r.Answer})
		return nil
	})
	return out, err
}

func loadHumanEval(fsys fs.FS) ([]Item, error) {
	var out []Item
	err := readJSONL(fsys, "data/humaneval/HumanEval.jsonl.gz", func(line int, raw []byte) error {
		var r struct {
			TaskID   string `json:"task_id"`
			Prompt   string `json:"prompt"`
			Solution string `json:"canonical_solution"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if r.TaskID == "" || r.Prompt == "" {
			return fmt.Errorf("fields task_id and prompt are required")
		}
		out = append(out, Item{Benchmark: "humaneval", ID: r.TaskID, Question: r.Prompt, Answer: r.Solution})
		return nil
	})
	return out, err
}

func loadTruthfulQAAs(name string) loader {
	return func(fsys fs.FS) ([]Item, error) {
		its, err := loadTruthfulQA(fsys)
		for i := range its {
			its[i].Benchmark = name
			its[i].ID = name + strings.TrimPrefix(its[i].ID, "truthfulqa")
		}
		return its, err
	}
}

func loadTruthfulQA(fsys fs.FS) ([]Item, error) {
	const p = "data/truthfulqa/v1/TruthfulQA.csv"
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff")) // the v1 file starts with a BOM
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", p)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, need := range []string{"Question", "Best Answer"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: header lacks column %q", p, need)
		}
	}
	var out []Item
	for i, r := range recs[1:] {
		out = append(out, Item{Benchmark: "truthfulqa", ID: fmt.Sprintf("truthfulqa/%d", i),
			Question: r[col["Question"]], Answer: r[col["Best Answer"]]})
	}
	return out, nil
}

func loadARCPart(name string) loader {
	return func(fsys fs.FS) ([]Item, error) { return loadARC(fsys, name) }
}

func loadARC(fsys fs.FS, name string) ([]Item, error) {
	var out []Item
	for _, part := range []struct{ name, file string }{
		{name, "data/arc/" + name + "_test_first300.jsonl"},
	} {
		err := readJSONL(fsys, part.file, func(line int, raw []byte) error {
			var r struct {
				Query   string   `json:"query"`
				Choices []string `json:"choices"`
				Gold    int      `json:"gold"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			if r.Gold < 0 || r.Gold >= len(r.Choices) {
				return fmt.Errorf("field gold %d is outside the %d choices", r.Gold, len(r.Choices))
			}
			q := strings.TrimPrefix(r.Query, "Question: ")
			out = append(out, Item{Benchmark: part.name, ID: fmt.Sprintf("%s/test/%d", part.name, line-1),
				Question: q, Choices: r.Choices, Answer: r.Choices[r.Gold]})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadHellaSwag(fsys fs.FS) ([]Item, error) {
	const p = "data/hellaswag/hellaswag_val_full_first500.txt"
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines)%6 != 0 {
		return nil, fmt.Errorf("%s: %d lines is not a multiple of 6 (context, label, 4 endings per item)", p, len(lines))
	}
	var out []Item
	for i := 0; i < len(lines); i += 6 {
		label, err := strconv.Atoi(strings.TrimSpace(lines[i+1]))
		if err != nil || label < 0 || label > 3 {
			return nil, fmt.Errorf("%s line %d: label %q is not 0-3", p, i+2, lines[i+1])
		}
		ends := append([]string(nil), lines[i+2:i+6]...)
		out = append(out, Item{Benchmark: "hellaswag", ID: fmt.Sprintf("hellaswag/validation/%d", i/6),
			Question: lines[i], Choices: ends, Answer: ends[label]})
	}
	return out, nil
}

func loadWinoGrande(fsys fs.FS) ([]Item, error) {
	var out []Item
	err := readJSONL(fsys, "data/winogrande/winogrande_dev.jsonl", func(line int, raw []byte) error {
		var r struct {
			Options      []string `json:"context_options"`
			Continuation string   `json:"continuation"`
			Gold         int      `json:"gold"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if len(r.Options) != 2 || r.Gold < 0 || r.Gold > 1 {
			return fmt.Errorf("want 2 context_options and gold 0 or 1")
		}
		full := make([]string, 2)
		for i, o := range r.Options {
			full[i] = o + " " + r.Continuation
		}
		// The two sentences differ only in the filled blank; the question is
		// the shared sentence as the gold option completes it.
		out = append(out, Item{Benchmark: "winogrande", ID: fmt.Sprintf("winogrande/dev/%d", line-1),
			Question: full[r.Gold], Choices: nil, Answer: ""})
		return nil
	})
	return out, err
}

func loadPIQA(fsys fs.FS) ([]Item, error) {
	lb, err := fs.ReadFile(fsys, "data/piqa/valid-labels.lst")
	if err != nil {
		return nil, err
	}
	labels := strings.Fields(string(lb))
	var out []Item
	err = readJSONL(fsys, "data/piqa/valid.jsonl", func(line int, raw []byte) error {
		var r struct {
			Goal string `json:"goal"`
			Sol1 string `json:"sol1"`
			Sol2 string `json:"sol2"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if line > len(labels) {
			return fmt.Errorf("no label in valid-labels.lst line %d", line)
		}
		ans := r.Sol1
		switch labels[line-1] {
		case "0":
		case "1":
			ans = r.Sol2
		default:
			return fmt.Errorf("valid-labels.lst line %d: label %q is not 0 or 1", line, labels[line-1])
		}
		out = append(out, Item{Benchmark: "piqa", ID: fmt.Sprintf("piqa/validation/%d", line-1),
			Question: r.Goal, Choices: []string{r.Sol1, r.Sol2}, Answer: ans})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(labels) {
		return nil, fmt.Errorf("piqa: %d items but %d labels", len(out), len(labels))
	}
	return out, nil
}
