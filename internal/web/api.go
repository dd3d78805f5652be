package web

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/tunecheck/tunecheck/internal/safety/pii"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// Paging bounds of the items routes.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// ---------------------------------------------------------------- runs

type runJSON struct {
	ID        string     `json:"id"`
	Plan      string     `json:"plan"`
	PlanHash  string     `json:"plan_hash"`
	Status    string     `json:"status"`
	Verdict   string     `json:"verdict"`
	Started   time.Time  `json:"started"`
	Finished  *time.Time `json:"finished"`
	Models    []string   `json:"models"`
	Baseline  string     `json:"baseline"`
	Candidate string     `json:"candidate"`
	Tasks     []string   `json:"tasks"`
	Gates     []gateJSON `json:"gates"`
}

type gateJSON struct {
	Expr   string      `json:"expr"`
	Status string      `json:"status"`
	Value  float64     `json:"value"`
	Low    float64     `json:"ci_low"`
	High   float64     `json:"ci_high"`
	Reason string      `json:"reason"`
	Trend  []trendJSON `json:"trend"`
}

type trendJSON struct {
	Run    string  `json:"run"`
	Value  float64 `json:"value"`
	Status string  `json:"status"`
}

// summaries caches decoded summaries of finished runs, which never change.
type summaries struct {
	mu sync.Mutex
	m  map[string]*report.Report
}

func (s *server) summaryOf(run store.Run) *report.Report {
	if run.Status != store.StatusFinished || len(run.Summary) == 0 {
		return nil
	}
	c := &s.sums
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*report.Report{}
	}
	defer c.mu.Unlock()
	if r, ok := c.m[run.ID]; ok {
		return r
	}
	r, err := report.Decode(run.Summary)
	if err != nil {
		s.log.Warn("viewer: undecodable summary", "run", run.ID, "err", err)
		r = nil
	}
	c.m[run.ID] = r
	return r
}

func (s *server) runJSON(run store.Run, rep *report.Report) runJSON {
	out := runJSON{ID: run.ID, Plan: run.Name, PlanHash: run.PlanHash, Status: run.Status, Verdict: run.Verdict,
		Started: run.StartedAt, Models: []string{}, Tasks: []string{}, Gates: []gateJSON{}}
	if !run.FinishedAt.IsZero() {
		f := run.FinishedAt
		out.Finished = &f
	}
	if rep == nil {
		var ms []struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(run.Models, &ms) == nil {
			for _, m := range ms {
				out.Models = append(out.Models, m.Name)
			}
		}
		return out
	}
	for _, m := range rep.Models {
		if m.Role != report.RoleJudge {
			out.Models = append(out.Models, m.Name)
		}
	}
	if rep.Compare != nil {
		out.Baseline, out.Candidate = rep.Compare.Baseline, rep.Compare.Candidate
	}
	for _, t := range rep.Tasks {
		out.Tasks = append(out.Tasks, t.Name)
	}
	for _, g := range rep.Gates {
		out.Gates = append(out.Gates, gateJSON{Expr: g.Expr, Status: string(g.Status), Value: g.Value, Low: g.Low, High: g.High, Reason: g.Reason, Trend: []trendJSON{}})
	}
	return out
}

func (s *server) runs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", 100)
	if err != nil {
		s.fail(w, err)
		return
	}
	limit = min(max(limit, 1), 1000)
	plan, text := q.Get("plan"), strings.ToLower(q.Get("q"))
	all, err := s.st.ListRuns(r.Context(), plan, 0)
	if err != nil {
		s.fail(w, err)
		return
	}
	// The trend of a gate reads the plan's earlier finished runs, oldest first.
	history := map[string][]store.Run{}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Status == store.StatusFinished {
			history[all[i].Name] = append(history[all[i].Name], all[i])
		}
	}
	out := []runJSON{}
	for _, run := range all {
		if len(out) == limit {
			break
		}
		if text != "" && !strings.Contains(strings.ToLower(run.ID), text) && !strings.Contains(strings.ToLower(run.Name), text) {
			continue
		}
		rj := s.runJSON(run, s.summaryOf(run))
		if len(rj.Gates) > 0 {
			hist := history[run.Name]
			at := slices.IndexFunc(hist, func(h store.Run) bool { return h.ID == run.ID })
			window := hist[max(0, at-19) : at+1]
			for gi := range rj.Gates {
				for _, h := range window {
					hr := s.summaryOf(h)
					if hr == nil {
						continue
					}
					for _, g := range hr.Gates {
						if g.Expr == rj.Gates[gi].Expr {
							rj.Gates[gi].Trend = append(rj.Gates[gi].Trend, trendJSON{Run: h.ID, Value: g.Value, Status: string(g.Status)})
							break
						}
					}
				}
			}
		}
		out = append(out, rj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

func (s *server) run(w http.ResponseWriter, r *http.Request) {
	run, err := s.resolveRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	rep := s.summaryOf(run)
	if rep == nil {
		s.fail(w, &httpError{http.StatusConflict, fmt.Sprintf("run %s has no report yet (status %s): follow it with GET /api/runs/%s/events", run.ID, run.Status, run.ID)})
		return
	}
	slim, _ := rep.SplitRecords()
	writeJSON(w, http.StatusOK, map[string]any{"run": s.runJSON(run, rep), "report": slim})
}

// ---------------------------------------------------------------- items

// itemQuery is an items page's parameters (docs/viewer.md).
type itemQuery struct {
	task, filter, metric, slice, group, text, sort, order string
	offset, limit                                         int
	blind                                                 bool
	user                                                  string
}

func (s *server) parseItemQuery(q url.Values) (itemQuery, error) {
	iq := itemQuery{task: q.Get("task"), filter: cmp.Or(q.Get("filter"), "all"), metric: q.Get("metric"),
		slice: q.Get("slice"), group: q.Get("group"), text: strings.ToLower(q.Get("q")),
		sort: q.Get("sort"), order: q.Get("order"), blind: s.o.Blind, user: cmp.Or(q.Get("user"), s.o.User)}
	switch iq.filter {
	case "all", "worst", "flipped", "failed":
	default:
		return iq, badRequest(fmt.Sprintf("filter %q: want all, worst, flipped or failed", iq.filter))
	}
	if iq.sort == "" {
		iq.sort = "dataset"
		if iq.filter == "worst" {
			iq.sort = "delta"
		}
	}
	switch iq.sort {
	case "dataset", "id", "delta":
	default:
		return iq, badRequest(fmt.Sprintf("sort %q: want dataset, id or delta", iq.sort))
	}
	switch iq.order {
	case "", "asc", "desc":
	default:
		return iq, badRequest(fmt.Sprintf("order %q: want asc or desc", iq.order))
	}
	if iq.slice != "" && !q.Has("group") {
		return iq, badRequest("slice needs group: the slice's value to keep")
	}
	var err error
	if iq.offset, err = intParam(q, "offset", 0); err != nil {
		return iq, err
	}
	if iq.limit, err = intParam(q, "limit", defaultLimit); err != nil {
		return iq, err
	}
	if iq.offset < 0 || iq.limit < 1 || iq.limit > maxLimit {
		return iq, badRequest(fmt.Sprintf("offset must be ≥ 0 and limit 1 to %d", maxLimit))
	}
	switch q.Get("blind") {
	case "":
	case "1", "true":
		iq.blind = true
	case "0", "false":
		iq.blind = false
	default:
		return iq, badRequest("blind: want 1 or 0")
	}
	return iq, nil
}

func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest(fmt.Sprintf("%s %q: want an integer", name, v))
	}
	return n, nil
}

// metricView is the metric an items page measures deltas on.
type metricView struct {
	name, direction string
	// flip is the pass/fail metric flips are read on ("": scored on one side only).
	flip string
}

func metricOf(t report.Task, name string) (metricView, error) {
	if name == "" {
		name = t.Primary
		if name == "" && len(t.Metrics) > 0 {
			name = t.Metrics[0]
		}
	}
	if _, ok := t.MetricInfo[name]; name != "" && !ok && !slices.Contains(t.Metrics, name) {
		return metricView{}, badRequest(fmt.Sprintf("task %s has no metric %q (metrics: %s)", t.Name, name, strings.Join(t.Metrics, ", ")))
	}
	mv := metricView{name: name, direction: cmp.Or(t.MetricInfo[name].Direction, "higher")}
	if t.MetricInfo[name].Binary {
		mv.flip = name
	} else {
		for _, m := range t.Metrics {
			if t.MetricInfo[m].Binary {
				mv.flip = m
				break
			}
		}
	}
	return mv, nil
}

// pairRow is one item seen as two outputs: baseline and candidate of a run,
// or one model in two runs. y is nil for a run of one model.
type pairRow struct {
	it, itB  *itemRow
	x, y     *outRow
	delta    float64
	hasDelta bool
	flip     string
}

func scored(o *outRow) bool { return o != nil && o.present && o.oc.Scored() }

func (p *pairRow) measure(mv metricView) {
	if scored(p.x) && scored(p.y) {
		a, okA := p.x.oc.Scores[mv.name]
		b, okB := p.y.oc.Scores[mv.name]
		if okA && okB {
			p.delta, p.hasDelta = b-a, true
		}
	}
	switch {
	case p.y == nil:
	case mv.flip != "":
		if scored(p.x) && scored(p.y) {
			a, okA := p.x.oc.Scores[mv.flip]
			b, okB := p.y.oc.Scores[mv.flip]
			switch {
			case !okA || !okB:
			case a >= 0.5 && b < 0.5:
				p.flip = "regressed"
			case a < 0.5 && b >= 0.5:
				p.flip = "fixed"
			}
		}
	case scored(p.x) && !scored(p.y):
		p.flip = "regressed"
	case !scored(p.x) && scored(p.y):
		p.flip = "fixed"
	}
}

func failedOut(o *outRow) bool {
	return o != nil && (!o.present || o.oc.Status == report.StatusFailed || o.oc.Status == report.StatusEmpty || o.oc.JudgeError != "")
}

// column is a pairing's per-item figures on one metric, computed once per
// (task, metric) for a run, so that a filter is a scan of flat slices.
type column struct {
	delta  []float64
	has    []bool
	flip   []string
	failed []bool
}

func makeColumn(rows []pairRow, mv metricView) *column {
	c := &column{delta: make([]float64, len(rows)), has: make([]bool, len(rows)), flip: make([]string, len(rows)), failed: make([]bool, len(rows))}
	for i := range rows {
		p := rows[i]
		p.measure(mv)
		c.delta[i], c.has[i], c.flip[i] = p.delta, p.hasDelta, p.flip
		c.failed[i] = failedOut(p.x) || failedOut(p.y)
	}
	return c
}

// selectRows filters and sorts rows by the query and returns the total that
// passed and the indexes (into rows) of the requested page.
func selectRows(rows []pairRow, col *column, iq itemQuery) []int32 {
	kept := make([]int32, 0, len(rows))
	for i := range rows {
		switch iq.filter {
		case "worst":
			if !col.has[i] {
				continue
			}
		case "flipped":
			if col.flip[i] == "" {
				continue
			}
		case "failed":
			if !col.failed[i] {
				continue
			}
		}
		if iq.slice != "" && rows[i].it.slices[iq.slice] != iq.group {
			continue
		}
		if iq.text != "" && !rows[i].matches(iq.text) {
			continue
		}
		kept = append(kept, int32(i))
	}
	return kept
}

// sortRows orders the kept rows; every order is total (ties by dataset
// position), so a page is the same on every request.
func sortRows(kept []int32, rows []pairRow, col *column, iq itemQuery, direction string) {
	desc := iq.order == "desc"
	switch iq.sort {
	case "id":
		slices.SortFunc(kept, func(a, b int32) int {
			return cmp.Or(cmp.Compare(rows[a].it.id, rows[b].it.id), cmp.Compare(rows[a].it.index, rows[b].it.index))
		})
	case "delta":
		if iq.order == "" {
			desc = direction == "lower" // the worst end first
		}
		slices.SortFunc(kept, func(a, b int32) int {
			ha, hb := col.has[a], col.has[b]
			switch {
			case ha != hb: // items without a delta last, either way
				if ha {
					return -1
				}
				return 1
			case ha && col.delta[a] != col.delta[b]:
				if desc {
					return cmp.Compare(col.delta[b], col.delta[a])
				}
				return cmp.Compare(col.delta[a], col.delta[b])
			}
			return cmp.Compare(rows[a].it.index, rows[b].it.index)
		})
		return
	default:
		slices.SortFunc(kept, func(a, b int32) int { return cmp.Compare(rows[a].it.index, rows[b].it.index) })
	}
	if desc {
		slices.Reverse(kept)
	}
}

// page cuts one page out of the selected rows.
func page(kept []int32, iq itemQuery) []int32 {
	lo := min(iq.offset, len(kept))
	return kept[lo:min(lo+iq.limit, len(kept))]
}

// queryKey names a selection, paging aside: later pages reuse it.
func (iq itemQuery) key(metric string) string {
	return strings.Join([]string{iq.filter, metric, iq.slice, iq.group, iq.text, iq.sort, iq.order}, "\x00")
}

func (p *pairRow) matches(text string) bool {
	if strings.Contains(p.it.hay, text) {
		return true
	}
	for _, o := range []*outRow{p.x, p.y} {
		if o != nil && strings.Contains(o.hay, text) {
			return true
		}
	}
	return false
}

type itemJSON struct {
	Task       string            `json:"task"`
	ID         string            `json:"id"`
	Index      int               `json:"index"`
	Prompt     string            `json:"prompt"`
	References []string          `json:"references"`
	Slices     map[string]string `json:"slices,omitempty"`
	Delta      *float64          `json:"delta"`
	Flip       string            `json:"flip"`
	Outputs    []outputJSON      `json:"outputs"`
}

type outputJSON struct {
	Side       string             `json:"side"`
	Run        string             `json:"run,omitempty"`
	Model      string             `json:"model,omitempty"`
	Text       string             `json:"text"`
	Status     string             `json:"status"`
	Error      string             `json:"error,omitempty"`
	JudgeError string             `json:"judge_error,omitempty"`
	Scores     map[string]float64 `json:"scores"`
	Judge      string             `json:"judge"`
}

func outJSON(side, run, model string, o *outRow) outputJSON {
	out := outputJSON{Side: side, Run: run, Model: model, Status: "missing", Scores: map[string]float64{}}
	if o == nil || !o.present {
		return out
	}
	out.Text, out.Status, out.Error, out.JudgeError, out.Judge = o.text, o.oc.Status, o.oc.Error, o.oc.JudgeError, o.judge
	if o.oc.Scores != nil {
		out.Scores = o.oc.Scores
	}
	return out
}

func baseItemJSON(task string, p pairRow) itemJSON {
	it := itemJSON{Task: task, ID: p.it.id, Index: p.it.index, Prompt: p.it.prompt, References: p.it.refs, Slices: p.it.slices, Flip: p.flip}
	if it.References == nil {
		it.References = []string{}
	}
	if p.hasDelta {
		d := p.delta
		it.Delta = &d
	}
	return it
}

// blindSwap says whether the candidate is shown on the left for this person
// and item: a hash of (run, task, item, user), stable across reloads.
func blindSwap(run, task, item, user string) bool {
	h := sha256.Sum256([]byte(run + "\x00" + task + "\x00" + item + "\x00" + user))
	return h[0]&1 == 1
}

// runItemJSON renders an item of a run: baseline and candidate, or left and
// right in blind mode.
func runItemJSON(idx *runIndex, ti *taskIndex, p pairRow, blind bool, user string) itemJSON {
	it := baseItemJSON(ti.task.Name, p)
	switch {
	case p.x == nil:
		it.Outputs = []outputJSON{}
		return it
	case p.y == nil:
		it.Outputs = []outputJSON{outJSON("model", "", ti.models[0], p.x)}
		return it
	}
	if !blind {
		it.Outputs = []outputJSON{outJSON("baseline", "", ti.models[0], p.x), outJSON("candidate", "", ti.models[1], p.y)}
		return it
	}
	left, right := outJSON("left", "", "", p.x), outJSON("right", "", "", p.y)
	if blindSwap(idx.run.ID, ti.task.Name, p.it.id, user) {
		left, right = outJSON("left", "", "", p.y), outJSON("right", "", "", p.x)
		if it.Delta != nil {
			d := -*it.Delta
			it.Delta = &d
		}
	}
	left.Judge, right.Judge = "", ""
	it.Outputs = []outputJSON{left, right}
	if it.Flip != "" {
		it.Flip = "changed" // which way would tell the sides apart
	}
	return it
}

// runRows pairs a task's baseline and candidate outcomes.
func runRows(ti *taskIndex) []pairRow {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if ti.rows != nil {
		return ti.rows
	}
	rows := make([]pairRow, len(ti.items))
	for i := range ti.items {
		it := &ti.items[i]
		p := pairRow{it: it}
		if len(it.outs) > 0 {
			p.x = &it.outs[0]
		}
		if len(it.outs) > 1 {
			p.y = &it.outs[1]
		}
		rows[i] = p
	}
	ti.rows = rows
	return rows
}

// selection returns the rows of a run's task that a query keeps, in order,
// computing the metric's column and the selection once: paging through a
// selection, or coming back to it, costs a slice.
func (ti *taskIndex) selection(iq itemQuery, mv metricView) ([]pairRow, *column, []int32) {
	rows := runRows(ti)
	ti.mu.Lock()
	col := ti.cols[mv.name]
	if col == nil {
		col = makeColumn(rows, mv)
		if ti.cols == nil {
			ti.cols = map[string]*column{}
		}
		ti.cols[mv.name] = col
	}
	key := iq.key(mv.name)
	kept, ok := ti.selections[key]
	ti.mu.Unlock()
	if ok {
		return rows, col, kept
	}
	kept = selectRows(rows, col, iq)
	sortRows(kept, rows, col, iq, mv.direction)
	ti.mu.Lock()
	if ti.selections == nil || len(ti.selections) >= maxSelections {
		ti.selections = map[string][]int32{}
	}
	ti.selections[key] = kept
	ti.mu.Unlock()
	return rows, col, kept
}

// maxSelections bounds the selections kept per task (a text search each).
const maxSelections = 32

func (s *server) items(w http.ResponseWriter, r *http.Request) {
	iq, err := s.parseItemQuery(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	idx, err := s.finishedIndex(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	ti, err := idx.taskOf(iq.task)
	if err != nil {
		s.fail(w, err)
		return
	}
	mv, err := metricOf(ti.task, iq.metric)
	if err != nil {
		s.fail(w, err)
		return
	}
	rows, _, kept := ti.selection(iq, mv)
	pg := page(kept, iq)
	items := make([]itemJSON, len(pg))
	for i, k := range pg {
		p := rows[k]
		p.measure(mv)
		items[i] = s.masked(runItemJSON(idx, ti, p, iq.blind, iq.user))
	}
	total := len(kept)
	base, cand := "", ""
	if len(ti.models) > 1 && !iq.blind {
		base, cand = ti.models[0], ti.models[1]
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": idx.run.ID, "task": ti.task.Name, "metric": mv.name, "direction": mv.direction,
		"baseline": base, "candidate": cand, "blind": iq.blind, "total": total, "offset": iq.offset, "limit": iq.limit, "items": items})
}

func (s *server) item(w http.ResponseWriter, r *http.Request) {
	iq, err := s.parseItemQuery(r.URL.Query())
	if err != nil {
		s.fail(w, err)
		return
	}
	idx, err := s.finishedIndex(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	ti, err := idx.taskOf(r.PathValue("task"))
	if err != nil {
		s.fail(w, err)
		return
	}
	mv, err := metricOf(ti.task, iq.metric)
	if err != nil {
		s.fail(w, err)
		return
	}
	i, ok := ti.byID[r.PathValue("item")]
	if !ok {
		s.fail(w, notFound(fmt.Sprintf("task %s of run %s has no item %q", ti.task.Name, idx.run.ID, r.PathValue("item"))))
		return
	}
	p := runRows(ti)[i]
	p.measure(mv)
	labels, err := s.labelsJSON(r.Context(), idx, store.LabelFilter{Task: ti.task.Name, ItemID: p.it.id})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"item": s.masked(runItemJSON(idx, ti, p, iq.blind, iq.user)), "labels": labels})
}

// ---------------------------------------------------------------- compare

func (s *server) compare(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iq, err := s.parseItemQuery(q)
	if err != nil {
		s.fail(w, err)
		return
	}
	if q.Get("a") == "" || q.Get("b") == "" {
		s.fail(w, badRequest("compare needs two runs: ?a=RUN&b=RUN"))
		return
	}
	ia, err := s.finishedIndex(r.Context(), q.Get("a"))
	if err != nil {
		s.fail(w, err)
		return
	}
	ib, err := s.finishedIndex(r.Context(), q.Get("b"))
	if err != nil {
		s.fail(w, err)
		return
	}
	ta, err := ia.taskOf(iq.task)
	if err != nil {
		s.fail(w, err)
		return
	}
	tb, err := ib.taskOf(ta.task.Name)
	if err != nil {
		s.fail(w, err)
		return
	}
	model := q.Get("model")
	if len(ta.models) == 0 {
		s.fail(w, badRequest(fmt.Sprintf("task %s of run %s has no model outcomes", ta.task.Name, ia.run.ID)))
		return
	}
	if model == "" {
		model = ta.models[len(ta.models)-1]
		if ia.rep.Compare != nil {
			model = ia.rep.Compare.Candidate
		}
	}
	ma, mb := slices.Index(ta.models, model), slices.Index(tb.models, model)
	if ma < 0 || mb < 0 {
		s.fail(w, badRequest(fmt.Sprintf("model %q is not in both runs (run %s: %s; run %s: %s)", model, ia.run.ID, strings.Join(ta.models, ", "), ib.run.ID, strings.Join(tb.models, ", "))))
		return
	}
	mv, err := metricOf(ta.task, iq.metric)
	if err != nil {
		s.fail(w, err)
		return
	}
	rows := make([]pairRow, 0, len(ta.items))
	for i := range ta.items {
		it := &ta.items[i]
		j, ok := tb.byID[it.id]
		if !ok {
			continue
		}
		itB := &tb.items[j]
		rows = append(rows, pairRow{it: it, itB: itB, x: &it.outs[ma], y: &itB.outs[mb]})
	}
	col := makeColumn(rows, mv)
	kept := selectRows(rows, col, iq)
	sortRows(kept, rows, col, iq, mv.direction)
	pg := page(kept, iq)
	total := len(kept)
	items := make([]itemJSON, len(pg))
	for i, k := range pg {
		p := rows[k]
		p.measure(mv)
		it := baseItemJSON(ta.task.Name, p)
		it.Outputs = []outputJSON{outJSON("a", ia.run.ID, model, p.x), outJSON("b", ib.run.ID, model, p.y)}
		items[i] = s.masked(it)
	}
	writeJSON(w, http.StatusOK, map[string]any{"a": ia.run.ID, "b": ib.run.ID, "model": model, "task": ta.task.Name, "metric": mv.name,
		"direction": mv.direction, "total": total, "offset": iq.offset, "limit": iq.limit, "items": items})
}

// masked replaces personal data and secrets in an item's texts when the
// server was started with --mask-pii (the store keeps the raw text).
func (s *server) masked(it itemJSON) itemJSON {
	if !s.o.MaskPII {
		return it
	}
	it.Prompt = pii.Mask(it.Prompt)
	refs := make([]string, len(it.References))
	for i, r := range it.References {
		refs[i] = pii.Mask(r)
	}
	it.References = refs
	outs := make([]outputJSON, len(it.Outputs))
	for i, o := range it.Outputs {
		o.Text, o.Judge = pii.Mask(o.Text), pii.Mask(o.Judge)
		outs[i] = o
	}
	it.Outputs = outs
	return it
}
