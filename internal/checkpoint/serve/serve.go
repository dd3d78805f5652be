// Package serve makes a training checkpoint answer requests, so that a plan's
// candidate model can point at it. Three ways, one interface:
//
//   - VLLMLoRA loads the checkpoint's adapter into a running vLLM server with
//     its runtime LoRA routes (POST /v1/load_lora_adapter and
//     /v1/unload_lora_adapter, enabled by VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)
//     and sends requests with the adapter's name as the model.
//   - Command starts a server process per checkpoint from a user's command
//     template (llama-server --lora, vllm serve, …), waits for its /health,
//     and stops it afterwards.
//   - Names maps steps to model names a server already serves.
package serve

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/checkpoint"
)

// Endpoint is where a served checkpoint answers: the plan's candidate gets
// this base URL (empty: the plan's own) and model name (empty: the plan's own).
type Endpoint struct {
	BaseURL string
	Model   string
}

// Server makes checkpoints servable.
type Server interface {
	// Mode names the way ("vllm-lora", "cmd", "names"), recorded with each run.
	Mode() string
	// Serve makes c answer and returns where, with a release that undoes it
	// (unload the adapter, stop the process); release is never nil when err
	// is nil and may be called with a context of its own after ctx ended.
	Serve(ctx context.Context, c checkpoint.Checkpoint) (Endpoint, func(context.Context) error, error)
}

// Names serves each step by a model name an already running server knows.
type Names struct {
	// ByStep maps a checkpoint's step to its served model name.
	ByStep map[int]string
}

// ErrNoName is returned by Names.Serve for a step the mapping lacks.
type ErrNoName struct {
	Step  int
	Known []int
}

func (e *ErrNoName) Error() string {
	return fmt.Sprintf("no served model name for step %d (the mapping names steps %v)", e.Step, e.Known)
}

// Mode implements Server.
func (Names) Mode() string { return "names" }

// Serve implements Server.
func (n Names) Serve(_ context.Context, c checkpoint.Checkpoint) (Endpoint, func(context.Context) error, error) {
	name, ok := n.ByStep[c.Step]
	if !ok {
		known := make([]int, 0, len(n.ByStep))
		for s := range n.ByStep {
			known = append(known, s)
		}
		sort.Ints(known)
		return Endpoint{}, nil, &ErrNoName{Step: c.Step, Known: known}
	}
	return Endpoint{Model: name}, func(context.Context) error { return nil }, nil
}

// ParseNames reads a step-to-name mapping: "100=ft-100,200=ft-200" from a
// flag, or the same pairs one a line (blank lines and # comments skipped)
// from a file; where labels errors (the flag or file:line).
func ParseNames(text, where string, lines bool) (map[int]string, error) {
	out := map[int]string{}
	var parts []string
	if lines {
		parts = strings.Split(text, "\n")
	} else {
		parts = strings.Split(text, ",")
	}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || lines && strings.HasPrefix(p, "#") {
			continue
		}
		at := where
		if lines {
			at = fmt.Sprintf("%s:%d", where, i+1)
		}
		k, v, ok := strings.Cut(p, "=")
		step, err := strconv.Atoi(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if !ok || err != nil || step < 0 || v == "" {
			return nil, fmt.Errorf("%s: %q is not STEP=MODEL (e.g. 200=my-finetune-step200)", at, p)
		}
		if prev, dup := out[step]; dup {
			return nil, fmt.Errorf("%s: step %d is mapped twice (%s and %s)", at, step, prev, v)
		}
		out[step] = v
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no STEP=MODEL pairs", where)
	}
	return out, nil
}
