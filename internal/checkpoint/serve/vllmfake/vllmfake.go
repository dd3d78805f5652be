// Package vllmfake is an in-process stand-in for a vLLM OpenAI-compatible
// server with runtime LoRA loading, for tests. It follows vLLM's API: the
// routes /v1/load_lora_adapter and /v1/unload_lora_adapter (present only when
// runtime updating is allowed, FastAPI's 404 {"detail":"Not Found"}
// otherwise), error objects {"object":"error","message",…,"code"} with 400 for
// a bad or duplicate load and 404 for an unknown adapter or model, /v1/models
// listing the base model and the loaded adapters (with root and parent), and
// /v1/chat/completions and /v1/completions answering as the requested model.
//
// Loading an adapter reads its folder as vLLM does: adapter_config.json must
// parse and adapter_model.safetensors (or .bin) must exist; the bytes read
// are recorded, so a test can tell whether a half-written checkpoint was
// ever loaded.
package vllmfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Answer chooses the reply of model (the base model's name, or an adapter's)
// to a prompt; weights are the adapter's weight bytes as loaded (nil for the
// base model).
type Answer func(model string, weights []byte, prompt string) string

// Server is the fake vLLM. Its zero value is not usable; use New.
type Server struct {
	// Base is the base model's name.
	Base string
	// RuntimeLoRA is VLLM_ALLOW_RUNTIME_LORA_UPDATING: false hides the routes.
	RuntimeLoRA bool
	answer      Answer

	mu       sync.Mutex
	adapters map[string]adapter
	// Requests counts completions by model and prompt.
	requests map[string]map[string]int
	loads    []Load
	unloads  []string
}

type adapter struct {
	path    string
	weights []byte
}

// Load records one successful load.
type Load struct {
	Name, Path string
	// Weights is the size of the weight file as read.
	Weights int
}

// New returns a fake serving base, with runtime LoRA loading on.
func New(base string, answer Answer) *Server {
	return &Server{Base: base, RuntimeLoRA: true, answer: answer, adapters: map[string]adapter{}, requests: map[string]map[string]int{}}
}

// Requests returns how many completions model was asked for, by prompt.
func (s *Server) Requests(model string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.requests[model] {
		out[k] = v
	}
	return out
}

// Loads returns the successful loads in order.
func (s *Server) Loads() []Load {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Load(nil), s.loads...)
}

// Unloads returns the adapters unloaded, in order.
func (s *Server) Unloads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unloads...)
}

// Loaded returns the names of the adapters loaded now, sorted.
func (s *Server) Loaded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.adapters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func writeErr(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": code})
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"detail":"Not Found"}`)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		w.WriteHeader(http.StatusOK)
	case "/v1/load_lora_adapter", "/v1/unload_lora_adapter":
		if !s.RuntimeLoRA {
			notFound(w)
			return
		}
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var req struct {
			Name string `json:"lora_name"`
			Path string `json:"lora_path"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeErr(w, http.StatusBadRequest, "BadRequestError", "invalid JSON: "+err.Error())
			return
		}
		if r.URL.Path == "/v1/load_lora_adapter" {
			s.load(w, req.Name, req.Path)
		} else {
			s.unload(w, req.Name)
		}
	case "/v1/models":
		s.models(w)
	case "/v1/chat/completions", "/v1/completions":
		s.complete(w, r)
	default:
		notFound(w)
	}
}

func (s *Server) load(w http.ResponseWriter, name, path string) {
	if name == "" || path == "" {
		writeErr(w, http.StatusBadRequest, "BadRequestError", "Both 'lora_name' and 'lora_path' must be provided.")
		return
	}
	s.mu.Lock()
	_, dup := s.adapters[name]
	s.mu.Unlock()
	if dup {
		writeErr(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("The lora adapter '%s' has already been loaded.", name))
		return
	}
	fail := func(why string) {
		writeErr(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("Loading lora %s failed: %s", name, why))
	}
	cfg, err := os.ReadFile(filepath.Join(path, "adapter_config.json"))
	if err != nil {
		fail("No adapter found for " + path)
		return
	}
	if !json.Valid(cfg) {
		fail("adapter_config.json is not valid JSON")
		return
	}
	weights, err := os.ReadFile(filepath.Join(path, "adapter_model.safetensors"))
	if err != nil {
		if weights, err = os.ReadFile(filepath.Join(path, "adapter_model.bin")); err != nil {
			fail("No adapter weights found in " + path)
			return
		}
	}
	s.mu.Lock()
	s.adapters[name] = adapter{path: path, weights: weights}
	s.loads = append(s.loads, Load{Name: name, Path: path, Weights: len(weights)})
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "Success: LoRA adapter '%s' added successfully.", name)
}

func (s *Server) unload(w http.ResponseWriter, name string) {
	s.mu.Lock()
	_, ok := s.adapters[name]
	if ok {
		delete(s.adapters, name)
		s.unloads = append(s.unloads, name)
	}
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The lora adapter '%s' cannot be found.", name))
		return
	}
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "Success: LoRA adapter '%s' removed successfully.", name)
}

func (s *Server) models(w http.ResponseWriter) {
	s.mu.Lock()
	data := []map[string]any{{"id": s.Base, "object": "model", "created": 1763870000, "owned_by": "vllm", "root": s.Base, "parent": nil}}
	var names []string
	for n := range s.adapters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data = append(data, map[string]any{"id": n, "object": "model", "created": 1763870000, "owned_by": "vllm", "root": s.adapters[n].path, "parent": s.Base})
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Prompt   any    `json:"prompt"`
		Messages []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, "BadRequestError", "invalid JSON: "+err.Error())
		return
	}
	s.mu.Lock()
	ad, isAdapter := s.adapters[req.Model]
	s.mu.Unlock()
	if req.Model != s.Base && !isAdapter {
		writeErr(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	prompt := ""
	chat := r.URL.Path == "/v1/chat/completions"
	if chat {
		for _, m := range req.Messages {
			if m.Role == "user" {
				if s, ok := m.Content.(string); ok {
					prompt = s
				}
			}
		}
	} else if p, ok := req.Prompt.(string); ok {
		prompt = p
	}
	s.mu.Lock()
	if s.requests[req.Model] == nil {
		s.requests[req.Model] = map[string]int{}
	}
	s.requests[req.Model][prompt]++
	s.mu.Unlock()
	text := s.answer(req.Model, ad.weights, prompt)
	content, _ := json.Marshal(text)
	w.Header().Set("Content-Type", "application/json")
	if chat {
		fmt.Fprintf(w, `{"id":"chatcmpl-fake","object":"chat.completion","created":1763870000,"model":%q,`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":%s},"logprobs":null,"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}`, req.Model, content)
		return
	}
	fmt.Fprintf(w, `{"id":"cmpl-fake","object":"text_completion","created":1763870000,"model":%q,`+
		`"choices":[{"index":0,"text":%s,"logprobs":null,"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}`, req.Model, content)
}
