package leakage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// SplitJob is one `tunecheck data split`: read Input, split it, write the
// parts under OutDir with a manifest, and check the result for leaks.
type SplitJob struct {
	Input  string
	Read   ReadOptions
	OutDir string
	Split  SplitOptions
	// Check runs exact and MinHash checks on every train/test pair written
	// (Methods in CheckOptions are replaced by exact,minhash).
	Check        bool
	CheckOptions Options
}

// SplitPart is one written train/test pair and what the check found in it.
type SplitPart struct {
	Name   string   `json:"name"` // "" for a single split, "fold-1" … for kfold
	Train  string   `json:"train"`
	Test   string   `json:"test"`
	Rows   [2]int   `json:"rows"` // train, test
	Check  *Summary `json:"check,omitempty"`
	report *Report
}

// SplitReport is written to OutDir/split.json (no timestamps, so the same
// input and options give the same bytes) and printed.
type SplitReport struct {
	Input       string       `json:"input"`
	InputSHA256 string       `json:"input_sha256"`
	Rows        int          `json:"rows"`
	Options     SplitOptions `json:"options"`
	Counts      []int        `json:"counts"`
	Parts       []SplitPart  `json:"parts"`
	Config      *Config      `json:"check_config,omitempty"`
	Manifest    string       `json:"-"`
}

// Reports returns the leakage report of each part (nil when not checked).
func (r *SplitReport) Reports() []*Report {
	out := make([]*Report, len(r.Parts))
	for i, p := range r.Parts {
		out[i] = p.report
	}
	return out
}

// RunSplit performs a SplitJob. The rows are held in memory (a split must
// see all of them to shuffle); each line is written back byte for byte.
func RunSplit(ctx context.Context, job SplitJob) (*SplitReport, error) {
	f, err := OpenFile(job.Input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	ro := job.Read
	ro.KeepRaw = true
	var rows []SplitRow
	needField := func(d Doc, name, flag string) (string, error) {
		if name == "" {
			return "", nil
		}
		if len(d.Raw) == 0 || bytes.TrimSpace(d.Raw)[0] != '{' {
			return "", fmt.Errorf("%s line %d: %s %q needs JSONL rows", job.Input, d.Line, flag, name)
		}
		v, ok, err := Field(d.Raw, name)
		if err != nil {
			return "", fmt.Errorf("%s line %d: %w", job.Input, d.Line, err)
		}
		if !ok {
			return "", fmt.Errorf("%s line %d: field %q (%s) is missing", job.Input, d.Line, name, flag)
		}
		return v, nil
	}
	err = ReadDocs(io.TeeReader(f, h), job.Input, ro, func(d Doc) error {
		r := SplitRow{Line: d.Line, Raw: d.Raw}
		var err error
		if job.Split.Method == SplitStratified {
			if r.Label, err = needField(d, job.Split.LabelField, "--label"); err != nil {
				return err
			}
		}
		if job.Split.Method == SplitGrouped || job.Split.Method == SplitKFold {
			if r.Group, err = needField(d, job.Split.GroupField, "--group"); err != nil {
				return err
			}
		}
		if job.Split.Method == SplitChronological {
			if r.Time, err = needField(d, job.Split.TimeField, "--time"); err != nil {
				return err
			}
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res, err := Split(rows, job.Split)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", job.Input, err)
	}
	rep := &SplitReport{Input: job.Input, InputSHA256: hex.EncodeToString(h.Sum(nil)), Rows: len(rows), Options: res.Options, Counts: res.Counts,
		Manifest: filepath.Join(job.OutDir, "split.json")}
	if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
		return nil, err
	}
	// Part p of the result is the test side of pair p (kfold), or pair 0 is
	// train = part 0, test = part 1.
	pairs := []struct {
		name     string
		testPart int
	}{{"", 1}}
	if res.Options.Method == SplitKFold {
		pairs = pairs[:0]
		for k := range res.Parts {
			pairs = append(pairs, struct {
				name     string
				testPart int
			}{fmt.Sprintf("fold-%d", k+1), k})
		}
	}
	copt := job.CheckOptions
	copt.Methods = []string{MethodExact, MethodMinHash}
	copt.Within = true
	for _, pr := range pairs {
		dir := filepath.Join(job.OutDir, pr.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		var trainBuf, testBuf bytes.Buffer
		part := SplitPart{Name: pr.name, Train: filepath.Join(dir, "train.jsonl"), Test: filepath.Join(dir, "test.jsonl")}
		for i, r := range rows {
			buf := &trainBuf
			if res.Assign[i] == pr.testPart {
				buf = &testBuf
				part.Rows[1]++
			} else {
				part.Rows[0]++
			}
			buf.Write(r.Raw)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(part.Train, trainBuf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(part.Test, testBuf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		if job.Check {
			rd := job.Read
			test := StringSource(part.Test, testBuf.String(), rd)
			cr, err := Check(ctx, StringSource(part.Train, trainBuf.String(), rd), &test, copt)
			if err != nil {
				return nil, err
			}
			part.Check = &cr.Summary
			part.report = cr
			rep.Config = &cr.Config
		}
		rep.Parts = append(rep.Parts, part)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(rep.Manifest, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return rep, nil
}

// WriteSplitText prints what was written and the findings of the checks.
func WriteSplitText(w io.Writer, r *SplitReport, maxPairs int) error {
	ew := &errWriter{w: w}
	o := r.Options
	ew.printf("split %s (%d rows, sha256 %s…): %s, seed %d", r.Input, r.Rows, r.InputSHA256[:12], o.Method, o.Seed)
	switch o.Method {
	case SplitKFold:
		ew.printf(", %d folds", o.Folds)
	default:
		ew.printf(", test fraction %.2f", o.TestFraction)
	}
	for _, f := range []struct{ flag, v string }{{"label", o.LabelField}, {"group", o.GroupField}, {"time", o.TimeField}} {
		if f.v != "" {
			ew.printf(", %s field %s", f.flag, f.v)
		}
	}
	ew.printf("\n")
	for _, p := range r.Parts {
		name := p.Name
		if name == "" {
			name = "split"
		}
		ew.printf("%s: %s (%d rows), %s (%d rows)", name, p.Train, p.Rows[0], p.Test, p.Rows[1])
		if p.Check != nil {
			s := p.Check
			var within []string
			for _, k := range sortedKeys(s.Within) {
				within = append(within, fmt.Sprintf("%s %d", k, s.Within[k]))
			}
			ew.printf("\n  check: %d of %d test rows have a duplicate in train (exact %d, near %d)", s.LeakedAny, s.TestItems, s.Leaked[KindExact], s.Leaked[KindNear])
			if len(within) > 0 {
				ew.printf("; pairs within a split: %s", strings.Join(within, ", "))
			}
		}
		ew.printf("\n")
	}
	if ew.err != nil {
		return ew.err
	}
	for _, p := range r.Parts {
		if p.report == nil || len(p.report.Pairs) == 0 {
			continue
		}
		ew.printf("\nfindings in %s:\n", p.Test)
		for i, pr := range p.report.Pairs {
			if maxPairs > 0 && i >= maxPairs {
				ew.printf("… %d more pairs\n", len(p.report.Pairs)-i)
				break
			}
			ew.printf("%-6s %-12s %.3f  %s:%d [%s] ~ %s:%d [%s]  %s\n", pr.Kind, pr.Scope, pr.Similarity,
				pr.A.Split, pr.A.Line, pr.A.ID, pr.B.Split, pr.B.Line, pr.B.ID, oneLine(pr.B.Text, 60))
		}
	}
	ew.printf("manifest: %s\n", r.Manifest)
	return ew.err
}
