package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tunecheck/tunecheck/internal/store"
)

type progressJSON struct {
	Run     string      `json:"run"`
	Status  string      `json:"status"`
	Results []countJSON `json:"results"`
	Total   int         `json:"total"`
}

type countJSON struct {
	Model  string `json:"model"`
	Task   string `json:"task"`
	Stage  string `json:"stage"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
}

type finishedJSON struct {
	Run     string `json:"run"`
	Status  string `json:"status"`
	Verdict string `json:"verdict"`
}

// events streams a running run's progress as server-sent events: a
// progress event at once and then every PollInterval (one COUNT query), and
// a finished event when the run finishes, after which the stream ends.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, err := s.resolveRun(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	tick := time.NewTicker(s.o.PollInterval)
	defer tick.Stop()
	for {
		if run.Status == store.StatusFinished {
			send("finished", finishedJSON{Run: run.ID, Status: run.Status, Verdict: run.Verdict})
			return
		}
		counts, err := s.st.ResultCounts(ctx, run.ID)
		if err != nil {
			if ctx.Err() == nil {
				send("error", map[string]string{"error": err.Error()})
			}
			return
		}
		p := progressJSON{Run: run.ID, Status: run.Status, Results: []countJSON{}}
		for _, c := range counts {
			p.Results = append(p.Results, countJSON{Model: c.Model, Task: c.Task, Stage: c.Stage, Done: c.Done, Failed: c.Failed})
			p.Total += c.Done
		}
		if !send("progress", p) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if run, err = s.st.GetRun(ctx, run.ID); err != nil {
			if ctx.Err() == nil {
				send("error", map[string]string{"error": err.Error()})
			}
			return
		}
	}
}
