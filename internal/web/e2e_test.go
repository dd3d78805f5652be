package web_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/judge"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/web"
)

// The end-to-end tests drive the viewer page in a real headless Chromium
// over the real handler and a real SQLite store: what a person sees and
// presses, under the server's Content-Security-Policy.

var updateShots = flag.Bool("update-screenshot", false, "write docs/viewer-example.png from the items page of the end-to-end test")

// chromium finds a headless-capable Chromium. Without one the browser tests
// are skipped on a workstation, but fail in CI (CI set) or when
// TUNECHECK_REQUIRE_BROWSER=1, so that the check cannot silently vanish.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const hint = "chromium is not installed; install Debian's chromium (apt-get update && apt-get install -y chromium; scripts/test.sh does it)"
	if os.Getenv("CI") != "" || os.Getenv("TUNECHECK_REQUIRE_BROWSER") == "1" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// browser is one headless Chromium tab with what the page did that a test
// must see: dialogs (alert, confirm) and script errors or CSP violations.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	dialogs  []string
	problems []string
}

// newBrowser starts Chromium for one test, bounded to 60 seconds in all.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1150),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	cctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancel()
	})
	b := &browser{ctx: cctx}
	if err := chromedp.Do(cctx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	err := chromedp.Listen(cctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, string(e.Type)+": "+e.Message)
			// Dismiss it, or the page hangs; from another goroutine, since
			// a listener must not send commands.
			go chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.problems = append(b.problems, "exception: "+msg)
		case *log.EventEntryAdded:
			// Network errors (a 404 the page handles) are not the page's
			// fault; a CSP violation (source security) or a script error is.
			if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
				b.problems = append(b.problems, string(e.Entry.Source)+": "+e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do runs steps in the tab; a failure says which step and what the page logged.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage errors: %q", what, err, b.seen().problems)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatalf("%s: %v\npage errors: %q", what, err, b.seen().problems)
	}
	return v
}

type seen struct{ dialogs, problems []string }

func (b *browser) seen() seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return seen{append([]string(nil), b.dialogs...), append([]string(nil), b.problems...)}
}

// checkClean fails the test on any dialog, script exception or CSP report.
func (b *browser) checkClean(t *testing.T) {
	t.Helper()
	s := b.seen()
	if len(s.dialogs) > 0 {
		t.Errorf("the page opened dialogs: %q", s.dialogs)
	}
	if len(s.problems) > 0 {
		t.Errorf("the page logged errors: %q", s.problems)
	}
}

// visible waits until the CSS selector matches a visible element. Waits are
// on selectors that hold only once the page is in the awaited state (never
// a sleep; chromedp's Poll is no use here: it compiles its predicate with
// new Function, which the page's CSP forbids).
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func text(t *testing.T, b *browser, sel string) string {
	t.Helper()
	return get(t, b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// eval evaluates a JavaScript expression in the page (awaiting a promise).
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return get(t, b, expr, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// press presses keys one at a time, as a person does.
func press(ks ...string) chromedp.Action[chromedp.Void] {
	steps := make([]chromedp.Action[chromedp.Void], len(ks))
	for i, k := range ks {
		steps[i] = chromedp.KeyEvent(k)
	}
	return chromedp.Steps(steps...)
}

// item is the selector of an item's entry in the items list.
func item(id, inner string) string {
	return fmt.Sprintf(`[data-testid="item"][data-item=%q] %s`, id, inner)
}

// detail is the selector of the item shown in full.
func detail(id string) string {
	return fmt.Sprintf(`[data-testid="item-detail"][data-item=%q]`, id)
}

const repoRoot = "../.."

// runPlan runs a plan into the SQLite store at dsn and returns the run id.
func runPlan(t *testing.T, dsn, planPath string) string {
	t.Helper()
	res, err := app.Run(context.Background(), app.Options{PlanPath: planPath, StoreDSN: dsn, OutputDir: t.TempDir(), ToolVersion: "dev"})
	if err != nil {
		t.Fatalf("running %s: %v", planPath, err)
	}
	return res.RunID
}

// flipPlan is the quickstart's models and questions with a pass/fail
// metric, so that items flip: whether the answer says "first" (Vicuna's
// step-by-step answers say it far more often than LLaMA's).
func flipPlan(t *testing.T) string {
	t.Helper()
	data, err := filepath.Abs(filepath.Join(repoRoot, "examples", "quickstart", "data"))
	if err != nil {
		t.Fatal(err)
	}
	plan := fmt.Sprintf(`version: 1
name: viewer-e2e
seed: 1234
models:
  - {name: llama-13b, provider: file, path: %[1]q}
  - {name: vicuna-13b, provider: file, path: %[2]q}
tasks:
  - name: mtbench-ref
    dataset: {path: %[3]q, id_field: question_id}
    prompt: {template: "{{ question }}"}
    reference: reference
    scorers:
      - name: regex
        options: {pattern: "(?i)first", name: says_first}
      - name: token_f1
    slices:
      - field: category
compare: {baseline: llama-13b, candidate: vicuna-13b}
gates:
  - mtbench-ref.token_f1.delta >= 0
`, filepath.Join(data, "llama-13b.jsonl"), filepath.Join(data, "vicuna-13b-v1.3.jsonl"), filepath.Join(data, "mtbench_ref30.jsonl"))
	p := filepath.Join(t.TempDir(), "viewer-e2e.yaml")
	if err := os.WriteFile(p, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// serve starts the viewer over the store at dsn, as user ana, and returns
// its URL and the store.
func serve(t *testing.T, dsn string, poll time.Duration) (string, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(st, web.Options{User: "ana", PollInterval: poll}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return srv.URL, st
}

// A person opens a run's flipped items, labels three with the keyboard
// (1 = left, j = next, 2 = right, 3 = tie), and exports the labels: the
// file is judge calibrate's human labels, left being the baseline (A).
func TestViewerLabelFlippedItemsWithKeyboard(t *testing.T) {
	b := newBrowser(t)
	dsn := filepath.Join(t.TempDir(), "tc.db")
	runPlan(t, dsn, filepath.Join(repoRoot, "examples", "quickstart", "tunecheck.yaml"))
	id := runPlan(t, dsn, flipPlan(t))
	base, st := serve(t, dsn, 0)

	// The runs page lists both runs; the run page shows the verdict and a
	// forest plot with one interval per compared metric.
	b.do(t, "runs page", chromedp.Navigate(base+"/#/runs"), visible(`[data-testid="run-row"]:nth-child(2)`))
	if n := eval[int](t, b, `document.querySelectorAll('[data-testid="run-row"]').length`); n != 2 {
		t.Errorf("runs page lists %d runs, want 2", n)
	}
	b.do(t, "run page", chromedp.Navigate(base+"/#/run/"+id), visible(`[data-testid="forest"]`))
	if banner := text(t, b, `[data-testid="verdict"]`); !strings.Contains(banner, "gates") {
		t.Errorf("verdict banner %q", banner)
	}
	if n := eval[int](t, b, `document.querySelectorAll('[data-testid="forest"] line.ci').length`); n != 2 {
		t.Errorf("forest plot has %d intervals, want 2 (says_first, token_f1)", n)
	}

	b.do(t, "flipped items", chromedp.Navigate(base+"/#/run/"+id+"/items?filter=flipped"), visible(`[data-testid="item-detail"]`))
	ids := eval[[]string](t, b, `[...document.querySelectorAll('[data-testid="item"]')].map(li => li.dataset.item)`)
	if len(ids) < 3 {
		t.Fatalf("flipped items %v (%s): want at least 3", ids, text(t, b, `[data-testid="count"]`))
	}
	for _, f := range eval[[]string](t, b, `[...document.querySelectorAll('[data-testid="item"] .badge')].map(e => e.textContent)`) {
		if f != "regressed" && f != "fixed" {
			t.Errorf("a flipped item's badge says %q", f)
		}
	}

	b.do(t, "label with the keyboard",
		visible(detail(ids[0])),
		press("1"), visible(item(ids[0], `[data-testid="labelled"]`)),
		press("j"), visible(detail(ids[1])),
		press("2"), visible(item(ids[1], `[data-testid="labelled"]`)),
		press("j"), visible(detail(ids[2])),
		press("3"), visible(item(ids[2], `[data-testid="labelled"]`)),
		visible(`[data-testid="label-state-labelled"]`),
	)
	if n := eval[int](t, b, `document.querySelectorAll('[data-testid="labelled"]').length`); n != 3 {
		t.Errorf("%d items marked labelled, want 3", n)
	}
	left, right := text(t, b, `[data-testid="name-left"]`), text(t, b, `[data-testid="name-right"]`)
	if !strings.Contains(left, "llama-13b") || !strings.Contains(right, "vicuna-13b") {
		t.Errorf("sides %q | %q: want the baseline left and the candidate right", left, right)
	}

	// Export: the page's link, fetched from the page.
	href := eval[string](t, b, `document.querySelector('[data-testid="export-preference"]').href`)
	if !strings.Contains(href, "/api/runs/"+id+"/labels/export") {
		t.Errorf("export link %q", href)
	}
	exported := eval[string](t, b, fmt.Sprintf(`fetch(%q).then(r => r.ok ? r.text() : Promise.reject(new Error(r.status + ' ' + r.statusText)))`, href))
	path := filepath.Join(t.TempDir(), "labels.jsonl")
	if err := os.WriteFile(path, []byte(exported), 0o644); err != nil {
		t.Fatal(err)
	}
	labels, err := judge.ReadCalibrationLabels(path)
	if err != nil {
		t.Fatalf("the export is not judge calibrate's human labels file: %v\n%s", err, exported)
	}
	want := map[string]string{ids[0]: "A", ids[1]: "B", ids[2]: "tie"}
	if len(labels) != 3 {
		t.Fatalf("exported %d labels, want 3:\n%s", len(labels), exported)
	}
	for _, l := range labels {
		if l.Value.IsScore || l.Value.Choice != want[l.ID] || l.Annotator != "ana" {
			t.Errorf("label %+v: want %q by ana", l, want[l.ID])
		}
	}

	// r then a digit rates the item; t opens the tag field, Enter adds it.
	b.do(t, "rate and tag",
		press("r", "7"), visible(`[data-testid="label-state-labelled"][data-rating="7"]`),
		press("t"), visible(`[data-testid="tag-input"]:focus`),
		chromedp.KeyEvent("short\r"), visible(`[data-testid="label-state-labelled"][data-tags="short"]`),
	)
	if s := text(t, b, `[data-testid="label-state-labelled"]`); s != "labelled: tie · rating 7 · tags short" {
		t.Errorf("label state %q", s)
	}
	ratings := eval[string](t, b, `fetch(document.querySelector('[data-testid="export-rating"]').href).then(r => r.text())`)
	if want := fmt.Sprintf(`{"id":%q,"label":7,"annotator":"ana"`, ids[2]); !strings.Contains(ratings, want) {
		t.Errorf("rating export %q lacks %s", ratings, want)
	}

	// A second person's labels of the same items bring the agreement panel.
	for i, v := range []string{`"A"`, `"A"`, `"tie"`} {
		if _, err := st.AddLabel(context.Background(), store.Label{RunID: id, Task: "mtbench-ref", ItemID: ids[i], User: "ben", Kind: store.LabelPreference, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	b.do(t, "agreement", chromedp.Reload(), visible(`[data-testid="agreement"]`))
	if a := text(t, b, `[data-testid="agreement"]`); !strings.Contains(a, "ana & ben") || !strings.Contains(a, "0.667") {
		t.Errorf("agreement panel reads %q: want ana & ben agreeing on 2 of 3", a)
	}

	// Blind mode hides the model names, and goes off again.
	b.do(t, "blind mode on", chromedp.Click(chromedp.CSS(`[data-testid="blind"]`)), visible(`[data-testid="blind"].on`), visible(`[data-testid="item-detail"]`))
	left, right = text(t, b, `[data-testid="name-left"]`), text(t, b, `[data-testid="name-right"]`)
	if strings.Contains(left+right, "llama") || strings.Contains(left+right, "vicuna") {
		t.Errorf("blind mode shows the models: %q | %q", left, right)
	}
	// A blind preference is recorded as the side the person pressed; the
	// server maps it to a model.
	b.do(t, "blind label",
		press("j", "j", "j"), visible(detail(ids[3])),
		press("1"), visible(`[data-testid="label-state-labelled"][data-preference="left"]`))
	b.do(t, "blind mode off", chromedp.Click(chromedp.CSS(`[data-testid="blind"]`)), visible(`[data-testid="blind"][aria-pressed="false"]`),
		press("j", "j", "j"), visible(detail(ids[3])), visible(`[data-testid="label-state-labelled"][data-preference]`))
	if names := text(t, b, `[data-testid="name-left"]`) + text(t, b, `[data-testid="name-right"]`); !strings.Contains(names, "llama-13b") {
		t.Errorf("out of blind mode the sides read %q", names)
	}

	// The permalink of the first item opens it with its label.
	b.do(t, "permalink", chromedp.Navigate(base+"/#/run/"+id+"/item/mtbench-ref/"+ids[0]), visible(`[data-testid="label-state-labelled"]`))
	if state := text(t, b, `[data-testid="label-state-labelled"]`); !strings.Contains(state, "prefers left") {
		t.Errorf("permalink label state %q", state)
	}

	// The screenshot for the docs: the flipped items with the labels.
	b.do(t, "items again", chromedp.Navigate(base+"/#/run/"+id+"/items?filter=flipped"), visible(item(ids[2], `[data-testid="labelled"]`)))
	shot := get(t, b, "screenshot", chromedp.CaptureScreenshot())
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if bnd := img.Bounds(); bnd.Dx() < 1000 || bnd.Dy() < 600 {
		t.Errorf("screenshot is %v", bnd)
	}
	if *updateShots {
		if err := os.WriteFile(filepath.Join(repoRoot, "docs", "viewer-example.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.checkClean(t)
}

// Hostile model outputs, prompts and references are shown as text: no
// markup from data runs, so no dialog opens and the text reads literally.
func TestViewerShowsHostileOutputsAsText(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	const (
		img    = `<img src=x onerror=alert(1)>`
		script = `<script>alert(2)</script>`
		svg    = `<svg onload=alert(3)>`
	)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("data.jsonl", fmt.Sprintf(`{"id": "x1", "question": %[1]q, "answer": %[2]q}
{"id": "x2", "question": "plain question", "answer": "fine"}
`, "Say "+script, "ok "+svg))
	write("base.jsonl", fmt.Sprintf(`{"id": "x1", "output": %q}
{"id": "x2", "output": "fine"}
`, "ok "+svg))
	write("cand.jsonl", fmt.Sprintf(`{"id": "x1", "output": %q}
{"id": "x2", "output": %q}
`, "Here "+img+" and "+script, "fine "+img))
	write("plan.yaml", `version: 1
name: hostile
seed: 1
models:
  - {name: base, provider: file, path: base.jsonl}
  - {name: cand, provider: file, path: cand.jsonl}
tasks:
  - name: xss
    dataset: {path: data.jsonl, id_field: id}
    prompt: {template: "{{ question }}"}
    reference: answer
    scorers:
      - name: exact_match
compare: {baseline: base, candidate: cand}
`)
	dsn := filepath.Join(dir, "tc.db")
	id := runPlan(t, dsn, filepath.Join(dir, "plan.yaml"))
	base, _ := serve(t, dsn, 0)

	b.do(t, "hostile items", chromedp.Navigate(base+"/#/run/"+id+"/items"), visible(detail("x1")))
	leftText, rightText := text(t, b, `[data-testid="output-left"]`), text(t, b, `[data-testid="output-right"]`)
	prompt := text(t, b, `[data-testid="prompt"]`)
	if !strings.Contains(rightText, img) || !strings.Contains(rightText, script) {
		t.Errorf("right output reads %q: want the markup literally", rightText)
	}
	if !strings.Contains(leftText, svg) {
		t.Errorf("left output reads %q", leftText)
	}
	if !strings.Contains(prompt, script) {
		t.Errorf("prompt reads %q", prompt)
	}
	if n := eval[int](t, b, `document.querySelectorAll('#app img, #app script, #app iframe, [onerror], [onload]').length`); n != 0 {
		t.Errorf("the page holds %d elements made from data", n)
	}
	b.do(t, "next item", press("j"), visible(detail("x2")))
	if s := text(t, b, `[data-testid="output-right"]`); !strings.Contains(s, img) {
		t.Errorf("second item's right output reads %q", s)
	}
	// The run page and the runs list show the same run, as text too.
	b.do(t, "run page", chromedp.Navigate(base+"/#/run/"+id), visible(`[data-testid="verdict"]`),
		chromedp.Navigate(base+"/#/runs"), visible(`[data-testid="run-row"]`))
	b.checkClean(t)
}

// The page is written for the CSP every answer carries: no inline script
// or style, no style attribute. A violation would show in checkClean.
func TestViewerPageUnderCSP(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "tc.db")
	id := runPlan(t, dsn, filepath.Join(repoRoot, "examples", "quickstart", "tunecheck.yaml"))
	base, _ := serve(t, dsn, 0)
	b := newBrowser(t)
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(base+"/"))
	if err != nil {
		t.Fatal(err)
	}
	csp, _ := resp.Headers["Content-Security-Policy"].(string)
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	pages := map[string]string{
		"/#/runs":                                `[data-testid="run-row"]`,
		"/#/run/" + id:                           `[data-testid="forest"]`,
		"/#/run/" + id + "/items?filter=worst":   `[data-testid="item-detail"]`,
		"/#/compare?a=" + id + "&b=" + id:        `[data-testid="item-detail"] [data-testid="output-right"]`,
		"/runs/" + id + "/items/mtbench-ref/101": `[data-testid="item-detail"][data-item="101"]`,
	}
	for _, page := range slices.Sorted(maps.Keys(pages)) {
		b.do(t, page, chromedp.Navigate(base+page), visible(pages[page]))
		if n := eval[int](t, b, `document.querySelectorAll('[style]').length`); n != 0 {
			t.Errorf("%s: %d elements carry a style attribute", page, n)
		}
		if e := eval[int](t, b, `document.querySelectorAll('[data-testid="error"]').length`); e != 0 {
			t.Errorf("%s: the page shows an error: %s", page, text(t, b, `[data-testid="error"]`))
		}
	}
	b.checkClean(t)
}

// A running run's page follows its progress from the server's events and
// shows the report once the run finishes.
func TestViewerFollowsRunningRun(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "tc.db")
	done := runPlan(t, dsn, filepath.Join(repoRoot, "examples", "quickstart", "tunecheck.yaml"))
	base, st := serve(t, dsn, 20*time.Millisecond)
	ctx := context.Background()
	finished, err := st.GetRun(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRun(ctx, store.Run{ID: "live", Name: "quickstart-mtbench", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do(t, "running run", chromedp.Navigate(base+"/#/run/live"), visible(`[data-testid="progress"]`))
	var rs []store.Result
	for _, item := range []string{"81", "82", "83"} {
		rs = append(rs, store.Result{RunID: "live", Model: "vicuna-13b", Task: "mtbench-ref", ItemID: item, RequestHash: "h" + item})
	}
	rs[2].Error = "timeout"
	if err := st.PutResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	b.do(t, "progress", visible(`[data-testid="progress"][data-results="3"][data-failed="1"]`))
	if err := st.FinishRun(ctx, "live", finished.Verdict, finished.Summary); err != nil {
		t.Fatal(err)
	}
	b.do(t, "finished", visible(`[data-testid="verdict"][data-verdict="pass"]`), visible(`[data-testid="forest"]`))
	b.checkClean(t)
}
