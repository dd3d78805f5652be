package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/judge"
	"github.com/tunecheck/tunecheck/internal/store"
)

func TestSecurityHeaders(t *testing.T) {
	c := newClient(t, quickstart(t), Options{})
	for _, target := range []string{"/", "/api/session", "/api/runs", "/assets/app.js", "/runs/x/items/t/1", "/api/nope"} {
		rec := c.do("GET", target, nil, nil)
		h := rec.Header()
		if h.Get("Content-Security-Policy") != CSP || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: headers %v", target, h)
		}
	}
	if rec := c.do("GET", "/runs/x/items/t/1", nil, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "<title>tunecheck</title>") {
		t.Errorf("a page route does not answer index.html: %d %s", rec.Code, rec.Body)
	}
	if rec := c.do("GET", "/assets/app.js", nil, nil); rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("app.js served as %q", rec.Header().Get("Content-Type"))
	}
	if rec := c.do("GET", "/api/nope", nil, nil); rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("unknown API route: %d %s", rec.Code, rec.Header())
	}
	// DNS rebinding: a page on another name reaching 127.0.0.1 is refused.
	req := httptest.NewRequest("GET", "http://evil.example:7420/api/runs", nil)
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("foreign Host: %d; want 403", rec.Code)
	}
	var sess struct {
		CSRF, User   string
		BlindDefault bool `json:"blind_default"`
	}
	c.get("/api/session", &sess)
	if len(sess.CSRF) != 64 || sess.User != "ana" || sess.BlindDefault {
		t.Errorf("session = %+v", sess)
	}
}

func TestAccessToken(t *testing.T) {
	c := newClient(t, quickstart(t), Options{Token: "s3cret"})
	if rec := c.do("GET", "/api/session", nil, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("no token: %d", rec.Code)
	}
	if rec := c.do("GET", "/api/session", nil, map[string]string{"Authorization": "Bearer wrong"}); rec.Code != http.StatusForbidden {
		t.Fatalf("wrong token: %d", rec.Code)
	}
	if rec := c.do("GET", "/api/session", nil, map[string]string{"Authorization": "Bearer s3cret"}); rec.Code != http.StatusOK {
		t.Fatalf("bearer token: %d", rec.Code)
	}
	// The one-time URL sets the cookie and drops the token from the address.
	rec := c.do("GET", "/?token=s3cret&x=1", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?x=1" {
		t.Fatalf("token URL: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}
	if rec := c.do("GET", "/api/runs", nil, map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}); rec.Code != http.StatusOK {
		t.Fatalf("with the cookie: %d", rec.Code)
	}
	// With a token any Host is served (the server listens beyond loopback).
	req := httptest.NewRequest("GET", "http://10.1.2.3:7420/api/runs", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	rr := httptest.NewRecorder()
	c.h.ServeHTTP(rr, req)
	if rr.Code != http.StatusOK {
		t.Fatalf("token on another host: %d", rr.Code)
	}
}

func TestRunsAndReport(t *testing.T) {
	c := newClient(t, quickstart(t), Options{})
	var runs struct{ Runs []runJSON }
	c.get("/api/runs", &runs)
	if len(runs.Runs) != 2 || runs.Runs[0].ID != quickstartRuns[1] || runs.Runs[1].ID != quickstartRuns[0] {
		t.Fatalf("runs not newest first: %+v", runs.Runs)
	}
	r0 := runs.Runs[0]
	if r0.Plan != "quickstart-mtbench" || r0.Status != "finished" || r0.Verdict == "" || r0.Baseline != "llama-13b" || r0.Candidate != "vicuna-13b" ||
		!slices.Equal(r0.Tasks, []string{"mtbench-ref"}) || r0.Finished == nil {
		t.Fatalf("run row: %+v", r0)
	}
	if len(r0.Gates) != 2 || r0.Gates[0].Expr != "mtbench-ref.token_f1.delta >= 0" {
		t.Fatalf("gates: %+v", r0.Gates)
	}
	// The newest run's sparkline has both runs, oldest first; the oldest only itself.
	if tr := r0.Gates[0].Trend; len(tr) != 2 || tr[0].Run != quickstartRuns[0] || tr[1].Run != quickstartRuns[1] || tr[1].Value != r0.Gates[0].Value {
		t.Fatalf("trend: %+v", tr)
	}
	if tr := runs.Runs[1].Gates[0].Trend; len(tr) != 1 {
		t.Fatalf("oldest run's trend: %+v", tr)
	}
	c.get("/api/runs?plan=other", &runs)
	if len(runs.Runs) != 0 {
		t.Fatalf("plan filter: %+v", runs.Runs)
	}
	c.get("/api/runs?q=MTBENCH&limit=1", &runs)
	if len(runs.Runs) != 1 {
		t.Fatalf("q and limit: %d runs", len(runs.Runs))
	}

	rec := c.get("/api/runs/"+quickstartRuns[0][:18], nil) // a prefix
	if strings.Contains(rec.Body.String(), `"records"`) {
		t.Fatal("the report carries records")
	}
	var got struct {
		Run    runJSON
		Report struct {
			Schema, Verdict string
			Tasks           []struct {
				Name       string
				Comparison struct {
					Metrics map[string]struct{ Delta float64 }
				}
				Slices []struct{ Name string }
			}
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Run.ID != quickstartRuns[0] || got.Report.Schema != "tunecheck.results/v2" || len(got.Report.Tasks) != 1 ||
		len(got.Report.Tasks[0].Slices) != 2 || len(got.Report.Tasks[0].Comparison.Metrics) == 0 {
		t.Fatalf("report: %+v", got)
	}
	if rec := c.do("GET", "/api/runs/nosuchrun", nil, nil); rec.Code != 404 {
		t.Fatalf("unknown run: %d", rec.Code)
	}
}

func TestItemsFilters(t *testing.T) {
	c := newClient(t, quickstart(t), Options{})
	base := "/api/runs/" + quickstartRuns[0] + "/items"
	var p itemsPage
	c.get(base, &p)
	if p.Task != "mtbench-ref" || p.Metric != "token_f1" || p.Direction != "higher" || p.Total != 30 || len(p.Items) != 30 ||
		p.Baseline != "llama-13b" || p.Candidate != "vicuna-13b" {
		t.Fatalf("all: task %s metric %s total %d items %d", p.Task, p.Metric, p.Total, len(p.Items))
	}
	first := p.Items[0]
	if first.Index != 0 || first.Prompt == "" || len(first.References) != 1 || first.Slices["category"] == "" || len(first.Outputs) != 2 ||
		first.Outputs[0].Model != "llama-13b" || first.Outputs[0].Side != "baseline" || first.Outputs[1].Text == "" || first.Outputs[1].Scores["token_f1"] == 0 && first.Outputs[1].Status == "ok" && first.Delta == nil {
		t.Fatalf("first item: %+v", first)
	}
	// worst: scored on both, the candidate's biggest losses first.
	c.get(base+"?filter=worst&limit=5", &p)
	if len(p.Items) != 5 || p.Total == 0 {
		t.Fatalf("worst: %d of %d", len(p.Items), p.Total)
	}
	for i := 1; i < len(p.Items); i++ {
		if *p.Items[i].Delta < *p.Items[i-1].Delta {
			t.Fatalf("worst not ascending: %v then %v", *p.Items[i-1].Delta, *p.Items[i].Delta)
		}
	}
	worstTotal := p.Total
	// Paging walks the same order.
	var next itemsPage
	c.get(base+"?filter=worst&limit=5&offset=5", &next)
	if next.Total != worstTotal || len(next.Items) == 0 || *next.Items[0].Delta < *p.Items[4].Delta {
		t.Fatalf("page 2: %+v", next)
	}
	c.get(base+"?filter=worst&metric=length_words&order=desc&limit=3", &p)
	if p.Metric != "length_words" || p.Direction != "neutral" || *p.Items[0].Delta < *p.Items[1].Delta {
		t.Fatalf("worst by length, descending: %+v", p)
	}
	for _, f := range []string{"flipped", "failed"} {
		c.get(base+"?filter="+f, &p)
		for _, it := range p.Items {
			switch {
			case f == "flipped" && it.Flip == "":
				t.Fatalf("flipped item %s without a flip", it.ID)
			case f == "failed" && it.Outputs[0].Status == "ok" && it.Outputs[1].Status == "ok":
				t.Fatalf("failed item %s: both ok", it.ID)
			}
		}
		t.Logf("quickstart %s: %d items", f, p.Total)
	}
	// A slice group, text search and sort by id.
	c.get(base+"?slice=category&group=coding", &p)
	if p.Total == 0 || p.Total == 30 {
		t.Fatalf("slice: %d items", p.Total)
	}
	for _, it := range p.Items {
		if it.Slices["category"] != "coding" {
			t.Fatalf("slice filter let %s (%v) through", it.ID, it.Slices)
		}
	}
	needle := first.Outputs[1].Text[:min(24, len(first.Outputs[1].Text))]
	c.get(base+"?q="+strings.ToUpper(escape(needle)), &p)
	if p.Total == 0 || !slices.ContainsFunc(p.Items, func(it itemJ) bool {
		return it.ID == first.ID
	}) {
		t.Fatalf("search for %q: %d items", needle, p.Total)
	}
	c.get(base+"?sort=id&order=desc&limit=200", &p)
	if !slices.IsSortedFunc(p.Items, func(a, b itemJ) int {
		return strings.Compare(b.ID, a.ID)
	}) {
		t.Fatal("sort=id&order=desc is not descending")
	}
	for _, bad := range []string{"?limit=201", "?limit=0", "?offset=-1", "?filter=best", "?sort=score", "?metric=nope", "?slice=category", "?task=nope", "?blind=maybe"} {
		if rec := c.do("GET", base+bad, nil, nil); rec.Code != 400 && rec.Code != 404 {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}

	// The permalink target: one item with its labels.
	var one struct {
		Item   json.RawMessage
		Labels []labelJSON
	}
	c.get(base+"/mtbench-ref/"+first.ID, &one)
	if !strings.Contains(string(one.Item), `"id":"`+first.ID+`"`) || one.Labels == nil {
		t.Fatalf("permalink: %s", one.Item)
	}
	if rec := c.do("GET", base+"/mtbench-ref/nope", nil, nil); rec.Code != 404 {
		t.Fatalf("unknown item: %d", rec.Code)
	}
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), " ", "%20")
}

// Synthetic items whose flips, failures and judge rationales are known.
func TestItemsFlippedFailedJudge(t *testing.T) {
	st := quickstart(t)
	syntheticRun(t, st, "syn", 100, func(m string, i int) string { return m + " answer " + string(rune('a'+i%26)) })
	c := newClient(t, st, Options{})
	var p itemsPage
	c.get("/api/runs/syn/items?filter=flipped&limit=200", &p)
	// exact = (i+m)%2: every item flips except the failed ones (i%50 == 49).
	if p.Total != 98 || p.Items[0].Flip != "fixed" || p.Items[1].Flip != "regressed" {
		t.Fatalf("flipped: %d, %+v", p.Total, p.Items[:2])
	}
	c.get("/api/runs/syn/items?filter=failed", &p)
	if p.Total != 2 || p.Items[0].ID != "item-000049" || p.Items[0].Outputs[1].Status != "failed" || p.Items[0].Outputs[1].Error != "HTTP 500" {
		t.Fatalf("failed: %+v", p)
	}
	c.get("/api/runs/syn/items?limit=3", &p)
	if p.Items[0].Outputs[0].Judge != "rationale for base" || p.Items[1].Outputs[0].Judge != "" || p.Items[0].Prompt != "question 0" {
		t.Fatalf("judge rationale or prompt: %+v", p.Items[:2])
	}
}

func TestBlindMode(t *testing.T) {
	st := quickstart(t)
	c := newClient(t, st, Options{Blind: true})
	run := quickstartRuns[0]
	var plain, blind, blindBen itemsPage
	c.get("/api/runs/"+run+"/items?blind=0&limit=200", &plain)
	rec := c.get("/api/runs/"+run+"/items?limit=200", &blind) // --blind is the default
	c.get("/api/runs/"+run+"/items?limit=200&user=ben", &blindBen)
	body := rec.Body.String()
	if !blind.Blind || blind.Baseline != "" || strings.Contains(body, "llama") || strings.Contains(body, "vicuna") {
		t.Fatal("blind page names a model")
	}
	swapped, differ := 0, 0
	for i, it := range blind.Items {
		if it.Outputs[0].Side != "left" || it.Outputs[1].Side != "right" {
			t.Fatalf("sides %s %s", it.Outputs[0].Side, it.Outputs[1].Side)
		}
		p := plain.Items[i]
		if it.Outputs[0].Text == p.Outputs[1].Text && it.Outputs[0].Text != p.Outputs[0].Text {
			swapped++
			if p.Delta != nil && *it.Delta != -*p.Delta {
				t.Fatalf("swapped item %s: delta %v; want %v", it.ID, *it.Delta, -*p.Delta)
			}
		}
		if blindBen.Items[i].Outputs[0].Text != it.Outputs[0].Text {
			differ++
		}
	}
	if swapped == 0 || swapped == len(blind.Items) || differ == 0 {
		t.Fatalf("sides not randomised: %d of %d swapped, %d differ between users", swapped, len(blind.Items), differ)
	}
	var again itemsPage
	c.get("/api/runs/"+run+"/items?limit=200", &again)
	for i := range again.Items {
		if again.Items[i].Outputs[0].Text != blind.Items[i].Outputs[0].Text {
			t.Fatal("blind sides change between reloads")
		}
	}
	// A blind preference for the left side maps back to the model shown there.
	for i, it := range blind.Items[:6] {
		rec := c.post("/api/runs/"+run+"/labels", `{"task":"mtbench-ref","item":"`+it.ID+`","kind":"preference","value":"left","blind":true}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("blind label: %d %s", rec.Code, rec.Body)
		}
		var l labelJSON
		json.Unmarshal(rec.Body.Bytes(), &l)
		leftIsCandidate := it.Outputs[0].Text == plain.Items[i].Outputs[1].Text && it.Outputs[0].Text != plain.Items[i].Outputs[0].Text
		want := map[bool]string{true: `"B"`, false: `"A"`}[leftIsCandidate]
		if string(l.Value) != want || l.Side != "left" {
			t.Fatalf("item %s: stored %s side %q; want %s left", it.ID, l.Value, l.Side, want)
		}
	}
	ls, err := st.Labels(context.Background(), run, store.LabelFilter{})
	if err != nil || len(ls) != 6 || ls[0].BlindLeft == "" || ls[0].BlindRight == "" || ls[0].User != "ana" {
		t.Fatalf("stored blind labels: %+v, %v", ls, err)
	}
	if rec := c.post("/api/runs/"+run+"/labels", `{"task":"mtbench-ref","item":"`+blind.Items[0].ID+`","kind":"preference","value":"A","blind":true}`); rec.Code != 400 {
		t.Fatalf("A/B in blind mode: %d", rec.Code)
	}
}

func TestLabelsCSRFAndLimits(t *testing.T) {
	st := quickstart(t)
	c := newClient(t, st, Options{})
	run := quickstartRuns[0]
	var p itemsPage
	c.get("/api/runs/"+run+"/items?limit=3", &p)
	body := `{"task":"mtbench-ref","item":"` + p.Items[0].ID + `","kind":"preference","value":"B"}`
	target := "/api/runs/" + run + "/labels"
	for name, hdr := range map[string]map[string]string{
		"no token":    {"Content-Type": "application/json"},
		"wrong token": {"X-CSRF-Token": strings.Repeat("0", 64)},
		"cross-site":  {"X-CSRF-Token": c.csrf, "Sec-Fetch-Site": "cross-site"},
		"same-site":   {"X-CSRF-Token": c.csrf, "Sec-Fetch-Site": "same-site"},
		"origin":      {"X-CSRF-Token": c.csrf, "Origin": "http://evil.example"},
	} {
		if rec := c.do("POST", target, strings.NewReader(body), hdr); rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", name, rec.Code)
		}
	}
	if ls, _ := st.Labels(context.Background(), run, store.LabelFilter{}); len(ls) != 0 {
		t.Fatalf("a refused request stored %d labels", len(ls))
	}
	rec := c.post(target, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("with the token: %d %s", rec.Code, rec.Body)
	}
	// Several kinds at once.
	rec = c.post(target, `{"task":"mtbench-ref","item":"`+p.Items[1].ID+`","rating":7,"tags":["verbose"],"note":"<b>too long</b>"}`)
	var many struct{ Labels []labelJSON }
	if json.Unmarshal(rec.Body.Bytes(), &many); rec.Code != http.StatusCreated || len(many.Labels) != 3 {
		t.Fatalf("combined label: %d %s", rec.Code, rec.Body)
	}
	var got struct{ Labels []labelJSON }
	c.get("/api/runs/"+run+"/labels?user=ana", &got)
	if len(got.Labels) != 4 {
		t.Fatalf("labels: %+v", got.Labels)
	}
	// Deleting needs the CSRF token too.
	del := "/api/runs/" + run + "/labels/" + strconv.FormatInt(many.Labels[2].ID, 10)
	if rec := c.do("DELETE", del, nil, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("delete without the token: %d", rec.Code)
	}
	if rec := c.do("DELETE", del, nil, map[string]string{"X-CSRF-Token": c.csrf}); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if rec := c.do("DELETE", del, nil, map[string]string{"X-CSRF-Token": c.csrf}); rec.Code != http.StatusNotFound {
		t.Fatalf("delete again: %d", rec.Code)
	}
	c.get("/api/runs/"+run+"/labels?user=ana", &got)
	if len(got.Labels) != 3 {
		t.Fatalf("after delete: %+v", got.Labels)
	}
	for _, bad := range []string{
		`{"task":"mtbench-ref","item":"nope","kind":"rating","value":3}`,
		`{"task":"mtbench-ref","item":"` + p.Items[0].ID + `","kind":"preference","value":"C"}`,
		`{"task":"mtbench-ref","item":"` + p.Items[0].ID + `","kind":"mood","value":"x"}`,
		`{"task":"mtbench-ref","item":"` + p.Items[0].ID + `"}`,
		`not json`,
	} {
		if rec := c.post(target, bad); rec.Code != 400 && rec.Code != 404 {
			t.Errorf("%s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	// Bodies over 1 MiB are refused: a label and an import.
	huge := `{"task":"mtbench-ref","item":"` + p.Items[0].ID + `","kind":"note","value":"` + strings.Repeat("x", MaxBody) + `"}`
	if rec := c.post(target, huge); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize label: %d", rec.Code)
	}
	line := `{"id":"` + p.Items[0].ID + `","label":"A","annotator":"zed"}` + "\n"
	if rec := c.post(target+"/import", strings.Repeat(line, MaxBody/len(line)+1)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize import: %d", rec.Code)
	}
	if ls, _ := st.Labels(context.Background(), run, store.LabelFilter{User: "zed"}); len(ls) != 0 {
		t.Fatal("an oversize import stored labels")
	}
}

func TestLabelsExportImportAgreement(t *testing.T) {
	st := quickstart(t)
	c := newClient(t, st, Options{})
	run := quickstartRuns[0]
	var p itemsPage
	c.get("/api/runs/"+run+"/items?limit=6", &p)
	ana := []string{"A", "B", "B", "tie", "A", "B"}
	ben := []string{"A", "B", "A", "tie", "B", "B"}
	for i, it := range p.Items {
		for user, vals := range map[string][]string{"ana": ana, "ben": ben} {
			rec := c.post("/api/runs/"+run+"/labels", `{"task":"mtbench-ref","item":"`+it.ID+`","kind":"preference","value":"`+vals[i]+`","user":"`+user+`"}`)
			if rec.Code != http.StatusCreated {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
		c.post("/api/runs/"+run+"/labels", `{"task":"mtbench-ref","item":"`+it.ID+`","kind":"rating","value":`+string(rune('3'+i))+`}`)
	}
	rec := c.do("GET", "/api/runs/"+run+"/labels/export", nil, nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson" ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), `filename="labels-`+run+`-preference.jsonl"`) {
		t.Fatalf("export: %d %v", rec.Code, rec.Header())
	}
	path := filepath.Join(t.TempDir(), "labels.jsonl")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	labels, err := judge.ReadCalibrationLabels(path)
	if err != nil || len(labels) != 12 || labels[0].Annotator != "ana" || labels[0].ID != p.Items[0].ID && labels[0].ID > p.Items[0].ID {
		t.Fatalf("judge calibrate reads the export: %d labels, %v", len(labels), err)
	}
	// Import into the other run: the same labels come back.
	other := quickstartRuns[1]
	rec = c.post("/api/runs/"+other+"/labels/import", rec.Body.String())
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"imported":12`) {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	back := c.do("GET", "/api/runs/"+other+"/labels/export", nil, nil)
	if first := c.do("GET", "/api/runs/"+run+"/labels/export", nil, nil); back.Body.String() != first.Body.String() {
		t.Fatalf("export after import differs:\n%s\n%s", back.Body, first.Body)
	}
	rec = c.post("/api/runs/"+other+"/labels/import?name=mine.jsonl", `{"id":"1","label":"A"}`+"\n"+`{"id":"2","label":"maybe"}`)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `mine.jsonl line 2: field \"label\"`) {
		t.Fatalf("bad import: %d %s", rec.Code, rec.Body)
	}
	var agree struct{ Pairs []agreementJSON }
	c.get("/api/runs/"+run+"/labels/agreement", &agree)
	if len(agree.Pairs) != 1 || agree.Pairs[0].Users != [2]string{"ana", "ben"} || agree.Pairs[0].N != 6 || agree.Pairs[0].Kind != "preference" {
		t.Fatalf("agreement: %+v", agree.Pairs)
	}
	wantKappa, _ := judge.KappaCohen(ana, ben, judge.KappaUnweighted)
	if *agree.Pairs[0].Agreement != 4.0/6 || *agree.Pairs[0].Kappa != wantKappa {
		t.Fatalf("agreement %v kappa %v; want 4/6, %v", *agree.Pairs[0].Agreement, *agree.Pairs[0].Kappa, wantKappa)
	}
}

// Hostile model output comes back as JSON strings, never as markup, and no
// route serves HTML built from data.
func TestXSSOutputsAreJSON(t *testing.T) {
	st := quickstart(t)
	hostile := `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	syntheticRun(t, st, "xss", 4, func(m string, i int) string { return hostile })
	c := newClient(t, st, Options{})
	for _, target := range []string{"/api/runs/xss/items", "/api/runs/xss/items/t/item-000001", "/api/compare?a=xss&b=xss&model=tuned"} {
		rec := c.get(target, nil)
		body := rec.Body.String()
		if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || strings.ContainsAny(body, "<>") {
			t.Fatalf("%s: %s\n%s", target, rec.Header().Get("Content-Type"), body)
		}
	}
	var p itemsPage
	c.get("/api/runs/xss/items", &p)
	if p.Items[0].Outputs[0].Text != hostile {
		t.Fatalf("text changed on the way: %q", p.Items[0].Outputs[0].Text)
	}
	// A page route named after data still answers the static page only.
	rec := c.do("GET", "/runs/%3Cscript%3E/items", nil, nil)
	if strings.Contains(rec.Body.String(), "<script>alert") {
		t.Fatal("data reflected into HTML")
	}
}

func TestCompare(t *testing.T) {
	c := newClient(t, quickstart(t), Options{})
	a, b := quickstartRuns[0], quickstartRuns[1]
	var p itemsPage
	c.get("/api/compare?a="+a+"&b="+b+"&limit=200", &p)
	if p.A != a || p.B != b || p.Model != "vicuna-13b" || p.Total != 30 {
		t.Fatalf("compare: %+v", p)
	}
	for _, it := range p.Items {
		// The second run answered from the cache: the same outputs and scores.
		if it.Outputs[0].Side != "a" || it.Outputs[1].Run != b || it.Outputs[0].Text != it.Outputs[1].Text || it.Delta != nil && *it.Delta != 0 {
			t.Fatalf("item %s: %+v", it.ID, it)
		}
	}
	c.get("/api/compare?a="+a+"&b="+b+"&model=llama-13b&filter=worst&limit=2", &p)
	if p.Model != "llama-13b" || len(p.Items) != 2 || p.Items[0].Outputs[0].Model != "llama-13b" {
		t.Fatalf("compare the baseline: %+v", p)
	}
	for _, bad := range []string{"?a=" + a, "?a=" + a + "&b=" + b + "&model=gpt", "?a=" + a + "&b=nope"} {
		if rec := c.do("GET", "/api/compare"+bad, nil, nil); rec.Code != 400 && rec.Code != 404 {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
}

// A running run streams its progress while results are written, then
// finished; the poll interval is 10 ms, and the test waits on what it reads.
func TestEvents(t *testing.T) {
	st := quickstart(t)
	ctx := context.Background()
	if err := st.CreateRun(ctx, store.Run{ID: "live", Name: "live", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(st, Options{PollInterval: 10 * time.Millisecond, Assets: testPage}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/runs/live/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() (string, string) {
		t.Helper()
		var event, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && event != "":
				return event, data
			}
		}
		return "", ""
	}
	ev, data := next()
	if ev != "progress" || !strings.Contains(data, `"total":0`) {
		t.Fatalf("first event %s %s", ev, data)
	}
	var rs []store.Result
	for _, id := range []string{"1", "2", "3"} {
		rs = append(rs, store.Result{RunID: "live", Model: "m", Task: "t", ItemID: id, RequestHash: "x"})
	}
	rs[2].Error = "boom"
	if err := st.PutResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for {
		ev, data = next()
		if ev != "progress" {
			t.Fatalf("event %q %s before the results showed", ev, data)
		}
		if strings.Contains(data, `"total":3`) {
			break
		}
	}
	var p progressJSON
	if err := json.Unmarshal([]byte(data), &p); err != nil || len(p.Results) != 1 || p.Results[0] != (countJSON{Model: "m", Task: "t", Done: 3, Failed: 1}) {
		t.Fatalf("progress %s", data)
	}
	if err := st.FinishRun(ctx, "live", "fail", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	for ev == "progress" {
		ev, data = next()
	}
	if ev != "finished" || !strings.Contains(data, `"verdict":"fail"`) {
		t.Fatalf("last event %s %s", ev, data)
	}
	if ev, _ := next(); ev != "" {
		t.Fatalf("stream goes on after finished: %s", ev)
	}
	// A running run has no report or items yet.
	c := newClient(t, st, Options{})
	if err := st.CreateRun(ctx, store.Run{ID: "live2", Name: "live", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/api/runs/live2", "/api/runs/live2/items"} {
		if rec := c.do("GET", target, nil, nil); rec.Code != http.StatusConflict {
			t.Errorf("%s: %d; want 409", target, rec.Code)
		}
	}
}

// Many first requests at once build the run's index once and agree.
func TestItemsConcurrent(t *testing.T) {
	c := newClient(t, quickstart(t), Options{})
	base := "/api/runs/" + quickstartRuns[0] + "/items?limit=200&filter="
	filters := []string{"all", "worst", "flipped", "failed", "all", "worst", "flipped", "failed"}
	totals := make([]int, len(filters))
	done := make(chan int)
	for i, f := range filters {
		go func() {
			defer func() { done <- i }()
			req := httptest.NewRequest("GET", "http://127.0.0.1:7420"+base+f, nil)
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, req)
			var p itemsPage
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
				t.Errorf("%s: %d %s", f, rec.Code, rec.Body)
				return
			}
			totals[i] = p.Total
		}()
	}
	for range filters {
		<-done
	}
	for i := range 4 {
		if totals[i] != totals[i+4] {
			t.Fatalf("filter %s: %d and %d items", filters[i], totals[i], totals[i+4])
		}
	}
	if totals[0] != 30 {
		t.Fatalf("all: %d", totals[0])
	}
}
