package provider

import (
	"context"
	"fmt"
)

// Window configures rolling log-likelihood over token windows, as
// lm-evaluation-harness's API models (local-completions) compute
// loglikelihood_rolling: the document is tokenized without special tokens,
// cut into disjoint windows of at most MaxLength-2 scored tokens, the first
// conditioned on the prefix token alone and each later one on the tokens
// before it, up to MaxLength-1 tokens in all (one position is left for the
// token the completions call generates).
type Window struct {
	// MaxLength is the model's context length as lm-eval's max_length model
	// argument means it; 0 takes the server's max_model_len.
	MaxLength int `json:"max_length,omitempty"`
	// PrefixToken is the token id the first window conditions on (lm-eval's
	// custom_prefix_token_id); nil takes the tokenizer's BOS, found by
	// tokenizing the empty string with special tokens.
	PrefixToken *int `json:"prefix_token,omitempty"`
}

// SeqLen is the window length the harness uses for an API model of context
// length maxLength: its max_length-1 (one token is generated), minus one
// more for the context token of every window.
func SeqLen(maxLength int) (int, error) {
	if maxLength < 3 {
		return 0, fmt.Errorf("max_length %d is too small for rolling windows: it needs at least 3 tokens (one generated, one of context, one scored)", maxLength)
	}
	return maxLength - 2, nil
}

// TokenWindow is one scoring call of a rolling log-likelihood: the tokens
// sent are Context followed by Scored, and only Scored's logprobs count.
type TokenWindow struct {
	Context []int
	Scored  []int
}

// RollingWindows cuts tokens into the disjoint windows of lm-evaluation-
// harness's get_rolling_token_windows with context_len 1 followed by
// make_disjoint_window: every token is scored exactly once; the first window
// scores the first min(maxSeqLen, n) tokens after prefix; each later window
// scores the next up-to-maxSeqLen tokens after as many preceding tokens as
// fill maxSeqLen+1, so the last window keeps a full context. Written from the
// harness's documented semantics (see rolling_test.go for the cases).
func RollingWindows(tokens []int, prefix, maxSeqLen int) []TokenWindow {
	if len(tokens) == 0 || maxSeqLen < 1 {
		return nil
	}
	n := len(tokens)
	first := min(maxSeqLen, n)
	out := []TokenWindow{{Context: []int{prefix}, Scored: tokens[:first:first]}}
	for done := first; done < n; {
		k := min(n-done, maxSeqLen)
		end := done + k
		// The harness's window input is tokens[end-maxSeqLen-1 : end-1]; made
		// disjoint, its context is the part before the scored tokens.
		out = append(out, TokenWindow{Context: tokens[end-maxSeqLen-1 : done : done], Scored: tokens[done:end:end]})
		done = end
	}
	return out
}

// CheckRolling checks every replica: a request may land on any of them.
func (r *Replicas) CheckRolling(ctx context.Context, w Window) error {
	r.mu.Lock()
	reps := make([]Replica, len(r.reps))
	for i, rep := range r.reps {
		reps[i] = rep.Replica
	}
	r.mu.Unlock()
	for _, rep := range reps {
		c, ok := rep.Provider.(RollingChecker)
		if !ok {
			return fmt.Errorf("replica %s: %w: its provider cannot score token windows", rep.URL, ErrUnsupported)
		}
		if err := c.CheckRolling(ctx, w); err != nil {
			return fmt.Errorf("replica %s: %w", rep.URL, err)
		}
	}
	return nil
}
