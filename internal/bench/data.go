package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/benchdata"
	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// Data is where benchmark rows come from: a folder in the original file
// formats (the layout of ../shared/data/benchmarks: mmlu/data/test/…,
// arc/…, gsm8k/…), and optionally a folder in the Hugging Face layout that
// internal/lmeval reads, which wins for the splits it has.
type Data struct {
	Orig  fs.FS
	HFDir string
	Label string // for errors
}

// Embedded is the samples stored in the binary (internal/benchdata).
func Embedded() Data {
	sub, err := fs.Sub(benchdata.FS(), "data")
	if err != nil {
		panic(err) // the embedded tree always has data/
	}
	return Data{Orig: sub, Label: "the embedded samples"}
}

// Dir reads dir: DIR/<dataset_path>/<dataset_name>/<split>.{parquet,jsonl,json,csv}
// (Hugging Face layout) first, else the original files under DIR/<benchmark>/.
func Dir(dir string) Data {
	return Data{Orig: os.DirFS(dir), HFDir: dir, Label: dir}
}

// origFiles lists, per task family and split, the original file names
// tried in order (the upstream name first, then the name of the embedded
// sample cut).
func origFiles(task, split string) []string {
	switch {
	case strings.HasPrefix(task, "mmlu_"):
		s := strings.TrimPrefix(task, "mmlu_")
		return []string{"mmlu/data/" + split + "/" + s + "_" + split + ".csv"}
	case task == "arc_easy" || task == "arc_challenge":
		up := map[string]string{"arc_easy": "ARC-Easy", "arc_challenge": "ARC-Challenge"}[task]
		sp := map[string]string{"test": "Test", "train": "Train", "validation": "Dev"}[split]
		return []string{"arc/" + up + "-" + sp + ".jsonl", "arc/" + up + "/" + up + "-" + sp + ".jsonl", "arc/" + task + "_" + split + "_first300.jsonl"}
	case task == "hellaswag":
		sp := map[string]string{"validation": "val", "train": "train", "test": "test"}[split]
		return []string{"hellaswag/hellaswag_" + sp + ".jsonl", "hellaswag/hellaswag_" + sp + "_full_first500.txt"}
	case task == "gsm8k":
		return []string{"gsm8k/" + split + ".jsonl", "gsm8k/" + split + "_first300.jsonl"}
	case strings.HasPrefix(task, "truthfulqa_"):
		return []string{"truthfulqa/v1/mc_task.json", "truthfulqa/mc_task.json"}
	case task == "piqa":
		sp := map[string]string{"validation": "valid", "train": "train"}[split]
		return []string{"piqa/" + sp + ".jsonl"}
	case task == "winogrande":
		sp := map[string]string{"validation": "dev", "train": "train_xl"}[split]
		return []string{"winogrande/" + sp + ".jsonl", "winogrande/winogrande_" + sp + ".jsonl"}
	case task == "humaneval":
		return []string{"humaneval/HumanEval.jsonl.gz", "humaneval/HumanEval.jsonl"}
	}
	return nil
}

// Splits reads the named splits of one lm-eval task, as rows in the
// Hugging Face schema lm-eval's templates expect.
func (d Data) Splits(t *lmeval.Task, names []string) (lmeval.Splits, error) {
	out := lmeval.Splits{}
	for _, split := range names {
		docs, err := d.split(t, split)
		if err != nil {
			return nil, err
		}
		out[split] = docs
	}
	return out, nil
}

func (d Data) split(t *lmeval.Task, split string) ([]lmeval.Doc, error) {
	if d.HFDir != "" {
		for _, p := range t.SplitPaths(d.HFDir, split) {
			if _, err := os.Stat(p); err == nil {
				return loadHFSplit(t, d.HFDir, split)
			}
		}
		if shards := hfShards(t, d.HFDir, split); len(shards) > 0 {
			return loadShards(shards)
		}
	}
	cands := origFiles(t.Name, split)
	for _, name := range cands {
		if _, err := fs.Stat(d.Orig, name); err != nil {
			continue
		}
		docs, err := readOriginal(d.Orig, t.Name, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", d.Label, name, err)
		}
		return docs, nil
	}
	var where []string
	if d.HFDir != "" {
		where = append(where, t.SplitPaths(d.HFDir, split)...)
		for _, c := range cands {
			where = append(where, filepath.Join(d.HFDir, filepath.FromSlash(c)))
		}
		return nil, fmt.Errorf("task %s: split %q is not in %s; put it at one of:\n  %s", t.Name, split, d.Label, strings.Join(where, "\n  "))
	}
	for _, c := range cands {
		where = append(where, "DIR/"+c)
	}
	where = append(where, t.SplitPaths("DIR", split)...)
	return nil, fmt.Errorf("task %s: split %q is not among %s; pass --data-dir DIR holding it at one of:\n  %s", t.Name, split, d.Label, strings.Join(where, "\n  "))
}

// hfShards lists a split's Parquet shards as a Hugging Face dataset
// snapshot stores them: <split>-00000-of-00001.parquet beside the config
// folder or under its data/ folder, in name order.
func hfShards(t *lmeval.Task, dir, split string) []string {
	base := filepath.Join(dir, filepath.FromSlash(t.DatasetPath))
	if t.DatasetName != "" {
		base = filepath.Join(base, t.DatasetName)
	}
	var out []string
	for _, pat := range []string{filepath.Join(base, split+"-*.parquet"), filepath.Join(base, "data", split+"-*.parquet")} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	sort.Strings(out)
	return out
}

func loadShards(paths []string) ([]lmeval.Doc, error) {
	var docs []lmeval.Doc
	for _, p := range paths {
		ds, err := dataset.Load(p, dataset.Options{ContentIDs: true})
		if err != nil {
			return nil, err
		}
		for _, r := range ds.Rows {
			docs = append(docs, r.Fields)
		}
	}
	return docs, nil
}

func loadHFSplit(t *lmeval.Task, dir, split string) ([]lmeval.Doc, error) {
	for _, p := range t.SplitPaths(dir, split) {
		if _, err := os.Stat(p); err == nil {
			view := *t
			view.TestSplit, view.ValidationSplit = &split, nil
			s, err := view.LoadSplits(dir, lmeval.BuildOptions{NumFewshot: new(int)})
			if err != nil {
				return nil, err
			}
			return s[split], nil
		}
	}
	return nil, fmt.Errorf("task %s: split %q not found under %s", t.Name, split, dir)
}

func readOriginal(fsys fs.FS, task, name string) ([]lmeval.Doc, error) {
	switch {
	case strings.HasPrefix(task, "mmlu_"):
		return readMMLU(fsys, name, strings.TrimPrefix(task, "mmlu_"))
	case task == "arc_easy" || task == "arc_challenge":
		return readJSONLDocs(fsys, name, arcDoc)
	case task == "hellaswag":
		if strings.HasSuffix(name, ".txt") {
			return readHellaSwagText(fsys, name)
		}
		return readJSONLDocs(fsys, name, func(_ int, d lmeval.Doc) (lmeval.Doc, error) { return d, nil })
	case task == "gsm8k":
		return readJSONLDocs(fsys, name, gsm8kDoc)
	case strings.HasPrefix(task, "truthfulqa_"):
		return readTruthfulQA(fsys, name)
	case task == "piqa":
		return readPIQA(fsys, name)
	case task == "winogrande":
		return readJSONLDocs(fsys, name, winograndeDoc)
	case task == "humaneval":
		return readJSONLDocs(fsys, name, humanevalDoc)
	}
	return nil, fmt.Errorf("no original-format reader for task %s", task)
}

// decode parses one JSON value with integers kept as int64, as Python's
// json module gives ints.
func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return ints(v), nil
}

func ints(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = ints(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = ints(x[k])
		}
	}
	return v
}

func open(fsys fs.FS, name string) (io.ReadCloser, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, ".gz") {
		return f, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, f}, nil
}

func readJSONLDocs(fsys fs.FS, name string, conv func(line int, d lmeval.Doc) (lmeval.Doc, error)) ([]lmeval.Doc, error) {
	f, err := open(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	var out []lmeval.Doc
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		v, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("line %d: want a JSON object", line)
		}
		d, err := conv(line, m)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no rows")
	}
	return out, nil
}

func str(d lmeval.Doc, k string) (string, error) {
	s, ok := d[k].(string)
	if !ok {
		return "", fmt.Errorf("field %q must be a string, got %T", k, d[k])
	}
	return s, nil
}

func strs(v any, what string) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("field %s must be a list, got %T", what, v)
	}
	for i, e := range l {
		if _, ok := e.(string); !ok {
			return nil, fmt.Errorf("field %s[%d] must be a string", what, i)
		}
	}
	return l, nil
}

// readMMLU reads hendrycks/test's CSV (no header: question, A, B, C, D,
// answer letter) into cais/mmlu rows {question, subject, choices, answer}.
func readMMLU(fsys fs.FS, name, subject string) ([]lmeval.Doc, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	var out []lmeval.Doc
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 6 {
			return nil, fmt.Errorf("row %d: want 6 fields (question, A, B, C, D, answer), got %d", row, len(rec))
		}
		k := strings.Index("ABCD", rec[5])
		if k < 0 || len(rec[5]) != 1 {
			return nil, fmt.Errorf("row %d: answer %q is not one of A, B, C, D", row, rec[5])
		}
		out = append(out, lmeval.Doc{"question": rec[0], "subject": subject,
			"choices": []any{rec[1], rec[2], rec[3], rec[4]}, "answer": int64(k)})
	}
	return out, nil
}

// arcDoc turns an ARC row into allenai/ai2_arc's schema {id, question,
// choices: {text, label}, answerKey}: the original {id, question: {stem,
// choices: [{text, label}]}, answerKey}, or the llm-foundry cut stored in
// the binary {query: "Question: …", choices, gold} (labels become A, B, …).
func arcDoc(line int, d lmeval.Doc) (lmeval.Doc, error) {
	if q, ok := d["question"].(map[string]any); ok {
		stem, err := str(q, "stem")
		if err != nil {
			return nil, fmt.Errorf("question: %w", err)
		}
		cs, ok := q["choices"].([]any)
		if !ok || len(cs) == 0 {
			return nil, fmt.Errorf("question.choices must be a non-empty list")
		}
		var texts, labels []any
		for i, c := range cs {
			cm, ok := c.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("question.choices[%d] must be an object {text, label}", i)
			}
			t, err := str(cm, "text")
			if err != nil {
				return nil, fmt.Errorf("question.choices[%d]: %w", i, err)
			}
			l, err := str(cm, "label")
			if err != nil {
				return nil, fmt.Errorf("question.choices[%d]: %w", i, err)
			}
			texts, labels = append(texts, t), append(labels, l)
		}
		key, err := str(d, "answerKey")
		if err != nil {
			return nil, err
		}
		id, _ := d["id"].(string)
		return lmeval.Doc{"id": id, "question": stem, "choices": map[string]any{"text": texts, "label": labels}, "answerKey": key}, nil
	}
	query, err := str(d, "query")
	if err != nil {
		return nil, fmt.Errorf("neither the original ARC schema (question.stem) nor the stored cut (query): %w", err)
	}
	cs, err := strs(d["choices"], "choices")
	if err != nil {
		return nil, err
	}
	gold, ok := d["gold"].(int64)
	if !ok || gold < 0 || int(gold) >= len(cs) {
		return nil, fmt.Errorf("field gold must index the %d choices, got %v", len(cs), d["gold"])
	}
	labels := make([]any, len(cs))
	for i := range cs {
		labels[i] = string(rune('A' + i))
	}
	return lmeval.Doc{"id": fmt.Sprintf("line-%d", line), "question": strings.TrimPrefix(query, "Question: "),
		"choices": map[string]any{"text": cs, "label": labels}, "answerKey": labels[gold]}, nil
}

// readHellaSwagText reads the llama.cpp cut stored in the binary: six lines
// per item ("activity_label: ctx", label, four endings), preprocessing
// already applied. It becomes a row whose process_docs output is the same
// text: ctx_a = ctx, ctx_b = "" (preprocess strips the trailing space).
func readHellaSwagText(fsys fs.FS, name string) ([]lmeval.Doc, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines)%6 != 0 {
		return nil, fmt.Errorf("%d lines is not a multiple of 6 (context, label, 4 endings per item)", len(lines))
	}
	var out []lmeval.Doc
	for i := 0; i < len(lines); i += 6 {
		label, ctx, ok := strings.Cut(lines[i], ": ")
		if !ok {
			return nil, fmt.Errorf("line %d: want \"activity_label: context\"", i+1)
		}
		gold := strings.TrimSpace(lines[i+1])
		if len(gold) != 1 || gold[0] < '0' || gold[0] > '3' {
			return nil, fmt.Errorf("line %d: label %q is not 0-3", i+2, lines[i+1])
		}
		ends := make([]any, 4)
		for j := range ends {
			ends[j] = lines[i+2+j]
		}
		out = append(out, lmeval.Doc{"ind": int64(i / 6), "activity_label": label, "ctx_a": ctx, "ctx_b": "",
			"ctx": ctx, "endings": ends, "label": gold, "split": "val", "split_type": "indomain", "source_id": ""})
	}
	return out, nil
}

func gsm8kDoc(_ int, d lmeval.Doc) (lmeval.Doc, error) {
	q, err := str(d, "question")
	if err != nil {
		return nil, err
	}
	a, err := str(d, "answer")
	if err != nil {
		return nil, err
	}
	if !strings.Contains(a, "#### ") {
		return nil, fmt.Errorf("field answer has no \"#### \" before the final answer")
	}
	return lmeval.Doc{"question": q, "answer": a}, nil
}

// readTruthfulQA reads mc_task.json ({question, mc1_targets: {answer: 0|1},
// mc2_targets}) into truthful_qa multiple_choice rows {question,
// mc1_targets: {choices, labels}, mc2_targets}. Answer order is the file's
// (true answers first), so the object keys are read in order.
func readTruthfulQA(fsys fs.FS, name string) ([]lmeval.Doc, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var items []struct {
		Question string          `json:"question"`
		MC1      json.RawMessage `json:"mc1_targets"`
		MC2      json.RawMessage `json:"mc2_targets"`
	}
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, err
	}
	out := make([]lmeval.Doc, len(items))
	for i, it := range items {
		mc1, err := orderedTargets(it.MC1)
		if err != nil {
			return nil, fmt.Errorf("item %d: mc1_targets: %w", i, err)
		}
		mc2, err := orderedTargets(it.MC2)
		if err != nil {
			return nil, fmt.Errorf("item %d: mc2_targets: %w", i, err)
		}
		out[i] = lmeval.Doc{"question": it.Question, "mc1_targets": mc1, "mc2_targets": mc2}
	}
	return out, nil
}

func orderedTargets(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want an object {answer: 0 or 1}")
	}
	var choices, labels []any
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v int64
		if err := dec.Decode(&v); err != nil || (v != 0 && v != 1) {
			return nil, fmt.Errorf("answer %q: label must be 0 or 1", k)
		}
		choices, labels = append(choices, k.(string)), append(labels, v)
	}
	if len(choices) == 0 {
		return nil, fmt.Errorf("no answers")
	}
	return map[string]any{"choices": choices, "labels": labels}, nil
}

// readPIQA reads {goal, sol1, sol2} with labels from the line-aligned
// <split>-labels.lst beside it.
func readPIQA(fsys fs.FS, name string) ([]lmeval.Doc, error) {
	lname := strings.TrimSuffix(name, ".jsonl") + "-labels.lst"
	lb, err := fs.ReadFile(fsys, lname)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	labels := strings.Fields(string(lb))
	docs, err := readJSONLDocs(fsys, name, func(line int, d lmeval.Doc) (lmeval.Doc, error) {
		for _, k := range []string{"goal", "sol1", "sol2"} {
			if _, err := str(d, k); err != nil {
				return nil, err
			}
		}
		if line > len(labels) {
			return nil, fmt.Errorf("no label on line %d of %s", line, lname)
		}
		l, err := strconv.ParseInt(labels[line-1], 10, 64)
		if err != nil || (l != 0 && l != 1) {
			return nil, fmt.Errorf("%s line %d: label %q is not 0 or 1", lname, line, labels[line-1])
		}
		return lmeval.Doc{"goal": d["goal"], "sol1": d["sol1"], "sol2": d["sol2"], "label": l}, nil
	})
	if err != nil {
		return nil, err
	}
	if len(docs) != len(labels) {
		return nil, fmt.Errorf("%d rows but %d labels in %s", len(docs), len(labels), lname)
	}
	return docs, nil
}

func humanevalDoc(_ int, d lmeval.Doc) (lmeval.Doc, error) {
	for _, k := range []string{"task_id", "prompt", "canonical_solution", "test", "entry_point"} {
		if _, err := str(d, k); err != nil {
			return nil, err
		}
	}
	return d, nil
}
