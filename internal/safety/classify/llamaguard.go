package classify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// LlamaGuard asks a Llama Guard 3 or 4 model served as a chat model by an
// OpenAI-compatible server (vLLM, Ollama's /v1) to classify a conversation:
//
//	POST {BaseURL}/chat/completions
//	{"model": …, "messages": [{"role": "user", …}, {"role": "assistant", …}], "temperature": 0, "max_tokens": …}
//	→ {"choices": [{"message": {"role": "assistant", "content": "unsafe\nS1,S10"}, …}], …}
//
// Request and response follow https://platform.openai.com/docs/api-reference/chat/create
// as vLLM serves it (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html)
// and Ollama does (https://github.com/ollama/ollama/blob/main/docs/openai.md).
// The prompt is not built here: the server applies the model's own chat
// template, which holds the task, the S1–S14 policy and the output format of
// Meta's model card (https://github.com/meta-llama/PurpleLlama/blob/main/Llama-Guard3/8B/MODEL_CARD.md,
// https://www.llama.com/docs/model-cards-and-prompt-formats/llama-guard-3/).
// With a response, the template asks about the last (assistant) turn; with
// a prompt only, about the user's turn.
type LlamaGuard struct {
	BaseURL string
	APIKey  string
	Model   string
	Client  *http.Client
	// ContentParts sends each message's content as [{"type": "text", "text": …}]
	// instead of a string, as Llama Guard 4's chat template expects where
	// the server does not convert.
	ContentParts bool
	// MaxTokens bounds the verdict's length; 0 means 20.
	MaxTokens int
}

// ProtocolLlamaGuard names the protocol in errors.
const ProtocolLlamaGuard = "llama guard chat"

// Hazards are Llama Guard 3's categories, as its model card names them
// (MLCommons' 13 hazards and Code Interpreter Abuse); Llama Guard 4 uses the
// same codes.
var Hazards = map[string]string{
	"S1":  "Violent Crimes",
	"S2":  "Non-Violent Crimes",
	"S3":  "Sex-Related Crimes",
	"S4":  "Child Sexual Exploitation",
	"S5":  "Defamation",
	"S6":  "Specialized Advice",
	"S7":  "Privacy",
	"S8":  "Intellectual Property",
	"S9":  "Indiscriminate Weapons",
	"S10": "Hate",
	"S11": "Suicide & Self-Harm",
	"S12": "Sexual Content",
	"S13": "Elections",
	"S14": "Code Interpreter Abuse",
}

type chatPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
	Stream      bool          `json:"stream"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

func (g *LlamaGuard) content(s string) any {
	if g.ContentParts {
		return []chatPart{{Type: "text", Text: s}}
	}
	return s
}

// Classify asks about in.Response (with in.Prompt as the user turn) or, when
// there is no response, about in.Prompt.
func (g *LlamaGuard) Classify(ctx context.Context, in Input) (Result, error) {
	c := call{protocol: ProtocolLlamaGuard, client: g.Client, url: trimBase(g.BaseURL) + "/chat/completions", secret: g.APIKey, header: http.Header{}}
	if g.APIKey != "" {
		c.header.Set("Authorization", "Bearer "+g.APIKey)
	}
	msgs := []chatMessage{{Role: "user", Content: g.content(in.Prompt)}}
	if in.Response != "" {
		msgs = append(msgs, chatMessage{Role: "assistant", Content: g.content(in.Response)})
	}
	max := g.MaxTokens
	if max == 0 {
		max = 20
	}
	b, err := c.post(ctx, chatRequest{Model: g.Model, Messages: msgs, MaxTokens: max})
	if err != nil {
		return Result{}, err
	}
	var r chatResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	if len(r.Choices) == 0 || r.Choices[0].Message.Content == nil {
		return Result{}, c.badReply(b, "no choices[0].message.content")
	}
	res, err := ParseLlamaGuard(*r.Choices[0].Message.Content)
	if err != nil {
		return Result{}, c.badReply(b, "%v", err)
	}
	res.Raw = string(b)
	return res, nil
}

var hazardCode = regexp.MustCompile(`^S[1-9][0-9]*$`)

// ParseLlamaGuard reads Llama Guard's verdict: "safe", or "unsafe" and on the
// next line the violated categories, comma-separated ("unsafe\nS1,S10").
// Anything else is an error, never "safe". Scores has "unsafe" (1 or 0) and
// 1 for each violated category; Categories are the codes in numeric order
// (HazardName gives their names).
func ParseLlamaGuard(out string) (Result, error) {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(out, "\r\n", "\n")), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	switch {
	case len(lines) == 1 && lines[0] == "safe":
		return Result{Scores: map[string]float64{"unsafe": 0}, Raw: out}, nil
	case lines[0] != "unsafe":
		return Result{}, fmt.Errorf("llama guard verdict %q is neither \"safe\" nor \"unsafe\"", clip(out))
	case len(lines) != 2 || lines[1] == "":
		return Result{}, fmt.Errorf(`llama guard verdict %q: want "unsafe" and one line of categories`, clip(out))
	}
	res := Result{Flagged: true, Scores: map[string]float64{"unsafe": 1}, Raw: out}
	for _, f := range strings.Split(lines[1], ",") {
		code := strings.TrimSpace(f)
		if !hazardCode.MatchString(code) {
			return Result{}, fmt.Errorf("llama guard verdict %q: %q is not a category code (S1, S2, …)", clip(out), code)
		}
		if _, dup := res.Scores[code]; !dup {
			res.Scores[code] = 1
			res.Categories = append(res.Categories, code)
		}
	}
	slices.SortFunc(res.Categories, func(a, b string) int {
		x, _ := strconv.Atoi(a[1:])
		y, _ := strconv.Atoi(b[1:])
		return x - y
	})
	return res, nil
}

// HazardName is a category's name ("S10" → "Hate"), or the code itself for a
// code outside Llama Guard 3's taxonomy (a custom policy's).
func HazardName(code string) string {
	if n, ok := Hazards[code]; ok {
		return n
	}
	return code
}

func clip(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}
