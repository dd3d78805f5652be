package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/tunecheck/tunecheck/internal/judge"
	"github.com/tunecheck/tunecheck/internal/store"
)

type labelJSON struct {
	ID      int64           `json:"id"`
	Task    string          `json:"task"`
	Item    string          `json:"item"`
	User    string          `json:"user"`
	Kind    string          `json:"kind"`
	Value   json.RawMessage `json:"value"`
	Side    string          `json:"side,omitempty"`
	Created time.Time       `json:"created"`
}

// toJSON renders a stored label; a blind preference also says which side
// the person clicked, so the page can show it without naming the model.
func (idx *runIndex) toJSON(l store.Label) labelJSON {
	out := labelJSON{ID: l.ID, Task: l.Task, Item: l.ItemID, User: l.User, Kind: l.Kind, Value: l.Value, Created: l.CreatedAt}
	if l.Kind != store.LabelPreference || l.BlindLeft == "" {
		return out
	}
	var v string
	_ = json.Unmarshal(l.Value, &v)
	switch ti := idx.tasks[l.Task]; {
	case v == "tie":
		out.Side = "tie"
	case ti == nil || len(ti.models) < 2:
	default:
		chosen := ti.models[0]
		if v == "B" {
			chosen = ti.models[1]
		}
		out.Side = "right"
		if chosen == l.BlindLeft {
			out.Side = "left"
		}
	}
	return out
}

func (s *server) labelsJSON(ctx context.Context, idx *runIndex, f store.LabelFilter) ([]labelJSON, error) {
	ls, err := s.st.Labels(ctx, idx.run.ID, f)
	if err != nil {
		return nil, err
	}
	out := make([]labelJSON, len(ls))
	for i, l := range ls {
		out[i] = idx.toJSON(l)
	}
	return out, nil
}

func (s *server) labels(w http.ResponseWriter, r *http.Request) {
	idx, err := s.finishedIndex(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	q := r.URL.Query()
	ls, err := s.labelsJSON(r.Context(), idx, store.LabelFilter{Task: q.Get("task"), ItemID: q.Get("item"), User: q.Get("user"), Kind: q.Get("kind")})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"labels": ls})
}

// labelPost is the body of POST labels: one kind and value, or several
// kinds at once (preference, rating, tags, note) when kind is absent.
type labelPost struct {
	Task  string          `json:"task"`
	Item  string          `json:"item"`
	User  string          `json:"user"`
	Kind  string          `json:"kind"`
	Value json.RawMessage `json:"value"`
	// Blind is true (the server re-derives the sides it showed) or
	// {"left": MODEL, "right": MODEL}.
	Blind      json.RawMessage `json:"blind"`
	Preference json.RawMessage `json:"preference"`
	Rating     json.RawMessage `json:"rating"`
	Tags       json.RawMessage `json:"tags"`
	Note       json.RawMessage `json:"note"`
}

func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

func (s *server) postLabel(w http.ResponseWriter, r *http.Request) {
	var body labelPost
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			s.fail(w, err)
			return
		}
		s.fail(w, badRequest("the body is not a label: "+err.Error()))
		return
	}
	idx, err := s.finishedIndex(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if body.Task == "" || body.Item == "" {
		s.fail(w, badRequest(`a label names its "task" and "item"`))
		return
	}
	ti, err := idx.taskOf(body.Task)
	if err != nil {
		s.fail(w, err)
		return
	}
	if _, ok := ti.byID[body.Item]; !ok {
		s.fail(w, notFound(fmt.Sprintf("task %s of run %s has no item %q", ti.task.Name, idx.run.ID, body.Item)))
		return
	}
	user := body.User
	if user == "" {
		user = s.o.User
	}
	left, right, err := blindSides(idx, ti, body.Blind, body.Item, user)
	if err != nil {
		s.fail(w, err)
		return
	}
	type kv struct {
		kind  string
		value json.RawMessage
	}
	var todo []kv
	if body.Kind != "" {
		todo = append(todo, kv{body.Kind, body.Value})
	} else {
		for _, c := range []kv{{store.LabelPreference, body.Preference}, {store.LabelRating, body.Rating}, {store.LabelTags, body.Tags}, {store.LabelNote, body.Note}} {
			if present(c.value) {
				todo = append(todo, c)
			}
		}
		if len(todo) == 0 {
			s.fail(w, badRequest(`a label has a "kind" and a "value" (or any of "preference", "rating", "tags", "note")`))
			return
		}
	}
	// Check every part before storing any.
	labels := make([]store.Label, len(todo))
	for i, c := range todo {
		l := store.Label{RunID: idx.run.ID, Task: ti.task.Name, ItemID: body.Item, User: user, Kind: c.kind, Value: c.value, BlindLeft: left, BlindRight: right}
		if c.kind == store.LabelPreference {
			if l.Value, err = preferenceValue(ti, c.value, left, right); err != nil {
				s.fail(w, err)
				return
			}
		}
		if _, err := store.ValidateLabel(l); err != nil {
			s.fail(w, badRequest(err.Error()))
			return
		}
		labels[i] = l
	}
	out := make([]labelJSON, len(labels))
	for i, l := range labels {
		stored, err := s.st.AddLabel(r.Context(), l)
		if err != nil {
			s.fail(w, err)
			return
		}
		out[i] = idx.toJSON(stored)
	}
	if body.Kind != "" {
		writeJSON(w, http.StatusCreated, out[0])
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"labels": out})
}

func (s *server) deleteLabel(w http.ResponseWriter, r *http.Request) {
	run, err := s.resolveRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("label"), 10, 64)
	if err != nil {
		s.fail(w, badRequest(fmt.Sprintf("label id %q: want the number POST labels answered", r.PathValue("label"))))
		return
	}
	if err := s.st.DeleteLabel(r.Context(), run.ID, id); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// blindSides returns the models shown left and right when the label was
// given blind ("", "" otherwise).
func blindSides(idx *runIndex, ti *taskIndex, raw json.RawMessage, item, user string) (string, string, error) {
	if !present(raw) || string(bytes.TrimSpace(raw)) == "false" {
		return "", "", nil
	}
	if len(ti.models) < 2 || idx.rep.Compare == nil {
		return "", "", badRequest("blind labels need a run that compares a baseline and a candidate")
	}
	base, cand := ti.models[0], ti.models[1]
	if string(bytes.TrimSpace(raw)) == "true" {
		if blindSwap(idx.run.ID, ti.task.Name, item, user) {
			return cand, base, nil
		}
		return base, cand, nil
	}
	var sides struct{ Left, Right string }
	if err := json.Unmarshal(raw, &sides); err != nil {
		return "", "", badRequest(`"blind": want true or {"left": MODEL, "right": MODEL}`)
	}
	if !(sides.Left == base && sides.Right == cand) && !(sides.Left == cand && sides.Right == base) {
		return "", "", badRequest(fmt.Sprintf(`"blind": left and right must be %s and %s`, base, cand))
	}
	return sides.Left, sides.Right, nil
}

// preferenceValue turns what the person chose into the stored verdict: "A"
// for the baseline, "B" for the candidate, or "tie".
func preferenceValue(ti *taskIndex, raw json.RawMessage, left, right string) (json.RawMessage, error) {
	if len(ti.models) < 2 {
		return nil, badRequest("a preference needs a run that compares two models")
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest(fmt.Sprintf(`preference: want a string, got %s`, raw))
	}
	if v == "tie" {
		return json.RawMessage(`"tie"`), nil
	}
	if left == "" {
		if v != "A" && v != "B" {
			return nil, badRequest(fmt.Sprintf(`preference %q: want "A" (baseline), "B" (candidate) or "tie"`, v))
		}
		return json.Marshal(v)
	}
	var chosen string
	switch v {
	case "left":
		chosen = left
	case "right":
		chosen = right
	default:
		return nil, badRequest(fmt.Sprintf(`blind preference %q: want "left", "right" or "tie"`, v))
	}
	if chosen == ti.models[0] {
		return json.RawMessage(`"A"`), nil
	}
	return json.RawMessage(`"B"`), nil
}

func (s *server) exportLabels(w http.ResponseWriter, r *http.Request) {
	run, err := s.resolveRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind == "" {
		kind = store.LabelPreference
	}
	if kind != store.LabelPreference && kind != store.LabelRating {
		s.fail(w, badRequest(fmt.Sprintf("kind %q: only preference and rating labels export (judge calibrate reads them)", kind)))
		return
	}
	var buf bytes.Buffer
	if _, err := s.st.ExportLabels(r.Context(), run.ID, &buf, store.LabelFilter{Kind: kind, User: q.Get("user"), Task: q.Get("task")}); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="labels-%s-%s.jsonl"`, run.ID, kind))
	w.Write(buf.Bytes())
}

func (s *server) importLabels(w http.ResponseWriter, r *http.Request) {
	run, err := s.resolveRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	// Read the whole body first: an oversize one is refused whole.
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		s.fail(w, err)
		return
	}
	o := store.ImportOptions{Name: r.URL.Query().Get("name"), User: s.o.User}
	if o.Name == "" {
		o.Name = "labels.jsonl"
	}
	if rep := s.summaryOf(run); rep != nil && len(rep.Tasks) == 1 {
		o.Task = rep.Tasks[0].Name
	}
	n, err := s.st.ImportLabels(r.Context(), run.ID, &body, o)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, err)
			return
		}
		s.fail(w, badRequest(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"imported": n})
}

type agreementJSON struct {
	Kind           string    `json:"kind"`
	Users          [2]string `json:"users"`
	N              int       `json:"n"`
	Agreement      *float64  `json:"agreement"`
	Kappa          *float64  `json:"kappa"`
	KappaQuadratic *float64  `json:"kappa_quadratic,omitempty"`
}

func num(x float64, err error) *float64 {
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func (s *server) agreement(w http.ResponseWriter, r *http.Request) {
	run, err := s.resolveRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	kinds := []string{store.LabelPreference, store.LabelRating}
	if k := r.URL.Query().Get("kind"); k != "" {
		if !slices.Contains(kinds, k) {
			s.fail(w, badRequest(fmt.Sprintf("kind %q: agreement is over preference or rating labels", k)))
			return
		}
		kinds = []string{k}
	}
	pairs := []agreementJSON{}
	for _, kind := range kinds {
		ls, err := s.st.Labels(r.Context(), run.ID, store.LabelFilter{Kind: kind})
		if err != nil {
			s.fail(w, err)
			return
		}
		byItem := map[[2]string]map[string]json.RawMessage{}
		users := map[string]bool{}
		var order [][2]string
		for _, l := range ls { // ordered by task, item, user
			k := [2]string{l.Task, l.ItemID}
			if byItem[k] == nil {
				byItem[k] = map[string]json.RawMessage{}
				order = append(order, k)
			}
			byItem[k][l.User] = l.Value
			users[l.User] = true
		}
		names := make([]string, 0, len(users))
		for u := range users {
			names = append(names, u)
		}
		sort.Strings(names)
		for i := range names {
			for j := i + 1; j < len(names); j++ {
				if a := pairAgreement(kind, names[i], names[j], order, byItem); a != nil {
					pairs = append(pairs, *a)
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"pairs": pairs})
}

// pairAgreement compares two people's labels of one kind over the items
// both labelled, with judge calibrate's agreement functions.
func pairAgreement(kind, u, v string, order [][2]string, byItem map[[2]string]map[string]json.RawMessage) *agreementJSON {
	var sa, sb []string
	var fa, fb []float64
	for _, k := range order {
		x, okX := byItem[k][u]
		y, okY := byItem[k][v]
		if !okX || !okY {
			continue
		}
		if kind == store.LabelRating {
			var p, q float64
			if json.Unmarshal(x, &p) != nil || json.Unmarshal(y, &q) != nil {
				continue
			}
			fa, fb = append(fa, p), append(fb, q)
			continue
		}
		var p, q string
		if json.Unmarshal(x, &p) != nil || json.Unmarshal(y, &q) != nil {
			continue
		}
		sa, sb = append(sa, p), append(sb, q)
	}
	out := agreementJSON{Kind: kind, Users: [2]string{u, v}}
	if kind == store.LabelRating {
		if len(fa) == 0 {
			return nil
		}
		agree, n, err := judge.AgreementPercent(fa, fb, false, nil)
		out.N, out.Agreement = n, num(agree, err)
		out.Kappa = num(judge.KappaCohen(fa, fb, judge.KappaUnweighted))
		out.KappaQuadratic = num(judge.KappaCohen(fa, fb, judge.KappaQuadratic))
		return &out
	}
	if len(sa) == 0 {
		return nil
	}
	agree, n, err := judge.AgreementPercent(sa, sb, false, nil)
	out.N, out.Agreement = n, num(agree, err)
	out.Kappa = num(judge.KappaCohen(sa, sb, judge.KappaUnweighted))
	return &out
}
