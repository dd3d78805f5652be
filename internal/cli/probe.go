package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/registry"
)

// probeOptions are the flags of `tunecheck probe`.
type probeOptions struct {
	plan      string
	kind      string
	baseURL   string
	model     string
	apiKeyEnv string
	endpoint  string
	path      string
	timeout   time.Duration
	format    string
}

func newProbeCmd(env Env) *cobra.Command {
	o := probeOptions{}
	cmd := &cobra.Command{
		Use:   "probe [--plan FILE [MODEL...]] | --provider KIND --base-url URL --model ID",
		Short: "What an endpoint can do: chat, completions, echo logprobs, tokenize, latency",
		Long: `probe sends a few one-token requests to a model endpoint and reports what works:

  chat           /chat/completions (or the provider's chat API)
  completions    /completions (or Ollama's raw /api/generate)
  echo logprobs  prompt logprobs returned with echo=true, which multiple_choice
                 and perplexity tasks need; probe checks they really come back
  tokenize       vLLM or llama.cpp server /tokenize, which perplexity tasks
                 need (token windows)
  latency        the fastest successful call

and, below the table, what echo=true did (returned, ignored or refused), the
format of generated tokens' logprobs (legacy arrays or the per-token list), the
tokenize route, and for a llama.cpp server its build, context size per slot,
slots, whether its chat template is applied, its LoRA adapters and whether its
prompt cache changes repeated logprobs.

Name the endpoint with flags, or probe the models of a plan (all of them, or the
ones named). Exit code 3 when an endpoint cannot be reached.`,
		Example: `  tunecheck probe --provider openai --base-url http://localhost:8000/v1 --model meta-llama/Llama-3.1-8B
  tunecheck probe --plan tunecheck.yaml finetuned
  tunecheck probe --provider anthropic --model claude-sonnet-4-5 --api-key-env ANTHROPIC_API_KEY --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProbe(cmd, env, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.plan, "plan", "", "plan file whose models to probe (positional arguments pick models by name)")
	f.StringVar(&o.kind, "provider", "openai", "provider kind: "+strings.Join(registry.Kinds(), ", "))
	f.StringVar(&o.baseURL, "base-url", "", "endpoint base URL, e.g. http://localhost:8000/v1 (default: the provider's hosted API)")
	f.StringVar(&o.model, "model", "", "model id the server serves")
	f.StringVar(&o.apiKeyEnv, "api-key-env", "", "name of the environment variable holding the API key")
	f.StringVar(&o.endpoint, "endpoint", "", "openai/ollama: chat or completions for generate requests")
	f.StringVar(&o.path, "path", "", "file provider: the outputs JSONL")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit per request")
	addFormatFlag(f, &o.format, "text", "text", "json")
	return cmd
}

type probeTarget struct {
	name string
	cfg  provider.Config
}

func runProbe(cmd *cobra.Command, env Env, o probeOptions, args []string) error {
	var err error
	if o.format, err = outputFormat(env, o.format, "text", "json"); err != nil {
		return err
	}
	targets, err := probeTargets(cmd, env, o, args)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	client := &http.Client{}
	results := make([]registry.ProbeResult, 0, len(targets))
	for _, t := range targets {
		results = append(results, registry.Probe(cmd.Context(), t.name, t.cfg, client))
	}
	if o.format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		writeProbeTable(env.Stdout, results)
	}
	var unreachable, broken []string
	for _, r := range results {
		switch {
		case r.Unreachable:
			unreachable = append(unreachable, r.Name)
		case r.Error != "":
			broken = append(broken, r.Name)
		}
	}
	switch {
	case len(unreachable) > 0:
		return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("cannot reach %s", strings.Join(unreachable, ", ")), exitcode.Unreachable),
			"check that the server is running and --base-url points at it (vLLM and llama.cpp serve http://HOST:PORT/v1)")
	case len(broken) > 0:
		return exitcode.WithCode(fmt.Errorf("cannot probe %s", strings.Join(broken, ", ")), exitcode.BadInput)
	}
	return nil
}

func probeTargets(cmd *cobra.Command, env Env, o probeOptions, args []string) ([]probeTarget, error) {
	if o.plan == "" {
		if len(args) > 0 {
			return nil, fmt.Errorf("model names (%s) need --plan FILE; without a plan, give --provider, --base-url and --model", strings.Join(args, " "))
		}
		m := plan.Model{Name: o.model, Provider: o.kind, BaseURL: o.baseURL, Model: o.model, APIKeyEnv: o.apiKeyEnv, Endpoint: o.endpoint, Path: o.path, Timeout: o.timeout.String()}
		if m.Name == "" {
			m.Name = o.kind
		}
		cfg, err := registry.FromPlan(m, env.Getenv, "")
		if err != nil {
			return nil, err
		}
		return []probeTarget{{name: m.Name, cfg: cfg}}, nil
	}
	for _, name := range []string{"provider", "base-url", "model", "api-key-env", "endpoint", "path"} {
		if cmd.Flags().Changed(name) {
			return nil, fmt.Errorf("--%s cannot be combined with --plan; the plan's model entry says it", name)
		}
	}
	p, err := plan.Load(o.plan)
	if err != nil {
		return nil, err
	}
	var out []probeTarget
	var errs []error
	want := map[string]bool{}
	for _, a := range args {
		want[a] = true
	}
	for _, m := range p.Models {
		if len(args) > 0 && !want[m.Name] {
			continue
		}
		delete(want, m.Name)
		cfg, err := registry.FromPlan(m, env.Getenv, p.Dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.plan, err))
			continue
		}
		if cmd.Flags().Changed("timeout") {
			cfg.Timeout = o.timeout
		}
		out = append(out, probeTarget{name: m.Name, cfg: cfg})
	}
	for _, a := range args {
		if want[a] {
			var names []string
			for _, m := range p.Models {
				names = append(names, m.Name)
			}
			errs = append(errs, fmt.Errorf("%s has no model %q; its models are %s", o.plan, a, strings.Join(names, ", ")))
		}
	}
	return out, errors.Join(errs...)
}

func writeProbeTable(w io.Writer, results []registry.ProbeResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPROVIDER\tENDPOINT\tCHAT\tCOMPLETIONS\tECHO LOGPROBS\tTOKENIZE\tLATENCY")
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, r := range results {
		lat := "-"
		if r.Capabilities.Latency > 0 {
			lat = r.Capabilities.Latency.Round(time.Millisecond).String()
			if r.Capabilities.Latency < time.Millisecond {
				lat = r.Capabilities.Latency.Round(time.Microsecond).String()
			}
		}
		c := r.Capabilities
		echo := yes(c.EchoLogprobs)
		if c.Echo == provider.EchoIgnored || c.Echo == provider.EchoRefused {
			echo = "no (" + c.Echo + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Provider, r.BaseURL, yes(c.Chat), yes(c.Completions), echo, yes(c.Tokenize), lat)
	}
	tw.Flush()
	for _, r := range results {
		c := r.Capabilities
		if r.Error == "" && len(c.Notes) == 0 && c.LogprobFormat == "" && c.Server == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", r.Name)
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", r.Error)
		}
		for _, n := range c.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
		if c.LogprobFormat != "" {
			fmt.Fprintf(w, "  logprobs of generated tokens: %s\n", describeLogprobFormat(c.LogprobFormat))
		}
		if c.Server != nil {
			writeServerInfo(w, *c.Server)
		}
	}
}

func describeLogprobFormat(f string) string {
	switch f {
	case "legacy":
		return "legacy arrays (tokens, token_logprobs, top_logprobs, text_offset)"
	case "per-token list":
		return "per-token list (logprobs.content: token, logprob, bytes, top_logprobs), as llama.cpp's llama-server answers"
	}
	return f
}

// writeServerInfo prints what a server said about itself (llama.cpp).
func writeServerInfo(w io.Writer, s provider.ServerInfo) {
	line := "  server: " + s.Software
	if s.Build != "" {
		line += " " + s.Build
	}
	if s.ContextSize > 0 {
		line += fmt.Sprintf(", context %d tokens per slot (n_ctx)", s.ContextSize)
	}
	if s.Slots > 0 {
		line += fmt.Sprintf(", %d slots (total_slots: requests beyond them queue)", s.Slots)
	}
	fmt.Fprintln(w, line)
	switch {
	case s.ChatTemplateApplied:
		fmt.Fprintf(w, "  chat template: %s, applied: a user turn \"Say OK.\" is sent as %q\n", s.ChatTemplate, s.ChatExample)
	case s.ChatTemplateError != "":
		fmt.Fprintf(w, "  chat template: %s, NOT applied: %s\n", s.ChatTemplate, s.ChatTemplateError)
	case s.ChatTemplate != "":
		fmt.Fprintf(w, "  chat template: %s\n", s.ChatTemplate)
	}
	for _, a := range s.Adapters {
		fmt.Fprintf(w, "  lora adapter %d: %s, scale %g for requests that name no adapter (select per request with extra_body: {lora: [{id: %d, scale: …}]})\n", a.ID, a.Name, a.DefaultScale, a.ID)
	}
	if s.PromptCache != "" {
		fmt.Fprintf(w, "  prompt cache: %s\n", s.PromptCache)
	}
}
