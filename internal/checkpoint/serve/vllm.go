package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/tunecheck/tunecheck/internal/checkpoint"
)

// VLLMLoRA loads each checkpoint's adapter into a running vLLM server.
//
// vLLM's runtime LoRA routes exist only when the server was started with
// --enable-lora and the environment VLLM_ALLOW_RUNTIME_LORA_UPDATING=True;
// otherwise they answer 404. POST /v1/load_lora_adapter takes
// {"lora_name", "lora_path"} and answers 200 with a line of text, or 400 with
// an error object (the name is already loaded, the path holds no adapter);
// the adapter then serves requests whose model is its name. POST
// /v1/unload_lora_adapter takes {"lora_name"}.
type VLLMLoRA struct {
	// BaseURL is the OpenAI-compatible base of the server, as the plan
	// writes it (http://host:8000/v1); the LoRA routes sit beside it.
	BaseURL string
	// APIKey is sent as a bearer token when set (vLLM's --api-key guards
	// these routes too).
	APIKey string
	// NamePrefix starts each adapter's name (default "tunecheck"); the name
	// is NamePrefix-step<N>-<first 8 of the fingerprint>, so two trainings
	// writing the same step never share a name.
	NamePrefix string
	// PathPrefix, when set, replaces the watched directory in the path sent
	// to vLLM: the server may see the output directory mounted elsewhere
	// (another container, another machine).
	PathPrefix string
	Client     *http.Client
}

// Mode implements Server.
func (VLLMLoRA) Mode() string { return "vllm-lora" }

// AdapterName is the name the checkpoint's adapter is loaded under.
func (v VLLMLoRA) AdapterName(c checkpoint.Checkpoint) string {
	p := v.NamePrefix
	if p == "" {
		p = "tunecheck"
	}
	fp := c.Fingerprint
	if len(fp) > 8 {
		fp = fp[:8]
	}
	return fmt.Sprintf("%s-step%d-%s", p, c.Step, fp)
}

func (v VLLMLoRA) lora(c checkpoint.Checkpoint) string {
	if v.PathPrefix == "" {
		return c.Path
	}
	return path.Join(v.PathPrefix, strings.ReplaceAll(c.Rel, `\`, "/"))
}

// Serve implements Server.
func (v VLLMLoRA) Serve(ctx context.Context, c checkpoint.Checkpoint) (Endpoint, func(context.Context) error, error) {
	if c.Kind != checkpoint.Adapter {
		return Endpoint{}, nil, fmt.Errorf("checkpoint %s holds full weights, not a LoRA adapter: vLLM loads only adapters at runtime; serve it with --serve cmd (e.g. --serve-cmd 'vllm serve {checkpoint} --port {port}')", c.Rel)
	}
	name := v.AdapterName(c)
	status, body, err := v.post(ctx, "load_lora_adapter", map[string]string{"lora_name": name, "lora_path": v.lora(c)})
	if err != nil {
		return Endpoint{}, nil, fmt.Errorf("loading adapter %s into vLLM: %w", name, err)
	}
	switch {
	case status == http.StatusOK:
	case status == http.StatusBadRequest && strings.Contains(strings.ToLower(errorMessage(body)), "already been loaded"):
		// Left loaded by an interrupted watch: same name, same content.
	case status == http.StatusNotFound && !strings.Contains(strings.ToLower(errorMessage(body)), "lora"):
		return Endpoint{}, nil, fmt.Errorf("loading adapter %s: %s answered 404 on /v1/load_lora_adapter: runtime LoRA loading is off; start vLLM with --enable-lora and the environment VLLM_ALLOW_RUNTIME_LORA_UPDATING=True", name, v.root())
	default:
		return Endpoint{}, nil, fmt.Errorf("loading adapter %s from %s: vLLM answered HTTP %d: %s", name, v.lora(c), status, errorMessage(body))
	}
	release := func(ctx context.Context) error {
		status, body, err := v.post(ctx, "unload_lora_adapter", map[string]string{"lora_name": name})
		if err != nil {
			return fmt.Errorf("unloading adapter %s from vLLM: %w", name, err)
		}
		if status != http.StatusOK {
			return fmt.Errorf("unloading adapter %s: vLLM answered HTTP %d: %s", name, status, errorMessage(body))
		}
		return nil
	}
	return Endpoint{BaseURL: v.BaseURL, Model: name}, release, nil
}

func (v VLLMLoRA) root() string {
	return strings.TrimSuffix(strings.TrimRight(v.BaseURL, "/"), "/v1")
}

func (v VLLMLoRA) post(ctx context.Context, route string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.root()+"/v1/"+route, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if v.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+v.APIKey)
	}
	client := v.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, out, err
}

// errorMessage takes the message out of a vLLM error body — {"message": …}
// (older), {"error": {"message": …}} (newer) or FastAPI's {"detail": …} — or
// the body's start when it is none of them.
func errorMessage(body []byte) string {
	var e struct {
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Error   *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		switch {
		case e.Error != nil && e.Error.Message != "":
			return e.Error.Message
		case e.Message != "":
			return e.Message
		case len(e.Detail) > 0:
			var s string
			if json.Unmarshal(e.Detail, &s) == nil {
				return s
			}
			return string(e.Detail)
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
