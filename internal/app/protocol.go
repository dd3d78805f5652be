package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/registry"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/runner"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// This file decides, before any item is sent, how each multiple_choice task
// asks its models (internal/task: loglikelihood or generate), records it,
// and lets the choices of one item share their context on the wire.
//
// The rule: a comparison never mixes protocols. Every graded model's
// endpoint gets one echo check (a single scoring request whose logprobs must
// cover the prompt); a task whose protocol is auto uses loglikelihood only
// when every model passes, and generate for all of them otherwise. An
// explicit `protocol: loglikelihood` with a model that fails is a plan
// error, raised before any item request.

// mcSetting is what a multiple_choice task runs with, recorded in results.
type mcSetting struct {
	Protocol string
	// ChatTemplate is true when the models' servers render the prompt with
	// their chat template (chat messages).
	ChatTemplate bool
}

// echoChecker is the capability of providers that can check echo logprobs
// with one request (internal/provider/openai).
type echoChecker interface {
	CheckEcho(ctx context.Context) (provider.EchoCheck, error)
}

// echoNone is an EchoCheck.Behaviour for providers whose API has no prompt
// logprobs at all, known without a request.
const echoNone = "none"

// applyChatTemplate turns on chat_template for every multiple_choice task
// (the --apply-chat-template flag). The plan hash changes with it, so a run
// with the flag never resumes one without.
func applyChatTemplate(p *plan.Plan) error {
	changed := false
	for i := range p.Tasks {
		t := &p.Tasks[i]
		if t.Type != task.MultipleChoice {
			continue
		}
		if proto, _ := t.Options["protocol"].(string); proto == task.ProtocolLoglikelihood {
			return exitcode.WithCode(p.Errorf(fmt.Sprintf("tasks[%d].options.protocol", i), "drop --apply-chat-template, or set `protocol: generate` (or auto) on the task",
				"task %s scores by loglikelihood, which has no chat form: /v1/completions with echo scores the raw prompt, and chat routes return no prompt logprobs", t.Name), exitcode.BadInput)
		}
		opts := map[string]any{}
		for k, v := range t.Options {
			opts[k] = v
		}
		opts["chat_template"] = true
		t.Options = opts
		changed = true
	}
	if changed {
		p.Hash += "+chat_template"
	}
	return nil
}

// mcTasks are the run's multiple_choice tasks.
func mcTasks(tasks []*builtTask) []*builtTask {
	var out []*builtTask
	for _, bt := range tasks {
		if bt.Type == task.MultipleChoice {
			out = append(out, bt)
		}
	}
	return out
}

// checkEchoes runs one echo check per graded model endpoint (each replica of
// base_urls), cached by endpoint and model. Judges never score likelihoods.
func checkEchoes(ctx context.Context, p *plan.Plan, o Options) (map[string]provider.EchoCheck, error) {
	out := map[string]provider.EchoCheck{}
	cache := map[string]provider.EchoCheck{}
	for mi, m := range p.Models {
		cfg, err := registry.FromPlan(m, o.Getenv, p.Dir)
		if err != nil {
			return nil, p.Errorf(fmt.Sprintf("models[%d]", mi), "see docs/providers.md", "%v", err)
		}
		urls := m.BaseURLs
		if len(urls) == 0 {
			urls = []string{cfg.BaseURL}
		}
		result := provider.EchoCheck{Supported: true}
		for _, u := range urls {
			c := cfg
			c.BaseURL = u
			key := string(c.Kind) + " " + u + " " + c.Model
			chk, ok := cache[key]
			if !ok {
				prov, err := registry.New(c, o.HTTPClient)
				if err != nil {
					return nil, fmt.Errorf("model %s: %w", m.Name, err)
				}
				ec, can := prov.(echoChecker)
				if !can {
					chk = provider.EchoCheck{Behaviour: echoNone, Detail: fmt.Sprintf("the %s provider returns no prompt logprobs", c.Kind)}
				} else if chk, err = ec.CheckEcho(ctx); err != nil {
					return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("model %s: checking echo logprobs before the run (one scoring request) failed: %w", m.Name, err), exitcode.Unreachable),
						fmt.Sprintf("is the server for %s running at %s? `tunecheck probe` checks an endpoint", m.Name, u))
				}
				cache[key] = chk
			}
			if !chk.Supported {
				result = chk
			}
		}
		out[m.Name] = result
	}
	return out, nil
}

// resolveProtocols fixes the protocol and chat-template use of every
// multiple_choice task before any item request, rebuilding a task whose
// auto protocol falls back to generate. It returns each model's echo check
// (nil when no task needed one).
func resolveProtocols(ctx context.Context, p *plan.Plan, tasks []*builtTask, o Options) (map[string]provider.EchoCheck, error) {
	mcs := mcTasks(tasks)
	needEcho := false
	for _, bt := range mcs {
		if task.MCEffectiveProtocol(bt.Spec) == task.ProtocolLoglikelihood {
			needEcho = true
		}
	}
	// Types scored only by log-likelihood (CrowS-Pairs, BBQ, perplexity)
	// have no generative fallback: a model without prompt logprobs is
	// refused here, before any item request, not after all are sent.
	var llOnly []*builtTask
	for _, bt := range tasks {
		switch bt.Type {
		case task.CrowsPairs, task.BBQ, task.Perplexity:
			llOnly = append(llOnly, bt)
			needEcho = true
		}
	}
	var echoes map[string]provider.EchoCheck
	if needEcho {
		var err error
		if echoes, err = checkEchoes(ctx, p, o); err != nil {
			return nil, err
		}
	}
	for _, bt := range llOnly {
		var lacking []string
		for _, m := range p.Models {
			if e := echoes[m.Name]; !e.Supported {
				lacking = append(lacking, fmt.Sprintf("model %s (%s) %s echo: %s", m.Name, m.Model, echoVerb(e), e.Detail))
			}
		}
		if len(lacking) > 0 {
			return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("task %s (%s) is scored by log-likelihood, which needs prompt logprobs (echo=true), but:\n  %s\nnothing was sent",
				bt.Name, bt.Type, strings.Join(lacking, "\n  ")), exitcode.BadInput),
				"serve the models with vLLM (its /v1/completions returns prompt logprobs with echo)")
		}
	}
	for _, bt := range mcs {
		proto := task.MCEffectiveProtocol(bt.Spec)
		if proto == task.ProtocolLoglikelihood {
			var lacking []string
			for _, m := range p.Models {
				if e := echoes[m.Name]; !e.Supported {
					lacking = append(lacking, fmt.Sprintf("model %s (%s) %s echo: %s", m.Name, m.Model, echoVerb(e), e.Detail))
				}
			}
			if len(lacking) > 0 {
				if task.MCProtocol(bt.Spec) == task.ProtocolLoglikelihood {
					return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("task %s uses protocol loglikelihood, which needs prompt logprobs (echo=true), but:\n  %s\nnothing was sent",
						bt.Name, strings.Join(lacking, "\n  ")), exitcode.BadInput),
						"serve the models with vLLM (its /v1/completions returns prompt logprobs with echo), or set `options: {protocol: generate}` (or auto) on the task to ask for lettered answers instead")
				}
				o.Logger.Warn("multiple choice falls back to the generative protocol for every model (a comparison never mixes protocols)", "task", bt.Name, "because", strings.Join(lacking, "; "))
				if err := rebuildMC(bt, task.ProtocolGenerate); err != nil {
					return nil, err
				}
				proto = task.ProtocolGenerate
			}
		}
		set := mcSetting{Protocol: proto}
		if proto == task.ProtocolGenerate {
			ct, err := chatTemplateUse(p, bt)
			if err != nil {
				return nil, err
			}
			set.ChatTemplate = ct
		}
		bt.MC = &set
	}
	return echoes, nil
}

func echoVerb(e provider.EchoCheck) string {
	switch e.Behaviour {
	case provider.EchoRefused:
		return "refused"
	case provider.EchoIgnored:
		return "ignored"
	}
	return "cannot do"
}

// rebuildMC builds a multiple_choice task again under another protocol.
func rebuildMC(bt *builtTask, proto string) error {
	spec := task.WithMCOptions(bt.Spec, proto, task.MCChatTemplate(bt.Spec))
	items, err := bt.Kind.Build(spec, specRows(bt))
	if err != nil {
		return err
	}
	if len(items) != len(bt.Items) {
		return fmt.Errorf("task %s: rebuilding for the %s protocol gave %d items, not %d", bt.Name, proto, len(items), len(bt.Items))
	}
	bt.Spec, bt.Items, bt.Stages, bt.Scorers = spec, items, bt.Kind.Stages(spec, items), bt.Kind.Scorers(spec)
	return nil
}

// specRows gives back the rows a task was built from (items keep their
// fields and ids). Few-shot examples are drawn from the pool, or from these
// same rows, as the first build drew them.
func specRows(bt *builtTask) []task.Row {
	rows := make([]task.Row, len(bt.Items))
	for i, it := range bt.Items {
		rows[i] = task.Row{ID: it.ID, Line: it.Line, Fields: it.Fields}
	}
	return rows
}

// chatTemplateUse says whether a generative task's prompts reach the models
// through their chat templates, and refuses a plan where the models differ:
// chat messages always do; a bare prompt does on an openai model whose
// endpoint is chat (sent as one user turn), or on anthropic, and does not on
// a completions endpoint or Ollama (raw).
func chatTemplateUse(p *plan.Plan, bt *builtTask) (bool, error) {
	if task.MCChatTemplate(bt.Spec) {
		return true, nil
	}
	var first string
	var firstUse bool
	for i, m := range p.Models {
		use := promptsThroughChat(m)
		if i == 0 {
			first, firstUse = m.Name, use
			continue
		}
		if use != firstUse {
			return false, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("task %s (generative multiple choice): model %s's server would apply its chat template to the prompt and model %s's would not; the two would answer different prompts",
				bt.Name, pick(use, m.Name, first), pick(use, first, m.Name)), exitcode.BadInput),
				"give both models the same `endpoint:` (chat or completions), or set `options: {chat_template: true}` on the task (or --apply-chat-template) so both get chat messages")
		}
	}
	return firstUse, nil
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// promptsThroughChat reports whether a model's provider sends a request
// without messages through a chat template.
func promptsThroughChat(m plan.Model) bool {
	switch provider.Kind(m.Provider) {
	case provider.KindOpenAI:
		return m.Endpoint != provider.EndpointCompletions
	case provider.KindAnthropic:
		return true
	}
	return false
}

// storedProtocols settles the protocol of multiple_choice tasks that were
// not checked in this process — a sharded run's merge builds its tasks from
// the plan alone — from the stage their stored results carry: a task whose
// shards fell back to generate is scored as generate.
func storedProtocols(p *plan.Plan, tasks []*builtTask, results []store.Result) error {
	for _, bt := range mcTasks(tasks) {
		if bt.MC != nil || len(bt.Stages) == 0 {
			continue
		}
		stages := map[string]bool{}
		for i := range results {
			if results[i].Task == bt.Name && results[i].Endpoint == "" {
				stages[results[i].Stage] = true
			}
		}
		proto := task.MCEffectiveProtocol(bt.Spec)
		if proto == task.ProtocolLoglikelihood && stages[task.StageAnswer] && !stages[task.StageChoices] {
			if err := rebuildMC(bt, task.ProtocolGenerate); err != nil {
				return err
			}
			proto = task.ProtocolGenerate
		}
		set := mcSetting{Protocol: proto}
		if proto == task.ProtocolGenerate {
			ct, err := chatTemplateUse(p, bt)
			if err != nil {
				return err
			}
			set.ChatTemplate = ct
		}
		bt.MC = &set
	}
	return nil
}

// recordProtocols writes each multiple_choice task's protocol and chat
// template use into the report, and each model's echo check.
func recordProtocols(rep *report.Report, tasks []*builtTask, echoes map[string]provider.EchoCheck) {
	for i := range rep.Tasks {
		for _, bt := range tasks {
			if bt.Name != rep.Tasks[i].Name || bt.Type != task.MultipleChoice {
				continue
			}
			set := bt.MC
			if set == nil {
				set = &mcSetting{Protocol: task.MCEffectiveProtocol(bt.Spec), ChatTemplate: task.MCChatTemplate(bt.Spec)}
			}
			rep.Tasks[i].Protocol = set.Protocol
			rep.Tasks[i].ChatTemplate = set.ChatTemplate
		}
	}
	for i := range rep.Models {
		if e, ok := echoes[rep.Models[i].Name]; ok {
			rep.Models[i].EchoLogprobs = "supported"
			if !e.Supported {
				rep.Models[i].EchoLogprobs = e.Behaviour
			}
		}
	}
}

// protocolDiffs refuses to compare a task across protocols or chat-template
// settings: acc from likelihoods and acc from generated letters are
// different measurements.
func protocolDiffs(a, b Side) error {
	var diffs []string
	for _, ta := range a.Report.Tasks {
		tb := findTask(b.Report, ta.Name)
		if tb == nil {
			continue
		}
		if ta.Protocol != tb.Protocol {
			diffs = append(diffs, fmt.Sprintf("task %s: protocol %s in run %s, %s in run %s", ta.Name, orUnset(ta.Protocol), a.Run.ID, orUnset(tb.Protocol), b.Run.ID))
		}
		if ta.ChatTemplate != tb.ChatTemplate {
			diffs = append(diffs, fmt.Sprintf("task %s: chat template %s in run %s, %s in run %s", ta.Name, onOff(ta.ChatTemplate), a.Run.ID, onOff(tb.ChatTemplate), b.Run.ID))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("the two runs asked differently, so their scores do not compare:\n  %s", strings.Join(diffs, "\n  ")), exitcode.BadInput),
		"run both with the same protocol and chat template: set `options: {protocol: …, chat_template: …}` on the task (or --apply-chat-template) so both runs match")
}

func orUnset(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// dryRunProtocols says what each multiple_choice task would use, without
// sending the echo check a real run sends.
func dryRunProtocols(tasks []*builtTask) map[string]string {
	out := map[string]string{}
	for _, bt := range mcTasks(tasks) {
		proto := task.MCEffectiveProtocol(bt.Spec)
		switch {
		case proto == task.ProtocolGenerate && task.MCChatTemplate(bt.Spec):
			out[bt.Name] = "generate, chat template"
		case proto == task.ProtocolGenerate:
			out[bt.Name] = "generate"
		case task.MCProtocol(bt.Spec) == task.ProtocolAuto:
			out[bt.Name] = "auto: loglikelihood if every model's endpoint returns prompt logprobs with echo (checked by one request at run start), else generate for all"
		default:
			out[bt.Name] = "loglikelihood (checked by one echo request per endpoint at run start)"
		}
	}
	return out
}

// batcher is the capability of providers that score several loglikelihood
// requests in one call (internal/provider/openai).
type batcher interface {
	LoglikelihoodBatch(ctx context.Context, reqs []provider.Request) ([]provider.Response, error)
}

// shareContexts wraps each model endpoint that can batch so that the
// choices of one loglikelihood multiple-choice item go out as one request:
// the server sees their shared context once per item (vLLM batches the
// prompts, and its prefix cache computes the context once).
func shareContexts(endpoints map[string]runner.Endpoint, p *plan.Plan, tasks []*builtTask) {
	var groups [][]provider.Request
	for _, bt := range mcTasks(tasks) {
		if bt.MC == nil || bt.MC.Protocol != task.ProtocolLoglikelihood {
			continue
		}
		for i := range bt.Items {
			if rs := bt.Items[i].Requests; len(rs) > 1 {
				groups = append(groups, rs)
			}
		}
	}
	if len(groups) == 0 {
		return
	}
	for _, m := range p.Models {
		ep, ok := endpoints[m.Name]
		if !ok {
			continue
		}
		if b, ok := ep.Provider.(batcher); ok {
			ep.Provider = newSharedContext(ep.Provider, b, groups)
			endpoints[m.Name] = ep
		}
	}
}

type reqKey struct{ id, prompt, cont string }

func keyOf(r provider.Request) reqKey { return reqKey{r.ItemID, r.Prompt, r.Continuation} }

// choiceGroup is one item's choices on one endpoint: the first of them to
// be asked sends them all, and the others take their answers from ready.
type choiceGroup struct {
	reqs  []provider.Request
	mu    sync.Mutex
	ready map[int]provider.Response
}

type groupRef struct {
	g *choiceGroup
	i int
}

// sharedContext is a provider that answers grouped loglikelihood requests
// with one batched call per group. Requests outside a group, and every
// request after the server refused a batch, go to the inner provider alone.
type sharedContext struct {
	inner    provider.Provider
	batch    batcher
	groups   map[reqKey]groupRef
	disabled atomic.Bool
}

func newSharedContext(inner provider.Provider, b batcher, groups [][]provider.Request) *sharedContext {
	s := &sharedContext{inner: inner, batch: b, groups: make(map[reqKey]groupRef)}
	for _, rs := range groups {
		g := &choiceGroup{reqs: rs}
		for i, r := range rs {
			s.groups[keyOf(r)] = groupRef{g, i}
		}
	}
	return s
}

func (s *sharedContext) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	ref, ok := s.groups[keyOf(req)]
	if !ok || req.Type != provider.Loglikelihood || s.disabled.Load() {
		return s.inner.Do(ctx, req)
	}
	g := ref.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.ready[ref.i]; ok {
		delete(g.ready, ref.i)
		return r, nil
	}
	resps, err := s.batch.LoglikelihoodBatch(ctx, g.reqs)
	if err != nil {
		var pe *provider.Error
		if provider.IsRetryable(err) || errors.Is(err, provider.ErrUnsupported) || !errors.As(err, &pe) || pe.Status == 0 {
			// Retrying, or refusing the item, is the runner's call, as for
			// a request sent alone.
			return provider.Response{}, err
		}
		// The server refuses a list of prompts: send requests one by one.
		s.disabled.Store(true)
		return s.inner.Do(ctx, req)
	}
	if g.ready == nil {
		g.ready = make(map[int]provider.Response, len(resps))
	}
	for i, r := range resps {
		if i != ref.i {
			g.ready[i] = r
		}
	}
	return resps[ref.i], nil
}
