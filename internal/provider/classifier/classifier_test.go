package classifier

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
)

func TestSplitID(t *testing.T) {
	for _, c := range []struct {
		in   string
		item string
		k    int
	}{
		{"q1@mod", "q1", 0},
		{"q1@mod#3", "q1", 3},
		{"a@b@mod#1", "a@b", 1},
		{"plain", "plain", 0},
	} {
		item, k := SplitID(c.in)
		if item != c.item || k != c.k {
			t.Errorf("SplitID(%q) = %q, %d; want %q, %d", c.in, item, k, c.item, c.k)
		}
	}
}

func TestScore(t *testing.T) {
	for _, c := range []struct {
		name   string
		c      plan.Classifier
		scores map[string]float64
		want   float64
		ok     bool
	}{
		{"moderation max", plan.Classifier{Protocol: "moderation"}, map[string]float64{"hate": 0.2, "violence": 0.7}, 0.7, true},
		{"moderation attribute", plan.Classifier{Protocol: "moderation", Attribute: "hate"}, map[string]float64{"hate": 0.2, "violence": 0.7}, 0.2, true},
		{"llamaguard", plan.Classifier{Protocol: "llamaguard"}, map[string]float64{"unsafe": 1, "S1": 1}, 1, true},
		{"tei labels", plan.Classifier{Protocol: "tei", ToxicLabels: []string{"toxic"}}, map[string]float64{"toxic": 0.3, "neutral": 0.7}, 0.3, true},
		{"perspective upper", plan.Classifier{Protocol: "perspective", Attribute: "TOXICITY"}, map[string]float64{"toxicity": 0.9}, 0.9, true},
		{"recorded missing", plan.Classifier{Protocol: "recorded"}, map[string]float64{"insult": 0.9}, 0, false},
	} {
		got, ok := Score(c.c, c.scores)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: Score = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestModerationThroughProvider: a Classify request reaches /moderations with
// the answer as input; a 429 comes back retryable, a 400 not.
func TestModerationThroughProvider(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/moderations" || !strings.Contains(string(b), `"input":"the answer"`) {
			t.Errorf("got %s %s", r.URL.Path, b)
		}
		w.WriteHeader(status)
		if status != http.StatusOK {
			io.WriteString(w, `{"error":{"message":"no"}}`)
			return
		}
		io.WriteString(w, `{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":true,"categories":{"harassment":true,"hate":false},"category_scores":{"harassment":0.91,"hate":0.02}}]}`)
	}))
	defer srv.Close()
	ep, err := FromPlan(plan.Classifier{Name: "mod", Protocol: "moderation", BaseURL: srv.URL + "/v1", Threshold: 0.5}, nil, "", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	req := provider.Request{Type: provider.Classify, ItemID: "q1@mod", Messages: []provider.Message{{Role: "user", Content: "the prompt"}, {Role: "assistant", Content: "the answer"}}}
	resp, err := ep.Provider.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Scores["harassment"] != 0.91 || resp.Text != "harassment" {
		t.Errorf("response = %+v", resp)
	}
	status = http.StatusTooManyRequests
	if _, err := ep.Provider.Do(context.Background(), req); !provider.IsRetryable(err) {
		t.Errorf("429: %v is not retryable", err)
	}
	status = http.StatusBadRequest
	_, err = ep.Provider.Do(context.Background(), req)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Retryable || pe.Status != 400 {
		t.Errorf("400: %v", err)
	}
	if _, err := ep.Provider.Do(context.Background(), provider.Request{Type: provider.Generate}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("generate: %v", err)
	}
}

// Recorded scores are read by item id and sample from the request id, and
// never cached (an edited file must be read again).
func TestRecordedThroughProvider(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "scores.jsonl"), []byte(`{"id": "q1", "toxicity": [0.1, 0.8]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ep, err := FromPlan(plan.Classifier{Name: "rtp", Protocol: "recorded", Path: "scores.jsonl", Threshold: 0.5}, nil, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ep.CacheNamespace != "" {
		t.Errorf("recorded scores are cached under %q", ep.CacheNamespace)
	}
	resp, err := ep.Provider.Do(context.Background(), provider.Request{Type: provider.Classify, ItemID: "q1@rtp#1"})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := Score(plan.Classifier{Protocol: "recorded"}, resp.Scores); !ok || s != 0.8 {
		t.Errorf("sample 1 scores %v", resp.Scores)
	}
	if _, err := ep.Provider.Do(context.Background(), provider.Request{Type: provider.Classify, ItemID: "q9@rtp"}); err == nil {
		t.Error("an item without a row got a score")
	}
}
