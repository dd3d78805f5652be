package classify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The classifiers must satisfy the interface.
var (
	_ Classifier = (*Moderation)(nil)
	_ Classifier = (*LlamaGuard)(nil)
	_ Classifier = (*TEI)(nil)
	_ Classifier = (*VLLMClassify)(nil)
	_ Classifier = (*Perspective)(nil)
	_ Classifier = (*Recorded)(nil)
	_ Classifier = (*WordList)(nil)
)

const secretKey = "sk-test-SECRET-4f9a2b"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// server is an httptest server answering one route; every request it sees
// is kept so a test can check method, path, headers and body.
type server struct {
	*httptest.Server
	reqs   []*http.Request
	bodies []map[string]any
}

func newServer(t *testing.T, path string, h func(w http.ResponseWriter, body map[string]any, n int)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != path {
			http.Error(w, `{"error":"no route"}`, http.StatusNotFound)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		s.reqs = append(s.reqs, r)
		s.bodies = append(s.bodies, m)
		w.Header().Set("Content-Type", "application/json")
		h(w, m, len(s.reqs))
	}))
	t.Cleanup(s.Close)
	return s
}

func reply(w http.ResponseWriter, status int, body string) {
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func checkNoKey(t *testing.T, err error, key string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), key) {
		t.Fatalf("error leaks the API key: %v", err)
	}
}

func TestModeration(t *testing.T) {
	payload := readTestdata(t, "openai_moderation.json")
	s := newServer(t, "/v1/moderations", func(w http.ResponseWriter, _ map[string]any, _ int) {
		reply(w, 200, string(payload))
	})
	m := &Moderation{BaseURL: s.URL + "/v1/", APIKey: secretKey, Model: "omni-moderation-latest", Client: s.Client()}
	res, err := m.Classify(context.Background(), Input{Prompt: "p", Response: "I will hurt you"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.reqs[0].Header.Get("Authorization"); got != "Bearer "+secretKey {
		t.Errorf("Authorization = %q", got)
	}
	want := map[string]any{"model": "omni-moderation-latest", "input": "I will hurt you"}
	if !reflect.DeepEqual(s.bodies[0], want) {
		t.Errorf("request body = %v, want %v", s.bodies[0], want)
	}
	if !res.Flagged || res.Scores["violence"] != 0.93 || len(res.Scores) != 13 {
		t.Errorf("result = %+v", res)
	}
	if got, want := res.Categories, []string{"harassment", "harassment/threatening", "violence"}; !reflect.DeepEqual(got, want) {
		t.Errorf("categories = %v, want %v", got, want)
	}
	if res.Raw != string(payload) {
		t.Error("Raw is not the reply")
	}
	// Prompt only: the prompt is moderated.
	if _, err := m.Classify(context.Background(), Input{Prompt: "just a prompt"}); err != nil {
		t.Fatal(err)
	}
	if s.bodies[1]["input"] != "just a prompt" {
		t.Errorf("input = %v", s.bodies[1]["input"])
	}
}

func TestModerationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       []string
	}{
		// OpenAI's documented error object; the server echoes the key.
		{"unauthorized", `{"error":{"message":"Incorrect API key provided: ` + secretKey + `.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, 401,
			[]string{"openai moderations", "/v1/moderations", "HTTP 401", "invalid_api_key"}},
		{"rate limited", `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, 429,
			[]string{"HTTP 429", "rate_limit_exceeded"}},
		{"no results", `{"id":"x","model":"m","results":[]}`, 200, []string{"want 1 result"}},
		{"not json", `<html>gateway</html>`, 200, []string{"unexpected reply", "<html>"}},
		{"score out of range", `{"results":[{"flagged":false,"categories":{},"category_scores":{"hate":1.5}}]}`, 200, []string{"outside [0, 1]"}},
		{"no flagged", `{"results":[{"categories":{},"category_scores":{}}]}`, 200, []string{`no "flagged"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, "/v1/moderations", func(w http.ResponseWriter, _ map[string]any, _ int) { reply(w, tc.status, tc.body) })
			m := &Moderation{BaseURL: s.URL + "/v1", APIKey: secretKey, Client: s.Client()}
			_, err := m.Classify(context.Background(), Input{Prompt: "x"})
			checkNoKey(t, err, secretKey)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestConnectionErrorHasNoKey(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	base := s.URL
	s.Close() // nothing listens there now: the dial fails
	m := &Moderation{BaseURL: base, APIKey: secretKey}
	_, err := m.Classify(context.Background(), Input{Prompt: "x"})
	checkNoKey(t, err, secretKey)
	if !strings.Contains(err.Error(), "openai moderations POST "+base+"/moderations") {
		t.Errorf("error does not name the endpoint: %v", err)
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", 600)
	got := excerpt([]byte(long), "")
	if !strings.HasSuffix(got, "…") || len(got) > excerptLen+len("…") {
		t.Errorf("excerpt length %d", len(got))
	}
	if excerpt(nil, "") != "(empty body)" {
		t.Error("empty body")
	}
	if got := excerpt([]byte("key=a%2Bb and a+b"), "a+b"); strings.Contains(got, "a+b") || strings.Contains(got, "a%2Bb") {
		t.Errorf("excerpt leaks: %s", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-1", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestHTTPErrorIsTyped(t *testing.T) {
	s := newServer(t, "/moderations", func(w http.ResponseWriter, _ map[string]any, _ int) {
		w.Header().Set("Retry-After", "3")
		reply(w, 503, `{"error":{"message":"overloaded"}}`)
	})
	_, err := (&Moderation{BaseURL: s.URL, Client: s.Client()}).Classify(context.Background(), Input{Prompt: "x"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 503 || he.RetryAfter != 3*time.Second {
		t.Fatalf("err = %#v", err)
	}
}

func TestWordList(t *testing.T) {
	w, err := ReadWordList(strings.NewReader("# tiny list for tests\nDarn\n\nheck\n  blast   it \ndarn\nc++\n"), "tiny.txt")
	if err != nil {
		t.Fatal(err)
	}
	if w.Len() != 4 {
		t.Errorf("Len = %d, want 4 (comment, blank and duplicate skipped)", w.Len())
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"DARN it", []string{"darn"}},
		{"darned", nil},                 // whole words only
		{"undarn", nil},                 // no prefix match
		{"darn_it", nil},                // underscore is a word character
		{"oh, darn!", []string{"darn"}}, // punctuation bounds a word
		{"Blast\n  IT all, heck", []string{"blast it", "heck"}},
		{"blastit", nil},
		{"déheck", nil}, // a non-ASCII letter is a word character
		{"i like c++ a lot", []string{"c++"}},
		{"darndarn darn", []string{"darn"}}, // found after a rejected occurrence
		{"", nil},
	} {
		if got := w.Matches(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Matches(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	res, err := w.Classify(context.Background(), Input{Prompt: "heck?", Response: "nothing bad"})
	if err != nil || res.Flagged || res.Scores["wordlist"] != 0 {
		t.Errorf("response is classified, not prompt: %+v %v", res, err)
	}
	res, _ = w.Classify(context.Background(), Input{Response: "what the heck"})
	if !res.Flagged || res.Scores["wordlist"] != 1 || !reflect.DeepEqual(res.Categories, []string{"heck"}) {
		t.Errorf("res = %+v", res)
	}
	if res.Note != WordListNote || !strings.Contains(res.Raw, "crude lower bound") || !strings.Contains(res.Raw, "tiny.txt") {
		t.Errorf("result does not say it is a crude lower bound: %+v", res)
	}
	if _, err := ReadWordList(strings.NewReader("# only a comment\n\n"), "empty.txt"); err == nil || !strings.Contains(err.Error(), "empty.txt") {
		t.Errorf("empty list: %v", err)
	}
}
