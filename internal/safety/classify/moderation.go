package classify

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
)

// Moderation calls an OpenAI-compatible moderation endpoint:
//
//	POST {BaseURL}/moderations  {"model": …, "input": "…"}
//	→ {"id", "model", "results": [{"flagged", "categories": {name: bool}, "category_scores": {name: number}, …}]}
//
// as documented at https://platform.openai.com/docs/api-reference/moderations/create
// (BaseURL is "https://api.openai.com/v1" for OpenAI itself). The key goes in
// an "Authorization: Bearer" header and never into an error.
type Moderation struct {
	BaseURL string
	APIKey  string
	// Model is e.g. "omni-moderation-latest"; empty leaves it to the server.
	Model  string
	Client *http.Client
}

// ProtocolModeration names the protocol in errors.
const ProtocolModeration = "openai moderations"

type moderationRequest struct {
	Model string `json:"model,omitempty"`
	Input string `json:"input"`
}

type moderationResponse struct {
	Results []struct {
		Flagged        *bool              `json:"flagged"`
		Categories     map[string]bool    `json:"categories"`
		CategoryScores map[string]float64 `json:"category_scores"`
	} `json:"results"`
}

// Classify moderates in.Text().
func (m *Moderation) Classify(ctx context.Context, in Input) (Result, error) {
	c := call{protocol: ProtocolModeration, client: m.Client, url: trimBase(m.BaseURL) + "/moderations", secret: m.APIKey, header: http.Header{}}
	if m.APIKey != "" {
		c.header.Set("Authorization", "Bearer "+m.APIKey)
	}
	b, err := c.post(ctx, moderationRequest{Model: m.Model, Input: in.Text()})
	if err != nil {
		return Result{}, err
	}
	var r moderationResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	if len(r.Results) != 1 {
		return Result{}, c.badReply(b, "want 1 result for 1 input, got %d", len(r.Results))
	}
	x := r.Results[0]
	if x.Flagged == nil || x.CategoryScores == nil {
		return Result{}, c.badReply(b, `no "flagged" or "category_scores"`)
	}
	res := Result{Flagged: *x.Flagged, Scores: map[string]float64{}, Raw: string(b)}
	for k, v := range x.CategoryScores {
		if err := score(k, v); err != nil {
			return Result{}, c.badReply(b, "%v", err)
		}
		res.Scores[k] = v
	}
	for k, on := range x.Categories {
		if on {
			res.Categories = append(res.Categories, k)
		}
	}
	slices.Sort(res.Categories)
	return res, nil
}
