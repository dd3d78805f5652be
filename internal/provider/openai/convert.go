package openai

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// echoHelp is the advice attached to every "no prompt logprobs" error.
const echoHelp = "this endpoint does not return prompt logprobs with echo; multiple-choice scores would be chance-level; " +
	"serve the model with vLLM (or llama-cpp-python's server); llama.cpp's llama-server, Ollama and hosted chat APIs " +
	"return logprobs for generated tokens only"

// ChatMessage is one turn of a chat completion request.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is the body of POST /chat/completions, with only the fields
// tunecheck sends. Pointers and omitempty keep unset parameters off the wire,
// so the server's defaults apply; an explicit zero (temperature 0, seed 0) is sent.
type ChatRequest struct {
	Model       string        `json:"model"`
	Messages    []ChatMessage `json:"messages"`
	Temperature *float64      `json:"temperature,omitempty"`
	TopP        *float64      `json:"top_p,omitempty"`
	MaxTokens   int           `json:"max_tokens,omitempty"`
	// MaxCompletionTokens replaces MaxTokens for api.openai.com (see Provider).
	MaxCompletionTokens int      `json:"max_completion_tokens,omitempty"`
	Stop                []string `json:"stop,omitempty"`
	Seed                *int64   `json:"seed,omitempty"`
	N                   int      `json:"n,omitempty"`
	Logprobs            bool     `json:"logprobs,omitempty"`
	TopLogprobs         int      `json:"top_logprobs,omitempty"`
}

// CompletionRequest is the body of POST /completions (the legacy text
// completions API that vLLM, llama.cpp and TGI still serve).
type CompletionRequest struct {
	Model       string   `json:"model"`
	Prompt      string   `json:"prompt"`
	Echo        bool     `json:"echo,omitempty"`
	Logprobs    int      `json:"logprobs,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	N           int      `json:"n,omitempty"`
}

// ChatParams converts a request into a chat completion body. System comes
// first, then Messages; a request without Messages sends Prompt as one user turn.
func ChatParams(model string, req provider.Request) ChatRequest {
	msgs := make([]ChatMessage, 0, len(req.Messages)+1)
	if req.System != "" {
		msgs = append(msgs, ChatMessage{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "assistant":
			msgs = append(msgs, ChatMessage{Role: m.Role, Content: m.Content})
		default:
			// "user" and anything a dataset calls its human turn ("human", "prompt").
			msgs = append(msgs, ChatMessage{Role: "user", Content: m.Content})
		}
	}
	if len(req.Messages) == 0 {
		msgs = append(msgs, ChatMessage{Role: "user", Content: req.Prompt})
	}
	g := req.Params
	p := ChatRequest{Model: model, Messages: msgs, Temperature: g.Temperature, TopP: g.TopP, Seed: g.Seed}
	if g.MaxTokens > 0 {
		// max_tokens rather than max_completion_tokens: every compatible server knows it.
		p.MaxTokens = g.MaxTokens
	}
	if len(g.Stop) > 0 {
		p.Stop = g.Stop
	}
	if g.N > 1 {
		p.N = g.N
	}
	if g.Logprobs > 0 {
		p.Logprobs = true
		p.TopLogprobs = g.Logprobs
	}
	return p
}

// CompletionParams converts a generate request into a /completions body.
func CompletionParams(model string, req provider.Request) CompletionRequest {
	g := req.Params
	p := CompletionRequest{Model: model, Prompt: req.Prompt, Temperature: g.Temperature, TopP: g.TopP, Seed: g.Seed}
	if g.MaxTokens > 0 {
		p.MaxTokens = g.MaxTokens
	}
	if len(g.Stop) > 0 {
		p.Stop = g.Stop
	}
	if g.N > 1 {
		p.N = g.N
	}
	if g.Logprobs > 0 {
		p.Logprobs = g.Logprobs
	}
	return p
}

// EchoParams builds the scoring body the way lm-evaluation-harness's
// local-completions does: prompt = context + continuation, echo=true,
// logprobs=1 (the top-1 alternative decides greediness), max_tokens=1
// (servers reject 0 more often than they accept it) and temperature 0.
func EchoParams(model string, req provider.Request) (CompletionRequest, error) {
	prompt := req.Prompt
	switch req.Type {
	case provider.Loglikelihood:
		if req.Prompt == "" {
			// The first prompt token never has a logprob, so an empty context
			// would leave the first continuation token unscored.
			return CompletionRequest{}, provider.Invalid("openai loglikelihood: item %s has an empty context; the first token of a prompt has no logprob, so the context must not be empty", req.ItemID)
		}
		if req.Continuation == "" {
			return CompletionRequest{}, provider.Invalid("openai loglikelihood: item %s has an empty continuation", req.ItemID)
		}
		prompt += req.Continuation
	case provider.LoglikelihoodRolling:
		if req.Prompt == "" {
			return CompletionRequest{}, provider.Invalid("openai loglikelihood_rolling: item %s has an empty prompt", req.ItemID)
		}
	}
	zero := 0.0
	return CompletionRequest{
		Model:       model,
		Prompt:      prompt,
		Echo:        true,
		Logprobs:    1,
		MaxTokens:   1,
		Temperature: &zero,
		Seed:        req.Params.Seed,
	}, nil
}

// The answers are decoded into these lean wire types, which read only what
// tunecheck uses; the echo logprobs need their nulls kept.

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type wireChat struct {
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string        `json:"finish_reason"`
		Logprobs     *wireLogprobs `json:"logprobs"`
	} `json:"choices"`
	Usage *wireUsage `json:"usage"`
}

type wireCompletion struct {
	Model   string                 `json:"model"`
	Choices []wireCompletionChoice `json:"choices"`
	Usage   *wireUsage             `json:"usage"`
}

type wireCompletionChoice struct {
	Index        int           `json:"index"`
	Text         string        `json:"text"`
	FinishReason string        `json:"finish_reason"`
	Logprobs     *wireLogprobs `json:"logprobs"`
}

// wireLogprobs reads a choice's logprobs in either shape servers send:
// the legacy completions arrays (tokens, token_logprobs, top_logprobs,
// text_offset: OpenAI, vLLM) or the per-token list under content (every
// chat API, and llama.cpp's llama-server on /completions too). keys lists
// the object's keys, so that a shape neither reader knows is an error.
type wireLogprobs struct {
	EchoLogprobs
	Content []wireTokenLogprob `json:"content"`
	keys    []string
}

// wireTokenLogprob is one entry of the per-token list. Logprob is a pointer:
// llama-server writes a logprob of -inf as null.
type wireTokenLogprob struct {
	Token       string   `json:"token"`
	Logprob     *float64 `json:"logprob"`
	TopLogprobs []struct {
		Token   string   `json:"token"`
		Logprob *float64 `json:"logprob"`
	} `json:"top_logprobs"`
}

func (l *wireLogprobs) UnmarshalJSON(b []byte) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	type plain wireLogprobs // without this method
	if err := json.Unmarshal(b, (*plain)(l)); err != nil {
		return err
	}
	l.keys = make([]string, 0, len(keys))
	for k := range keys {
		l.keys = append(l.keys, k)
	}
	slices.Sort(l.keys)
	return nil
}

// tokens converts the generated tokens' logprobs, whichever shape they came
// in. A null or empty object is no logprobs; an object with keys neither
// shape has, or legacy arrays of different lengths, is an error: dropping
// logprobs the caller asked for would turn a judge's soft score into a hard
// one without a word.
func (l *wireLogprobs) tokens() ([]provider.TokenLogprob, *provider.Error) {
	if l == nil {
		return nil, nil
	}
	switch {
	case slices.Contains(l.keys, "content"):
		out := make([]provider.TokenLogprob, 0, len(l.Content))
		for i, t := range l.Content {
			if t.Logprob == nil {
				return nil, provider.Malformed("logprobs.content[%d] (token %q) has a null logprob", i, t.Token)
			}
			tl := provider.TokenLogprob{Token: t.Token, Logprob: *t.Logprob}
			// The alternatives at this position (top_logprobs): a judge's
			// soft preference is the mass on its verdict tokens.
			for _, alt := range t.TopLogprobs {
				if alt.Logprob != nil { // an alternative of probability 0 adds nothing
					tl.Top = append(tl.Top, provider.TokenLogprob{Token: alt.Token, Logprob: *alt.Logprob})
				}
			}
			out = append(out, tl)
		}
		return out, nil
	case slices.Contains(l.keys, "token_logprobs"):
		lp := l.EchoLogprobs
		if len(lp.Tokens) != len(lp.TokenLogprobs) || (lp.TopLogprobs != nil && len(lp.TopLogprobs) != len(lp.TokenLogprobs)) {
			return nil, provider.Malformed("logprobs arrays differ in length (tokens %d, token_logprobs %d, top_logprobs %d)", len(lp.Tokens), len(lp.TokenLogprobs), len(lp.TopLogprobs))
		}
		out := make([]provider.TokenLogprob, 0, len(lp.Tokens))
		for i, v := range lp.TokenLogprobs {
			if v == nil {
				continue // an echoed first prompt token has no logprob
			}
			tl := provider.TokenLogprob{Token: lp.Tokens[i], Logprob: *v}
			if i < len(lp.TopLogprobs) && len(lp.TopLogprobs[i]) > 0 {
				tl.Top = topFromMap(lp.TopLogprobs[i])
			}
			out = append(out, tl)
		}
		return out, nil
	case len(l.keys) == 0:
		return nil, nil
	}
	return nil, provider.Unsupported("logprobs came in a shape tunecheck cannot read (keys: %s); it reads the legacy arrays (tokens, token_logprobs) and the per-token list (content)", strings.Join(l.keys, ", "))
}

// topFromMap orders a legacy top_logprobs map most likely first (ties by
// token), so that the same answer always converts the same way.
func topFromMap(m map[string]float64) []provider.TokenLogprob {
	out := make([]provider.TokenLogprob, 0, len(m))
	for tok, v := range m {
		out = append(out, provider.TokenLogprob{Token: tok, Logprob: v})
	}
	slices.SortFunc(out, func(a, b provider.TokenLogprob) int {
		if c := cmp.Compare(b.Logprob, a.Logprob); c != 0 {
			return c
		}
		return strings.Compare(a.Token, b.Token)
	})
	return out
}

// LogprobFormat names the shape of a completion's logprobs: "legacy"
// (token_logprobs arrays), "per-token list" (content) or "" when the first
// choice has none.
func LogprobFormat(body []byte) string {
	var c wireCompletion
	if json.Unmarshal(body, &c) != nil || len(c.Choices) == 0 || c.Choices[0].Logprobs == nil {
		return ""
	}
	keys := c.Choices[0].Logprobs.keys
	switch {
	case slices.Contains(keys, "content"):
		return LogprobsPerToken
	case slices.Contains(keys, "token_logprobs"):
		return LogprobsLegacy
	}
	return ""
}

// The logprob formats LogprobFormat names.
const (
	LogprobsLegacy   = "legacy"
	LogprobsPerToken = "per-token list"
)

func (u *wireUsage) usage() provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	return provider.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
}

// ChatResponse converts a chat completion body.
func ChatResponse(body []byte) (provider.Response, *provider.Error) {
	var c wireChat
	if err := json.Unmarshal(body, &c); err != nil {
		return provider.Response{}, provider.Malformed("chat completion body (%d bytes): %v", len(body), err)
	}
	if len(c.Choices) == 0 {
		return provider.Response{}, provider.Malformed("no choices in the chat completion")
	}
	text := func(i int) string {
		m := c.Choices[i].Message
		if m.Content != nil {
			return *m.Content
		}
		if m.Refusal != nil {
			return *m.Refusal
		}
		return ""
	}
	r := provider.Response{
		Text:         text(0),
		FinishReason: c.Choices[0].FinishReason,
		Model:        c.Model,
		Usage:        c.Usage.usage(),
	}
	if len(c.Choices) > 1 {
		r.Texts = make([]string, len(c.Choices))
		for i, ch := range c.Choices {
			r.Texts[ch.Index%len(c.Choices)] = text(i)
		}
		r.Text = r.Texts[0]
	}
	lps, perr := c.Choices[0].Logprobs.tokens()
	if perr != nil {
		return provider.Response{}, perr
	}
	if len(lps) > 0 {
		r.Logprobs = lps
	}
	return r, nil
}

// CompletionResponse converts a text completion body (generate).
func CompletionResponse(body []byte) (provider.Response, *provider.Error) {
	var c wireCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		return provider.Response{}, provider.Malformed("completion body (%d bytes): %v", len(body), err)
	}
	if len(c.Choices) == 0 {
		return provider.Response{}, provider.Malformed("no choices in the completion")
	}
	r := provider.Response{
		Text:         c.Choices[0].Text,
		FinishReason: c.Choices[0].FinishReason,
		Model:        c.Model,
		Usage:        c.Usage.usage(),
	}
	if len(c.Choices) > 1 {
		r.Texts = make([]string, len(c.Choices))
		for _, ch := range c.Choices {
			r.Texts[ch.Index%len(c.Choices)] = ch.Text
		}
		r.Text = r.Texts[0]
	}
	lps, perr := c.Choices[0].Logprobs.tokens()
	if perr != nil {
		return provider.Response{}, perr
	}
	if len(lps) > 0 {
		r.Logprobs = lps
	}
	return r, nil
}

// EchoLogprobs is the legacy completions logprobs object, read with nulls
// kept: the first prompt token's logprob (and top_logprobs) is null.
type EchoLogprobs struct {
	TextOffset    []int                `json:"text_offset"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	Tokens        []string             `json:"tokens"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

// EchoResponse scores an echoed completion body for a loglikelihood request.
func EchoResponse(body []byte, req provider.Request) (provider.Response, *provider.Error) {
	var c wireCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		return provider.Response{}, provider.Malformed("completion body (%d bytes): %v", len(body), err)
	}
	if len(c.Choices) == 0 {
		return provider.Response{}, provider.Malformed("no choices in the completion")
	}
	ch := c.Choices[0]
	if ch.Logprobs == nil {
		return provider.Response{}, provider.Unsupported("the answer has no logprobs (logprobs=1 was ignored); %s", echoHelp)
	}
	if len(ch.Logprobs.TokenLogprobs) == 0 && ch.Logprobs.Content != nil {
		return provider.Response{}, provider.Unsupported(EchoIgnoredNote+": logprobs came back in the per-token list format (logprobs.content) for the %d generated token(s) only, as llama.cpp's llama-server answers; %s", len(ch.Logprobs.Content), echoHelp)
	}
	gen := 1 // we asked for max_tokens=1
	if c.Usage != nil {
		gen = c.Usage.CompletionTokens
	}
	prompt, cont := req.Prompt, req.Continuation
	if req.Type == provider.LoglikelihoodRolling {
		cont = prompt
	} else {
		prompt += cont
	}
	s, perr := ScoreEcho(ch.Logprobs.EchoLogprobs, prompt, cont, gen, req.Type == provider.LoglikelihoodRolling)
	if perr != nil {
		return provider.Response{}, perr
	}
	if c.Usage != nil && c.Usage.PromptTokens > 0 && s.PromptTokens < c.Usage.PromptTokens {
		return provider.Response{}, provider.Unsupported("logprobs cover %d of the %d prompt tokens; %s", s.PromptTokens, c.Usage.PromptTokens, echoHelp)
	}
	return provider.Response{
		LogLikelihood: s.LogLikelihood,
		IsGreedy:      s.IsGreedy,
		Tokens:        s.Tokens,
		FinishReason:  ch.FinishReason,
		Model:         c.Model,
		Usage:         c.Usage.usage(),
	}, nil
}

// EchoScore is what ScoreEcho found.
type EchoScore struct {
	LogLikelihood float64
	IsGreedy      bool
	// Tokens is the number of tokens summed.
	Tokens int
	// PromptTokens is the number of echoed prompt tokens.
	PromptTokens int
}

// ScoreEcho sums the logprobs of the echoed prompt tokens that cover the last
// len(continuation) characters of prompt. gen is the number of generated tokens
// at the end of lp (excluded). With rolling, every prompt token is summed except
// the first, which has no context and so no logprob.
//
// Positions come from text_offset, measured back from the end of the prompt
// (the offset of the first generated token, or the end of the last prompt
// token): a BOS token or a server that counts from another origin then does not
// shift the boundary. Offsets are characters (vLLM, OpenAI); a server counting
// bytes is recognised by the prompt's byte length. A token straddling the
// context/continuation boundary counts as continuation, so no continuation
// character goes unscored.
func ScoreEcho(lp EchoLogprobs, prompt, continuation string, gen int, rolling bool) (EchoScore, *provider.Error) {
	n := len(lp.TokenLogprobs)
	if n == 0 {
		return EchoScore{}, provider.Unsupported("the answer has no token logprobs; %s", echoHelp)
	}
	if len(lp.TextOffset) != n || (lp.Tokens != nil && len(lp.Tokens) != n) {
		return EchoScore{}, provider.Malformed("logprobs arrays differ in length (tokens %d, token_logprobs %d, text_offset %d)", len(lp.Tokens), n, len(lp.TextOffset))
	}
	if gen < 0 || gen > n {
		gen = 0
	}
	np := n - gen
	if np <= 0 {
		return EchoScore{}, provider.Unsupported("the logprobs cover only the %d generated token(s), not the prompt (echo=true was ignored); %s", gen, echoHelp)
	}
	runes := utf8.RuneCountInString(prompt)
	if lp.TextOffset[0] >= runes && runes > 0 {
		return EchoScore{}, provider.Unsupported("text_offset starts at %d, past the %d-character prompt (echo=true was ignored); %s", lp.TextOffset[0], runes, echoHelp)
	}
	var end int
	if gen > 0 {
		end = lp.TextOffset[np]
	} else {
		last := ""
		if lp.Tokens != nil {
			last = lp.Tokens[np-1]
		}
		end = lp.TextOffset[np-1] + utf8.RuneCountInString(last)
	}
	contLen := utf8.RuneCountInString(continuation)
	if span := end - lp.TextOffset[0]; span == len(prompt) && span != runes {
		contLen = len(continuation)
	}
	start := end - contLen
	s := EchoScore{IsGreedy: true, PromptTokens: np}
	for i := 0; i < np; i++ {
		tokEnd := end
		if i+1 < np {
			tokEnd = lp.TextOffset[i+1]
		}
		if !rolling && tokEnd <= start {
			continue // context token
		}
		v := lp.TokenLogprobs[i]
		if v == nil {
			if i == 0 && rolling {
				continue // the first token has no context
			}
			return EchoScore{}, provider.Unsupported("prompt token %d has a null logprob (prompt logprobs were not returned); %s", i, echoHelp)
		}
		s.LogLikelihood += *v
		s.Tokens++
		if s.IsGreedy {
			var top map[string]float64
			if i < len(lp.TopLogprobs) {
				top = lp.TopLogprobs[i]
			}
			if len(top) == 0 {
				s.IsGreedy = false
			}
			for _, alt := range top {
				if alt > *v {
					s.IsGreedy = false
					break
				}
			}
		}
	}
	if s.Tokens == 0 {
		return EchoScore{}, provider.Malformed("no echoed token covers the continuation %q (text_offset ends at %d)", continuation, end)
	}
	return s, nil
}
