package classify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Labels says how a sequence classifier's labels read as safety categories.
type Labels struct {
	// Toxic are the labels that mean unsafe ("toxic", "LABEL_1", …); the
	// text is flagged when one of them scores at least Threshold. Required:
	// which label means toxic differs from model to model.
	Toxic []string
	// Threshold is the flagging score; 0 means DefaultThreshold.
	Threshold float64
}

func (l Labels) check(protocol string) error {
	if len(l.Toxic) == 0 {
		return fmt.Errorf("%s: no toxic labels configured; name the model's label(s) that mean toxic (its config.json id2label)", protocol)
	}
	return nil
}

// flag fills Flagged and Categories from Scores; a toxic label the model
// did not return is an error, never a 0.
func (l Labels) flag(res *Result) error {
	th := l.Threshold
	if th == 0 {
		th = DefaultThreshold
	}
	for _, lab := range l.Toxic {
		s, ok := res.Scores[lab]
		if !ok {
			have := make([]string, 0, len(res.Scores))
			for k := range res.Scores {
				have = append(have, k)
			}
			slices.Sort(have)
			return fmt.Errorf("toxic label %q is not among the model's labels %q", lab, have)
		}
		if s >= th {
			res.Flagged = true
			res.Categories = append(res.Categories, lab)
		}
	}
	slices.Sort(res.Categories)
	return nil
}

// TEI calls a sequence-classification model served by Hugging Face
// text-embeddings-inference:
//
//	POST {BaseURL}/predict  {"inputs": "…"}
//	→ [{"label": "toxic", "score": 0.93}, {"label": "non-toxic", "score": 0.07}]
//
// as its OpenAPI description gives it (https://huggingface.github.io/text-embeddings-inference/,
// PredictRequest / PredictResponse / ErrorResponse). Scores are TEI's
// (softmax, or sigmoid for multi-label models).
type TEI struct {
	BaseURL string
	// APIKey is sent as a bearer token when TEI runs with --api-key.
	APIKey string
	Labels Labels
	Client *http.Client
}

// ProtocolTEI names the protocol in errors.
const ProtocolTEI = "tei predict"

type prediction struct {
	Label *string  `json:"label"`
	Score *float64 `json:"score"`
}

// Classify scores in.Text().
func (t *TEI) Classify(ctx context.Context, in Input) (Result, error) {
	if err := t.Labels.check(ProtocolTEI); err != nil {
		return Result{}, err
	}
	c := call{protocol: ProtocolTEI, client: t.Client, url: trimBase(t.BaseURL) + "/predict", secret: t.APIKey, header: http.Header{}}
	if t.APIKey != "" {
		c.header.Set("Authorization", "Bearer "+t.APIKey)
	}
	b, err := c.post(ctx, map[string]any{"inputs": in.Text()})
	if err != nil {
		return Result{}, err
	}
	var preds []prediction
	if err := json.Unmarshal(b, &preds); err != nil {
		// A batch reply is a list of lists; one input gives one list.
		var batch [][]prediction
		if json.Unmarshal(b, &batch) != nil || len(batch) != 1 {
			return Result{}, c.badReply(b, "want a list of {label, score}: %v", err)
		}
		preds = batch[0]
	}
	if len(preds) == 0 {
		return Result{}, c.badReply(b, "no predictions")
	}
	res := Result{Scores: map[string]float64{}, Raw: string(b)}
	for _, p := range preds {
		if p.Label == nil || p.Score == nil {
			return Result{}, c.badReply(b, "a prediction without label or score")
		}
		if err := score(*p.Label, *p.Score); err != nil {
			return Result{}, c.badReply(b, "%v (raw_scores must be off)", err)
		}
		res.Scores[*p.Label] = *p.Score
	}
	if err := t.Labels.flag(&res); err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	return res, nil
}

// VLLMClassify calls vLLM's classification route for a sequence classifier:
//
//	POST {BaseURL}/classify  {"model": …, "input": "…"}
//	→ {"id", "object": "list", "created", "model",
//	   "data": [{"index": 0, "label": "toxic", "probs": [0.07, 0.93], "num_classes": 2}], "usage": …}
//
// as vLLM documents it (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html#classification-api,
// example client https://docs.vllm.ai/en/latest/examples/pooling/classify/). probs are by
// class index, so Names gives the model's id2label in index order; without
// it classes are named "LABEL_0", "LABEL_1", … as transformers does by
// default. BaseURL is the server root (the route is /classify, not under /v1).
type VLLMClassify struct {
	BaseURL string
	APIKey  string
	Model   string
	// Names are the class names by index (config.json id2label).
	Names  []string
	Labels Labels
	Client *http.Client
}

// ProtocolVLLMClassify names the protocol in errors.
const ProtocolVLLMClassify = "vllm classify"

type vllmClassifyResponse struct {
	Data []struct {
		Index      int       `json:"index"`
		Label      string    `json:"label"`
		Probs      []float64 `json:"probs"`
		NumClasses int       `json:"num_classes"`
	} `json:"data"`
}

// Classify scores in.Text().
func (v *VLLMClassify) Classify(ctx context.Context, in Input) (Result, error) {
	if err := v.Labels.check(ProtocolVLLMClassify); err != nil {
		return Result{}, err
	}
	c := call{protocol: ProtocolVLLMClassify, client: v.Client, url: trimBase(v.BaseURL) + "/classify", secret: v.APIKey, header: http.Header{}}
	if v.APIKey != "" {
		c.header.Set("Authorization", "Bearer "+v.APIKey)
	}
	b, err := c.post(ctx, map[string]any{"model": v.Model, "input": in.Text()})
	if err != nil {
		return Result{}, err
	}
	var r vllmClassifyResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	if len(r.Data) != 1 {
		return Result{}, c.badReply(b, "want 1 result for 1 input, got %d", len(r.Data))
	}
	d := r.Data[0]
	if len(d.Probs) == 0 || (d.NumClasses != 0 && d.NumClasses != len(d.Probs)) {
		return Result{}, c.badReply(b, "probs has %d values for num_classes %d", len(d.Probs), d.NumClasses)
	}
	if v.Names != nil && len(v.Names) != len(d.Probs) {
		return Result{}, c.badReply(b, "%d class names configured, the model has %d classes", len(v.Names), len(d.Probs))
	}
	res := Result{Scores: map[string]float64{}, Raw: string(b)}
	for i, p := range d.Probs {
		name := fmt.Sprintf("LABEL_%d", i)
		if v.Names != nil {
			name = v.Names[i]
		}
		if err := score(name, p); err != nil {
			return Result{}, c.badReply(b, "%v", err)
		}
		res.Scores[name] = p
	}
	// The server's own label is its argmax; a mismatch means Names is in
	// the wrong order.
	if v.Names != nil && d.Label != "" && !slices.Contains(v.Names, d.Label) {
		return Result{}, c.badReply(b, "server label %q is not among the configured names %q", d.Label, v.Names)
	}
	if v.Names != nil && d.Label != "" && res.Scores[d.Label] != slices.Max(d.Probs) {
		return Result{}, c.badReply(b, "server label %q is not the highest-scoring class under the configured names %q; check their order", d.Label, v.Names)
	}
	if err := v.Labels.flag(&res); err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	return res, nil
}
