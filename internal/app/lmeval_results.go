package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/safety/pii"
	"github.com/tunecheck/tunecheck/internal/store"
)

// lmSample is one line of lm-eval's samples_<task>.jsonl (--log_samples):
// the document, the requests' arguments, the model's raw and filtered
// responses, and each metric's value as fields of their own. Status and
// Error are tunecheck's: lm-eval has no failed items, tunecheck keeps them
// (and gives them no metric values).
type lmSample struct {
	DocID         int            `json:"doc_id"`
	Doc           any            `json:"doc"`
	Target        any            `json:"target"`
	Arguments     map[string]any `json:"arguments"`
	Resps         [][]any        `json:"resps"`
	FilteredResps []any          `json:"filtered_resps"`
	Filter        string         `json:"filter"`
	Metrics       []string       `json:"metrics"`
	DocHash       string         `json:"doc_hash"`
	PromptHash    string         `json:"prompt_hash"`
	TargetHash    string         `json:"target_hash"`
	Status        string         `json:"status,omitempty"`
	Error         string         `json:"error,omitempty"`
	metricValues  map[string]float64
}

// MarshalJSON writes the sample with its metric values after the fixed
// fields (sorted by name), as lm-eval writes them (example.update(metrics)).
func (s lmSample) MarshalJSON() ([]byte, error) {
	type plain lmSample
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plain(s)); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if len(s.metricValues) == 0 {
		return b, nil
	}
	names := make([]string, 0, len(s.metricValues))
	for k := range s.metricValues {
		names = append(names, k)
	}
	sort.Strings(names)
	b = b[:len(b)-1]
	for _, k := range names {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(s.metricValues[k])
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", k, err)
		}
		b = append(append(append(append(b, ','), kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeLMEval writes, per graded model, lm-eval's results JSON and one
// samples JSONL per task under outDir/lmeval/<model>/ (the model name with
// / and other unsafe characters as "__", as lm-eval names its folders),
// and returns the files written.
//
// With mask (--mask-pii) every text of a sample — the row, the target,
// the prompts, the answers, the error — has personal data and secrets
// masked as in the reports, before the hashes are taken.
func writeLMEval(outDir string, rep *report.Report, tasks []*builtTask, results []store.Result, now time.Time, mask bool) ([]string, error) {
	idx := indexResults(results)
	var files []string
	for _, model := range report.LMEvalModels(rep) {
		dir := filepath.Join(outDir, "lmeval", unsafeName.ReplaceAllString(model, "__"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return files, fmt.Errorf("--log-samples: %w", err)
		}
		res, ok := report.LMEval(rep, model, float64(now.UnixNano())/1e9)
		if !ok {
			continue
		}
		b, err := res.JSON()
		if err != nil {
			return files, err
		}
		path := filepath.Join(dir, "results_lmeval.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return files, fmt.Errorf("--log-samples: %w", err)
		}
		files = append(files, path)
		for _, bt := range tasks {
			var recs []report.Record
			var metrics []string
			for _, t := range rep.Tasks {
				if t.Name == bt.Name {
					recs, metrics = t.Records, t.Metrics
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			for i := range bt.Items {
				var out report.Outcome
				if i < len(recs) {
					out = recs[i].Outcomes[model]
				}
				s := lmSampleOf(bt, i, idx[model][bt.Name], out, metrics, mask)
				if err := enc.Encode(s); err != nil {
					return files, fmt.Errorf("--log-samples: task %s item %s: %w", bt.Name, bt.Items[i].ID, err)
				}
			}
			path := filepath.Join(dir, "samples_"+unsafeName.ReplaceAllString(bt.Name, "__")+".jsonl")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return files, fmt.Errorf("--log-samples: %w", err)
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// lmSampleOf is item i of bt for one model.
func lmSampleOf(bt *builtTask, i int, byKey map[stageKey]*store.Result, out report.Outcome, metrics []string, mask bool) lmSample {
	it := &bt.Items[i]
	s := lmSample{DocID: i, Filter: "none", Metrics: metrics, Arguments: map[string]any{}, Resps: [][]any{}, FilteredResps: []any{}}
	if s.Metrics == nil {
		s.Metrics = []string{}
	}
	if it.Fields != nil {
		s.Doc = it.Fields
	} else {
		s.Doc = map[string]any{"prompt": it.Prompt}
	}
	switch {
	case len(it.Choices) > 0 && it.Gold >= 0:
		s.Target = it.Gold
	case len(it.References) == 1:
		s.Target = it.References[0]
	case len(it.References) > 1:
		s.Target = it.References
	default:
		s.Target = ""
	}
	prompt := ""
	for k, req := range it.Requests {
		ctx := any(req.Prompt)
		if req.Prompt == "" && len(req.Messages) > 0 {
			ctx = req.Messages
		}
		if k == 0 {
			prompt = req.Asked()
		}
		var arg1 any = req.Params
		if req.Type == provider.Loglikelihood {
			arg1 = req.Continuation
		}
		s.Arguments[fmt.Sprintf("gen_args_%d", k)] = map[string]any{"arg_0": ctx, "arg_1": arg1}
	}
	resps, msg := responses(bt, it, byKey)
	for si, stage := range resps {
		for k, r := range stage {
			var raw, filtered any = r.Text, r.Text
			if si == 0 && k < len(it.Requests) && it.Requests[k].Type == provider.Loglikelihood {
				raw = []any{r.LogLikelihood, r.IsGreedy}
				filtered = raw
			}
			s.Resps = append(s.Resps, []any{raw})
			s.FilteredResps = append(s.FilteredResps, filtered)
		}
	}
	if out.Status != report.StatusOK {
		s.Status, s.Error = out.Status, out.Error
		if s.Status == "" {
			s.Status, s.Error = report.StatusFailed, msg
		}
	}
	if out.Scored() {
		s.metricValues = map[string]float64{}
		for _, m := range metrics {
			if v, ok := out.Scores[m]; ok {
				s.metricValues[m] = v
			}
		}
	}
	if mask {
		s.Doc, s.Target, prompt, s.Error = maskJSON(s.Doc), maskJSON(s.Target), pii.Mask(prompt), pii.Mask(s.Error)
		args, _ := maskJSON(s.Arguments).(map[string]any)
		s.Arguments = args
		for k := range s.Resps {
			s.Resps[k], _ = maskJSON(s.Resps[k]).([]any)
		}
		for k := range s.FilteredResps {
			s.FilteredResps[k] = maskJSON(s.FilteredResps[k])
		}
	}
	docJSON, _ := json.MarshalIndent(s.Doc, "", "  ")
	s.DocHash = sha(string(docJSON))
	s.PromptHash = sha(prompt)
	s.TargetHash = sha(fmt.Sprint(s.Target))
	return s
}

// maskJSON is v as JSON values with every string masked (pii.Mask).
func maskJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		return nil
	}
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			return pii.Mask(t)
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
		}
		return v
	}
	return walk(x)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
