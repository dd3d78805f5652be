package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// The judge stages a task's results may carry (internal/app/judge.go): their
// answers are the judge's rationale for a model's output, not the output.
var judgeStages = map[string]int{"judge": 1, "judge_repair": 2}

// runIndex is everything the items pages of one finished run read, built
// once from the run's records and stored results and kept in memory, so that
// a filter over 100,000 items is a scan of a slice, not a query.
type runIndex struct {
	run   store.Run
	rep   *report.Report // without records
	tasks map[string]*taskIndex
}

type taskIndex struct {
	task report.Task // without records
	// models are the outcome keys in display order: baseline then candidate
	// on a compared run, else the task's per-model order.
	models []string
	items  []itemRow
	byID   map[string]int

	mu   sync.Mutex
	rows []pairRow // baseline and candidate per item, made once
	// cols are the per-item figures by metric, selections the rows a query
	// kept, in order, by itemQuery.key.
	cols       map[string]*column
	selections map[string][]int32
}

type itemRow struct {
	id     string
	index  int
	prompt string
	refs   []string
	slices map[string]string
	// outs are per model, in taskIndex.models order.
	outs []outRow
	// hay is the lower-cased id, prompt and references, for text search.
	hay string
}

type outRow struct {
	present bool
	oc      report.Outcome
	text    string
	judge   string
	hay     string // lower-cased text
}

// indexCache keeps the indexes of the few runs last looked at.
type indexCache struct {
	mu    sync.Mutex
	cap   int
	order []string // most recent last
	m     map[string]*cacheEntry
	build func(ctx context.Context, id string) (*runIndex, error)
}

type cacheEntry struct {
	once sync.Once
	idx  *runIndex
	err  error
}

func newIndexCache(n int, build func(context.Context, string) (*runIndex, error)) *indexCache {
	return &indexCache{cap: n, m: map[string]*cacheEntry{}, build: build}
}

// get returns the index of the run with this full id, building it once
// however many requests ask at the same time.
func (c *indexCache) get(ctx context.Context, id string) (*runIndex, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	if !ok {
		e = &cacheEntry{}
		c.m[id] = e
	}
	c.order = slices.DeleteFunc(c.order, func(s string) bool { return s == id })
	c.order = append(c.order, id)
	for len(c.order) > c.cap {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.mu.Unlock()
	// The build outlives the request that started it: others may wait on it.
	e.once.Do(func() { e.idx, e.err = c.build(context.WithoutCancel(ctx), id) })
	if e.err != nil {
		c.mu.Lock()
		if c.m[id] == e {
			delete(c.m, id)
			c.order = slices.DeleteFunc(c.order, func(s string) bool { return s == id })
		}
		c.mu.Unlock()
	}
	return e.idx, e.err
}

// resolveRun finds a run by id or prefix.
func (s *server) resolveRun(ctx context.Context, id string) (store.Run, error) {
	return s.st.GetRun(ctx, id)
}

// finishedIndex returns the index of a finished run named by id or prefix.
func (s *server) finishedIndex(ctx context.Context, id string) (*runIndex, error) {
	run, err := s.resolveRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if run.Status != store.StatusFinished {
		return nil, &httpError{http.StatusConflict, fmt.Sprintf("run %s is still running: its items are shown when it finishes (GET /api/runs/%s/events follows it)", run.ID, run.ID)}
	}
	return s.cache.get(ctx, run.ID)
}

func (s *server) buildIndex(ctx context.Context, id string) (*runIndex, error) {
	run, rep, err := app.LoadReport(ctx, s.st, id)
	if err != nil {
		return nil, err
	}
	if rep.Schema != report.Schema {
		return nil, &httpError{http.StatusConflict, fmt.Sprintf("run %s was stored by an earlier tunecheck (%s) without per-item records: run its plan again to view its items", run.ID, rep.Schema)}
	}
	idx := &runIndex{run: run, tasks: map[string]*taskIndex{}}
	for _, t := range rep.Tasks {
		ti := &taskIndex{task: t, byID: make(map[string]int, len(t.Records))}
		ti.task.Records = nil
		ti.models = taskModels(rep, t)
		ti.items = make([]itemRow, len(t.Records))
		for i, r := range t.Records {
			row := itemRow{id: r.ID, index: i, refs: r.References, slices: r.Slices, outs: make([]outRow, len(ti.models))}
			for m, name := range ti.models {
				if oc, ok := r.Outcomes[name]; ok {
					row.outs[m] = outRow{present: true, oc: oc}
				}
			}
			ti.items[i] = row
			ti.byID[r.ID] = i
		}
		idx.tasks[t.Name] = ti
	}
	if err := fillTexts(ctx, s.st, run.ID, idx); err != nil {
		return nil, err
	}
	for _, ti := range idx.tasks {
		for i := range ti.items {
			it := &ti.items[i]
			it.hay = strings.ToLower(it.id + "\x00" + it.prompt + "\x00" + strings.Join(it.refs, "\x00"))
			for m := range it.outs {
				it.outs[m].hay = strings.ToLower(it.outs[m].text)
			}
		}
	}
	slim, _ := rep.SplitRecords()
	idx.rep = slim
	return idx, nil
}

// taskModels orders a task's models: baseline and candidate first on a
// compared run, then the others (judges are not among a task's outcomes).
func taskModels(rep *report.Report, t report.Task) []string {
	var out []string
	if rep.Compare != nil {
		out = append(out, rep.Compare.Baseline, rep.Compare.Candidate)
	}
	for _, m := range t.PerModel {
		if !slices.Contains(out, m.Model) {
			out = append(out, m.Model)
		}
	}
	return out
}

// fillTexts reads the stored results once: each item's prompt from its
// first stage's request, each model's answer from its last answering stage,
// and the judge's rationale from the judge stage.
func fillTexts(ctx context.Context, st *store.Store, runID string, idx *runIndex) error {
	rs, err := st.Results(ctx, runID)
	if err != nil {
		return err
	}
	type slot struct{ textRank, judgeRank int }
	ranks := map[[3]string]*slot{}
	promptRank := map[[2]string]int{}
	for _, r := range rs {
		ti := idx.tasks[r.Task]
		if ti == nil {
			continue
		}
		_, isJudge := judgeStages[r.Stage]
		i, ok := itemOf(ti, r.ItemID, isJudge)
		if !ok {
			continue
		}
		m := slices.Index(ti.models, r.Model)
		it := &ti.items[i]
		key := [3]string{r.Task, r.ItemID, r.Model}
		sl := ranks[key]
		if sl == nil {
			sl = &slot{textRank: -1, judgeRank: -1}
			ranks[key] = sl
		}
		if jr, isJudge := judgeStages[r.Stage]; isJudge {
			if m >= 0 && jr > sl.judgeRank {
				if text := responseText(r.Response); text != "" {
					it.outs[m].judge, sl.judgeRank = text, jr
				}
			}
			continue
		}
		rank := max(slices.Index(ti.task.Stages, r.Stage), 0)
		pk := [2]string{r.Task, r.ItemID}
		if pr, seen := promptRank[pk]; !seen || rank < pr {
			if p := requestPrompt(r.Request); p != "" {
				it.prompt, promptRank[pk] = p, rank
			}
		}
		if m >= 0 && rank > sl.textRank {
			it.outs[m].text, sl.textRank = responseText(r.Response), rank
		}
	}
	return nil
}

// itemOf finds the item a stored result belongs to. A judge's result is
// keyed ITEM@JUDGE (and #ab / #ba for the two orders of a pair, ~repair
// when asked again: internal/app/judge.go); an item with several requests
// in a stage (multiple choice) stores ITEM#k.
func itemOf(ti *taskIndex, id string, judge bool) (int, bool) {
	if i, ok := ti.byID[id]; ok && !judge {
		return i, true
	}
	if judge {
		if at := strings.LastIndexByte(id, '@'); at >= 0 {
			i, ok := ti.byID[id[:at]]
			return i, ok
		}
		i, ok := ti.byID[id]
		return i, ok
	}
	if h := strings.LastIndexByte(id, '#'); h >= 0 {
		i, ok := ti.byID[id[:h]]
		return i, ok
	}
	return 0, false
}

// requestPrompt is what a stored request asked (provider.Request.Asked).
func requestPrompt(b []byte) string {
	var req provider.Request
	if len(b) == 0 || json.Unmarshal(b, &req) != nil {
		return ""
	}
	return req.Asked()
}

func responseText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var resp provider.Response
	if json.Unmarshal(b, &resp) != nil {
		return ""
	}
	return resp.Text
}

// taskOf picks a task of the run: the named one, or the first.
func (idx *runIndex) taskOf(name string) (*taskIndex, error) {
	if name == "" {
		if len(idx.rep.Tasks) == 0 {
			return nil, notFound(fmt.Sprintf("run %s has no tasks", idx.run.ID))
		}
		name = idx.rep.Tasks[0].Name
	}
	ti := idx.tasks[name]
	if ti == nil {
		var names []string
		for _, t := range idx.rep.Tasks {
			names = append(names, t.Name)
		}
		return nil, notFound(fmt.Sprintf("run %s has no task %q (tasks: %s)", idx.run.ID, name, strings.Join(names, ", ")))
	}
	return ti, nil
}
