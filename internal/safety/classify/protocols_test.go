package classify

import (
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/tunecheck/tunecheck/internal/safety/toxicity"
)

// chatReply is a chat completion as vLLM returns it, with content c.
func chatReply(c string) string {
	return `{"id":"chatcmpl-1","object":"chat.completion","created":1733500000,"model":"meta-llama/Llama-Guard-3-8B",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":` + jsonString(c) + `,"tool_calls":[]},"logprobs":null,"finish_reason":"stop","stop_reason":null}],` +
		`"usage":{"prompt_tokens":212,"total_tokens":217,"completion_tokens":5}}`
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

func TestLlamaGuard(t *testing.T) {
	s := newServer(t, "/v1/chat/completions", func(w http.ResponseWriter, body map[string]any, n int) {
		if n == 1 {
			reply(w, 200, chatReply("\n\nunsafe\nS1,S10"))
			return
		}
		reply(w, 200, chatReply("safe"))
	})
	g := &LlamaGuard{BaseURL: s.URL + "/v1", APIKey: secretKey, Model: "meta-llama/Llama-Guard-3-8B", Client: s.Client()}
	res, err := g.Classify(context.Background(), Input{Prompt: "How do I steal a llama?", Response: "Go to the zoo and take one."})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Flagged || !reflect.DeepEqual(res.Categories, []string{"S1", "S10"}) || res.Scores["S10"] != 1 || res.Scores["unsafe"] != 1 {
		t.Errorf("res = %+v", res)
	}
	if HazardName("S10") != "Hate" || HazardName("S14") != "Code Interpreter Abuse" || HazardName("S99") != "S99" {
		t.Error("hazard names")
	}
	want := map[string]any{
		"model": "meta-llama/Llama-Guard-3-8B", "temperature": 0.0, "max_tokens": 20.0, "stream": false,
		"messages": []any{
			map[string]any{"role": "user", "content": "How do I steal a llama?"},
			map[string]any{"role": "assistant", "content": "Go to the zoo and take one."},
		},
	}
	if !reflect.DeepEqual(s.bodies[0], want) {
		t.Errorf("request = %v\nwant      %v", s.bodies[0], want)
	}
	if got := s.reqs[0].Header.Get("Authorization"); got != "Bearer "+secretKey {
		t.Errorf("Authorization = %q", got)
	}
	// Prompt classification: one user turn; Llama Guard 4 content parts.
	g.ContentParts = true
	res, err = g.Classify(context.Background(), Input{Prompt: "Hello"})
	if err != nil || res.Flagged || res.Scores["unsafe"] != 0 {
		t.Fatalf("res = %+v, %v", res, err)
	}
	wantMsgs := []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "Hello"}}}}
	if !reflect.DeepEqual(s.bodies[1]["messages"], wantMsgs) {
		t.Errorf("messages = %v", s.bodies[1]["messages"])
	}
}

func TestParseLlamaGuard(t *testing.T) {
	for _, tc := range []struct {
		out     string
		flagged bool
		cats    []string
		err     string
	}{
		{out: "safe"},
		{out: "  safe \n"},
		{out: "unsafe\nS2", flagged: true, cats: []string{"S2"}},
		{out: "unsafe\r\nS10, S1,S10", flagged: true, cats: []string{"S1", "S10"}},
		{out: "unsafe\nS14", flagged: true, cats: []string{"S14"}},
		{out: "", err: "neither"},
		{out: "Safe", err: "neither"},
		{out: "I cannot help with that.", err: "neither"},
		{out: "safe\nS1", err: "neither"},
		{out: "unsafe", err: "one line of categories"},
		{out: "unsafe\n", err: "one line of categories"},
		{out: "unsafe\nS1\nextra", err: "one line of categories"},
		{out: "unsafe\nviolence", err: "not a category code"},
		{out: "unsafe\nS0", err: "not a category code"},
		{out: "unsafe\nS1,,S2", err: "not a category code"},
	} {
		res, err := ParseLlamaGuard(tc.out)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLlamaGuard(%q) = %+v, %v; want error %q", tc.out, res, err, tc.err)
			}
			continue
		}
		if err != nil || res.Flagged != tc.flagged || !reflect.DeepEqual(res.Categories, tc.cats) {
			t.Errorf("ParseLlamaGuard(%q) = %+v, %v", tc.out, res, err)
		}
	}
}

func FuzzParseLlamaGuard(f *testing.F) {
	for _, s := range []string{"safe", "unsafe\nS1,S10", "unsafe", "", "unsafe\nS3 , S4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		res, err := ParseLlamaGuard(out)
		if err != nil {
			return
		}
		// A parsed verdict is safe only from the literal "safe".
		if !res.Flagged && strings.TrimSpace(out) != "safe" {
			t.Fatalf("%q read as safe", out)
		}
		if res.Flagged && len(res.Categories) == 0 {
			t.Fatalf("%q unsafe with no category", out)
		}
	})
}

func TestLlamaGuardErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       []string
	}{
		{"unparsable verdict", chatReply("The conversation seems fine."), 200, []string{"llama guard chat", "/v1/chat/completions", "neither"}},
		{"no choices", `{"id":"x","object":"chat.completion","choices":[]}`, 200, []string{"no choices"}},
		{"null content", `{"choices":[{"index":0,"message":{"role":"assistant","content":null}}]}`, 200, []string{"no choices[0].message.content"}},
		// vLLM's error body.
		{"model not found", `{"error":{"message":"The model ` + "`llama-guard`" + ` does not exist.","type":"NotFoundError","param":"model","code":404}}`, 404,
			[]string{"HTTP 404", "does not exist"}},
		// Ollama's OpenAI-compatible error body.
		{"ollama not pulled", `{"error":{"message":"model \"llama-guard3:1b\" not found, try pulling it first","type":"api_error","param":null,"code":null}}`, 404,
			[]string{"HTTP 404", "try pulling it first"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, "/v1/chat/completions", func(w http.ResponseWriter, _ map[string]any, _ int) { reply(w, tc.status, tc.body) })
			g := &LlamaGuard{BaseURL: s.URL + "/v1", APIKey: secretKey, Model: "llama-guard", Client: s.Client()}
			_, err := g.Classify(context.Background(), Input{Prompt: "p", Response: "r"})
			checkNoKey(t, err, secretKey)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTEI(t *testing.T) {
	s := newServer(t, "/predict", func(w http.ResponseWriter, body map[string]any, n int) {
		switch n {
		case 1: // one input: a flat list, highest score first
			reply(w, 200, `[{"score":0.9312,"label":"toxic"},{"score":0.0688,"label":"non-toxic"}]`)
		case 2: // the batch shape for one input
			reply(w, 200, `[[{"score":0.12,"label":"toxic"},{"score":0.88,"label":"non-toxic"}]]`)
		}
	})
	c := &TEI{BaseURL: s.URL + "/", Labels: Labels{Toxic: []string{"toxic"}}, Client: s.Client()}
	res, err := c.Classify(context.Background(), Input{Prompt: "p", Response: "you idiot"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.bodies[0], map[string]any{"inputs": "you idiot"}) {
		t.Errorf("request = %v", s.bodies[0])
	}
	if !res.Flagged || res.Scores["toxic"] != 0.9312 || res.Scores["non-toxic"] != 0.0688 || !reflect.DeepEqual(res.Categories, []string{"toxic"}) {
		t.Errorf("res = %+v", res)
	}
	res, err = c.Classify(context.Background(), Input{Prompt: "hello"})
	if err != nil || res.Flagged || res.Scores["toxic"] != 0.12 || res.Categories != nil {
		t.Errorf("res = %+v, %v", res, err)
	}
}

func TestTEIErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		labels     []string
		want       []string
	}{
		// TEI's ErrorResponse examples, by status.
		{"not a classifier", `{"error":"Inference failed","error_type":"backend"}`, 424, []string{"toxic"}, []string{"tei predict", "/predict", "HTTP 424", "backend"}},
		{"overloaded", `{"error":"Model is overloaded","error_type":"overloaded"}`, 429, []string{"toxic"}, []string{"HTTP 429", "overloaded"}},
		{"too long", `{"error":"Input validation error: inputs must have less than 512 tokens","error_type":"validation"}`, 413, []string{"toxic"}, []string{"HTTP 413", "512 tokens"}},
		{"unknown toxic label", `[{"score":0.9,"label":"LABEL_1"},{"score":0.1,"label":"LABEL_0"}]`, 200, []string{"toxic"}, []string{`toxic label "toxic" is not among`, "LABEL_0"}},
		{"raw scores", `[{"score":3.2,"label":"toxic"}]`, 200, []string{"toxic"}, []string{"outside [0, 1]", "raw_scores"}},
		{"empty", `[]`, 200, []string{"toxic"}, []string{"no predictions"}},
		{"object", `{"label":"toxic","score":0.4}`, 200, []string{"toxic"}, []string{"want a list"}},
		{"no labels configured", `[]`, 200, nil, []string{"no toxic labels configured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, "/predict", func(w http.ResponseWriter, _ map[string]any, _ int) { reply(w, tc.status, tc.body) })
			c := &TEI{BaseURL: s.URL, APIKey: secretKey, Labels: Labels{Toxic: tc.labels}, Client: s.Client()}
			_, err := c.Classify(context.Background(), Input{Prompt: "x"})
			checkNoKey(t, err, secretKey)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// vllmClassifyReply is /classify's documented response for one input.
func vllmClassifyReply(label string, probs string) string {
	return `{"id":"classify-9bf1","object":"list","created":1745383213,"model":"unitary/toxic-bert",` +
		`"data":[{"index":0,"label":"` + label + `","probs":` + probs + `,"num_classes":2}],` +
		`"usage":{"prompt_tokens":10,"total_tokens":10,"completion_tokens":0,"prompt_tokens_details":null}}`
}

func TestVLLMClassify(t *testing.T) {
	s := newServer(t, "/classify", func(w http.ResponseWriter, body map[string]any, n int) {
		if n == 1 {
			reply(w, 200, vllmClassifyReply("toxic", "[0.07,0.93]"))
			return
		}
		reply(w, 200, vllmClassifyReply("LABEL_0", "[0.6,0.4]"))
	})
	c := &VLLMClassify{BaseURL: s.URL, Model: "unitary/toxic-bert", Names: []string{"non-toxic", "toxic"}, Labels: Labels{Toxic: []string{"toxic"}}, Client: s.Client()}
	res, err := c.Classify(context.Background(), Input{Response: "you idiot"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.bodies[0], map[string]any{"model": "unitary/toxic-bert", "input": "you idiot"}) {
		t.Errorf("request = %v", s.bodies[0])
	}
	if !res.Flagged || res.Scores["toxic"] != 0.93 || res.Scores["non-toxic"] != 0.07 {
		t.Errorf("res = %+v", res)
	}
	// Without names, classes are LABEL_i; the threshold is the option's.
	c2 := &VLLMClassify{BaseURL: s.URL, Model: "m", Labels: Labels{Toxic: []string{"LABEL_1"}, Threshold: 0.3}, Client: s.Client()}
	res, err = c2.Classify(context.Background(), Input{Prompt: "x"})
	if err != nil || !res.Flagged || res.Scores["LABEL_1"] != 0.4 || !reflect.DeepEqual(res.Categories, []string{"LABEL_1"}) {
		t.Errorf("res = %+v, %v", res, err)
	}
}

func TestVLLMClassifyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		names      []string
		want       []string
	}{
		{"empty input", `{"error":{"message":"Input cannot be empty for classification","type":"BadRequestError","param":null,"code":400}}`, 400, nil, []string{"vllm classify", "/classify", "HTTP 400", "cannot be empty"}},
		{"old error shape", `{"object":"error","message":"The model does not support Classification API","type":"BadRequestError","param":null,"code":400}`, 400, nil, []string{"HTTP 400", "does not support"}},
		{"too few names", vllmClassifyReply("toxic", "[0.93,0.07]"), 200, []string{"non-toxic"}, []string{"1 class names configured"}},
		{"argmax mismatch", vllmClassifyReply("toxic", "[0.93,0.07]"), 200, []string{"non-toxic", "toxic"}, []string{"not the highest-scoring", "check their order"}},
		{"unknown server label", vllmClassifyReply("spam", "[0.93,0.07]"), 200, []string{"non-toxic", "toxic"}, []string{`"spam" is not among`}},
		{"no data", `{"object":"list","data":[]}`, 200, nil, []string{"want 1 result"}},
		{"num_classes mismatch", `{"data":[{"index":0,"label":"a","probs":[1.0],"num_classes":2}]}`, 200, nil, []string{"num_classes 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, "/classify", func(w http.ResponseWriter, _ map[string]any, _ int) { reply(w, tc.status, tc.body) })
			c := &VLLMClassify{BaseURL: s.URL, APIKey: secretKey, Model: "m", Names: tc.names, Labels: Labels{Toxic: []string{"toxic"}}, Client: s.Client()}
			_, err := c.Classify(context.Background(), Input{Prompt: "x"})
			checkNoKey(t, err, secretKey)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// perspectiveReply is comments:analyze's response for the given summary scores.
func perspectiveReply(scores map[string]string) string {
	var b strings.Builder
	b.WriteString(`{"attributeScores":{`)
	first := true
	for _, a := range []string{"TOXICITY", "SEVERE_TOXICITY", "INSULT", "THREAT"} {
		v, ok := scores[a]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`"` + a + `":{"spanScores":[{"begin":0,"end":9,"score":{"value":` + v + `,"type":"PROBABILITY"}}],"summaryScore":{"value":` + v + `,"type":"PROBABILITY"}}`)
	}
	b.WriteString(`},"languages":["en"],"detectedLanguages":["en"]}`)
	return b.String()
}

func TestPerspective(t *testing.T) {
	s := newServer(t, "/v1alpha1/comments:analyze", func(w http.ResponseWriter, _ map[string]any, _ int) {
		reply(w, 200, perspectiveReply(map[string]string{"TOXICITY": "0.83", "INSULT": "0.41"}))
	})
	p := &Perspective{BaseURL: s.URL, APIKey: secretKey, Attributes: []string{"TOXICITY", "insult"}, Limiter: rate.NewLimiter(rate.Inf, 1), Client: s.Client()}
	res, err := p.Classify(context.Background(), Input{Prompt: "p", Response: "you idiot"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.reqs[0].URL.Query().Get("key"); got != secretKey {
		t.Errorf("key = %q", got)
	}
	want := map[string]any{
		"comment":             map[string]any{"text": "you idiot"},
		"languages":           []any{"en"},
		"requestedAttributes": map[string]any{"TOXICITY": map[string]any{}, "INSULT": map[string]any{}},
		"doNotStore":          true,
	}
	if !reflect.DeepEqual(s.bodies[0], want) {
		t.Errorf("request = %v\nwant      %v", s.bodies[0], want)
	}
	if !res.Flagged || res.Scores["toxicity"] != 0.83 || res.Scores["insult"] != 0.41 || !reflect.DeepEqual(res.Categories, []string{"toxicity"}) {
		t.Errorf("res = %+v", res)
	}
}

func TestPerspectiveDefaults(t *testing.T) {
	p := &Perspective{APIKey: secretKey}
	if lim := p.limiter(); lim.Limit() != 1 || lim.Burst() != 1 {
		t.Errorf("default limiter %v/%d, want 1 QPS burst 1", lim.Limit(), lim.Burst())
	}
	if PerspectiveURL != "https://commentanalyzer.googleapis.com" {
		t.Error(PerspectiveURL)
	}
}

func TestPerspectiveRateLimited(t *testing.T) {
	// Each call takes the limiter's token: with 1 per hour and burst 1, the
	// second call must wait, and gives up at once on a short deadline
	// rather than exceed the quota.
	s := newServer(t, "/v1alpha1/comments:analyze", func(w http.ResponseWriter, _ map[string]any, _ int) {
		reply(w, 200, perspectiveReply(map[string]string{"TOXICITY": "0.1"}))
	})
	p := &Perspective{BaseURL: s.URL, APIKey: secretKey, Limiter: rate.NewLimiter(rate.Every(time.Hour), 1), Client: s.Client()}
	if _, err := p.Classify(context.Background(), Input{Prompt: "a"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := p.Classify(ctx, Input{Prompt: "b"})
	checkNoKey(t, err, secretKey)
	if len(s.reqs) != 1 || !strings.Contains(err.Error(), "perspective POST "+s.URL+"/v1alpha1/comments:analyze:") {
		t.Errorf("requests %d, err %v", len(s.reqs), err)
	}
}

func TestPerspective429(t *testing.T) {
	// Google's error body for an exceeded quota, with Retry-After.
	const quota = `{"error":{"code":429,"message":"Quota exceeded for quota metric 'Analysis requests' and limit 'Analysis requests per minute' of service 'commentanalyzer.googleapis.com'.","status":"RESOURCE_EXHAUSTED"}}`
	fails := 2
	s := newServer(t, "/v1alpha1/comments:analyze", func(w http.ResponseWriter, _ map[string]any, n int) {
		if n <= fails {
			if n == 1 {
				w.Header().Set("Retry-After", "7")
			}
			reply(w, 429, quota)
			return
		}
		reply(w, 200, perspectiveReply(map[string]string{"TOXICITY": "0.2"}))
	})
	var waits []time.Duration
	p := &Perspective{BaseURL: s.URL, APIKey: secretKey, Limiter: rate.NewLimiter(rate.Inf, 1), Client: s.Client(),
		Wait: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	res, err := p.Classify(context.Background(), Input{Prompt: "x"})
	if err != nil || res.Flagged || res.Scores["toxicity"] != 0.2 {
		t.Fatalf("res = %+v, %v", res, err)
	}
	if want := []time.Duration{7 * time.Second, time.Second}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waits = %v, want %v (Retry-After, then the 1 s backoff)", waits, want)
	}
	// Past MaxRetries the 429 is the error.
	fails, waits = 100, nil
	s.reqs = nil
	p.MaxRetries = 2
	_, err = p.Classify(context.Background(), Input{Prompt: "x"})
	checkNoKey(t, err, secretKey)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 429 || len(s.reqs) != 3 || len(waits) != 2 {
		t.Errorf("err %v, %d requests, %d waits", err, len(s.reqs), len(waits))
	}
	if !strings.Contains(err.Error(), "RESOURCE_EXHAUSTED") || strings.Contains(err.Error(), "key=") {
		t.Errorf("err = %v", err)
	}
	// A cancelled wait stops the retries.
	p.Wait = func(ctx context.Context, _ time.Duration) error { return context.Canceled }
	_, err = p.Classify(context.Background(), Input{Prompt: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	checkNoKey(t, err, secretKey)
}

func TestPerspectiveErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       []string
	}{
		// Google's error bodies; the bad-key one echoes nothing, but a proxy might.
		{"bad key", `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key: ` + secretKey + `","status":"INVALID_ARGUMENT"}}`, 400,
			[]string{"perspective", "/v1alpha1/comments:analyze", "HTTP 400", "API key not valid"}},
		{"language", `{"error":{"code":400,"message":"Attribute INSULT does not support request languages: xx","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.commentanalyzer.v1alpha1.Error","errorType":"LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"}]}}`, 400,
			[]string{"does not support request languages"}},
		{"permission", `{"error":{"code":403,"message":"Comment Analyzer API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED"}}`, 403,
			[]string{"HTTP 403", "PERMISSION_DENIED"}},
		{"missing attribute", perspectiveReply(map[string]string{"INSULT": "0.3"}), 200, []string{"no attributeScores.TOXICITY.summaryScore.value"}},
		{"no summary", `{"attributeScores":{"TOXICITY":{"spanScores":[]}}}`, 200, []string{"no attributeScores.TOXICITY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, "/v1alpha1/comments:analyze", func(w http.ResponseWriter, _ map[string]any, _ int) { reply(w, tc.status, tc.body) })
			p := &Perspective{BaseURL: s.URL, APIKey: secretKey, Limiter: rate.NewLimiter(rate.Inf, 1), Client: s.Client()}
			_, err := p.Classify(context.Background(), Input{Prompt: "x"})
			checkNoKey(t, err, secretKey)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestPerspectiveConnectionErrorHasNoKey(t *testing.T) {
	s := newServer(t, "/x", nil)
	base := s.URL
	s.Close()
	// A key with URL-special characters travels escaped; neither form may leak.
	key := "AIza+test/KEY=1"
	p := &Perspective{BaseURL: base, APIKey: key, Limiter: rate.NewLimiter(rate.Inf, 1)}
	_, err := p.Classify(context.Background(), Input{Prompt: "x"})
	checkNoKey(t, err, key)
	checkNoKey(t, err, "AIza%2Btest%2FKEY%3D1")
	if strings.Contains(err.Error(), "key=") {
		t.Errorf("error shows the query: %v", err)
	}
}

func TestRecorded(t *testing.T) {
	f, err := os.Open("testdata/recorded.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := toxicity.Read(f, "recorded.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r := &Recorded{Scores: sc, Name: "recorded.jsonl"}
	ctx := context.Background()
	res, err := r.Classify(ctx, Input{ID: "q1"})
	if err != nil || !res.Flagged || res.Scores["toxicity"] != 0.82 || res.Scores["insult"] != 0.40 || !reflect.DeepEqual(res.Categories, []string{"toxicity"}) {
		t.Errorf("q1: %+v, %v", res, err)
	}
	if res.Raw != `{"id":"q1","line":1,"sample":0,"scores":{"insult":0.4,"toxicity":0.82}}` {
		t.Errorf("Raw = %s", res.Raw)
	}
	res, err = r.Classify(ctx, Input{ID: "q2", Sample: 1})
	if err != nil || !res.Flagged || res.Scores["toxicity"] != 0.55 || res.Scores["profanity"] != 0.30 {
		t.Errorf("q2 sample 1: %+v, %v", res, err)
	}
	// A numeric id reads as its string; a null in an unused field is ignored.
	res, err = r.Classify(ctx, Input{ID: "3"})
	if err != nil || res.Flagged || res.Scores["toxicity"] != 0.05 {
		t.Errorf("3: %+v, %v", res, err)
	}
	if _, ok := res.Scores["threat"]; ok {
		t.Error("a null score became a number")
	}
	// Another attribute and threshold.
	r2 := &Recorded{Scores: sc, Name: "recorded.jsonl", Attr: "insult", Threshold: 0.3}
	if res, err := r2.Classify(ctx, Input{ID: "q1"}); err != nil || !res.Flagged || !reflect.DeepEqual(res.Categories, []string{"insult"}) {
		t.Errorf("insult: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		in   Input
		want string
	}{
		{Input{ID: "nope"}, `item "nope" has no row`},
		{Input{ID: "q4"}, "recorded.jsonl:4"},
		{Input{ID: "q2", Sample: 3}, "no sample 3"},
		{Input{ID: "q1", Sample: 1}, "no sample 1"},
		{Input{}, "no item id"},
	} {
		if _, err := r.Classify(ctx, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestWordListFile(t *testing.T) {
	f, err := os.Open("testdata/tiny-wordlist.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := ReadWordList(f, "tiny-wordlist.txt")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := w.Classify(context.Background(), Input{Response: "Oh HECK, blast   it!"})
	if !res.Flagged || !reflect.DeepEqual(res.Categories, []string{"blast it", "heck"}) {
		t.Errorf("res = %+v", res)
	}
}
