package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Label kinds: what a person recorded about one item in the viewer.
const (
	// LabelPreference is a pairwise verdict: "A" (the baseline is better),
	// "B" (the candidate is better) or "tie".
	LabelPreference = "preference"
	// LabelRating is a number on the task's rubric scale.
	LabelRating = "rating"
	// LabelTags is an array of short strings.
	LabelTags = "tags"
	// LabelNote is free text.
	LabelNote = "note"
)

// Bounds on a label's value, so that one request cannot grow the store much.
const (
	maxLabelTags   = 32
	maxLabelTagLen = 100
	maxLabelNote   = 10000
	maxLabelField  = 1000 // task, item id and user names
)

// Label is one person's judgment of one item of a run. Labels sit beside the
// run: adding one never changes the run or its results.
type Label struct {
	ID     int64
	RunID  string
	Task   string
	ItemID string
	User   string
	Kind   string
	// Value is JSON: for a preference "A", "B" or "tie"; for a rating a
	// number; for tags an array of strings; for a note a string.
	Value json.RawMessage
	// BlindLeft and BlindRight name the models shown on the left and the
	// right when the label was given blind (both empty otherwise).
	BlindLeft, BlindRight string
	CreatedAt             time.Time
}

// LabelFilter narrows Labels; empty fields match everything.
type LabelFilter struct {
	Task, ItemID, User, Kind string
}

// ValidateLabel checks a label's names and its value against its kind, and
// returns the value in compact form.
func ValidateLabel(l Label) (json.RawMessage, error) {
	for _, f := range []struct{ name, v string }{{"task", l.Task}, {"item", l.ItemID}, {"user", l.User}} {
		if f.v == "" {
			return nil, fmt.Errorf("label has no %s", f.name)
		}
		if len(f.v) > maxLabelField || !utf8.ValidString(f.v) {
			return nil, fmt.Errorf("label %s is not valid UTF-8 of at most %d bytes", f.name, maxLabelField)
		}
	}
	if (l.BlindLeft == "") != (l.BlindRight == "") {
		return nil, errors.New("a blind label names both the left and the right model, or neither")
	}
	raw := bytes.TrimSpace(l.Value)
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s label has no value", l.Kind)
	}
	switch l.Kind {
	case LabelPreference:
		var s string
		if json.Unmarshal(raw, &s) != nil || (s != "A" && s != "B" && s != "tie") {
			return nil, fmt.Errorf(`preference: want "A", "B" or "tie", got %s`, clip(raw))
		}
		return json.Marshal(s)
	case LabelRating:
		var x float64
		if json.Unmarshal(raw, &x) != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("rating: want a number, got %s", clip(raw))
		}
		return json.Marshal(x)
	case LabelTags:
		var tags []string
		if json.Unmarshal(raw, &tags) != nil {
			return nil, fmt.Errorf("tags: want an array of strings, got %s", clip(raw))
		}
		if len(tags) > maxLabelTags {
			return nil, fmt.Errorf("tags: %d tags, at most %d", len(tags), maxLabelTags)
		}
		for _, t := range tags {
			if t == "" || utf8.RuneCountInString(t) > maxLabelTagLen {
				return nil, fmt.Errorf("tags: each tag is 1 to %d characters, got %q", maxLabelTagLen, clip([]byte(t)))
			}
		}
		if tags == nil {
			tags = []string{}
		}
		return json.Marshal(tags)
	case LabelNote:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, fmt.Errorf("note: want a string, got %s", clip(raw))
		}
		if utf8.RuneCountInString(s) > maxLabelNote {
			return nil, fmt.Errorf("note: at most %d characters", maxLabelNote)
		}
		return json.Marshal(s)
	}
	return nil, fmt.Errorf("label kind %q is not preference, rating, tags or note", l.Kind)
}

// clip shortens what an error quotes.
func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

const labelColumns = `id, run_id, task, item_id, user_name, kind, value, blind_left, blind_right, created_at`

const upsertLabel = `INSERT INTO labels (run_id, task, item_id, user_name, kind, value, blind_left, blind_right, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, task, item_id, user_name, kind) DO UPDATE SET
	value = excluded.value, blind_left = excluded.blind_left, blind_right = excluded.blind_right, created_at = excluded.created_at
RETURNING id`

// AddLabel stores l (validated; see ValidateLabel) at the store clock's time
// and returns it as stored. A label of the same kind by the same user on the
// same item is replaced. The run must exist; it may be finished.
func (s *Store) AddLabel(ctx context.Context, l Label) (Label, error) {
	v, err := ValidateLabel(l)
	if err != nil {
		return Label{}, err
	}
	l.Value = v
	l.CreatedAt = s.now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Label{}, fmt.Errorf("storing a label: %w", err)
	}
	defer tx.Rollback()
	if err := runExists(ctx, s, tx, l.RunID); err != nil {
		return Label{}, err
	}
	if l.ID, err = s.putLabel(ctx, tx, l); err != nil {
		return Label{}, err
	}
	if err := tx.Commit(); err != nil {
		return Label{}, fmt.Errorf("storing a label of run %s: %w", l.RunID, err)
	}
	return l, nil
}

func runExists(ctx context.Context, s *Store, tx *sql.Tx, runID string) error {
	var one int
	err := tx.QueryRowContext(ctx, s.rebind(`SELECT 1 FROM runs WHERE id = ?`), runID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("reading run %s: %w", runID, err)
	}
	return nil
}

func (s *Store) putLabel(ctx context.Context, tx *sql.Tx, l Label) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, s.rebind(upsertLabel), l.RunID, l.Task, l.ItemID, l.User, l.Kind, string(l.Value),
		l.BlindLeft, l.BlindRight, unixNano(l.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storing the %s label of %s/%s by %s in run %s: %w", l.Kind, l.Task, l.ItemID, l.User, l.RunID, err)
	}
	return id, nil
}

// Labels returns the run's labels matching f, ordered by task, item, user
// and kind (byte order on both backends).
func (s *Store) Labels(ctx context.Context, runID string, f LabelFilter) ([]Label, error) {
	q := `SELECT ` + labelColumns + ` FROM labels WHERE run_id = ?`
	args := []any{runID}
	for _, c := range []struct{ col, v string }{{"task", f.Task}, {"item_id", f.ItemID}, {"user_name", f.User}, {"kind", f.Kind}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	q += ` ORDER BY task, item_id, user_name, kind`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading labels of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Label
	for rows.Next() {
		var (
			l       Label
			value   string
			created int64
		)
		if err := rows.Scan(&l.ID, &l.RunID, &l.Task, &l.ItemID, &l.User, &l.Kind, &value, &l.BlindLeft, &l.BlindRight, &created); err != nil {
			return nil, fmt.Errorf("reading labels of run %s: %w", runID, err)
		}
		l.Value = json.RawMessage(value)
		l.CreatedAt = fromUnixNano(created)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading labels of run %s: %w", runID, err)
	}
	return out, nil
}

// DeleteLabel removes one label of the run by id.
func (s *Store) DeleteLabel(ctx context.Context, runID string, id int64) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM labels WHERE run_id = ? AND id = ?`), runID, id)
	if err != nil {
		return fmt.Errorf("deleting label %d of run %s: %w", id, runID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("label %d of run %s: %w", id, runID, ErrNotFound)
	}
	return nil
}

// exportedLabel is one line of the human labels file `judge calibrate`
// reads (docs/judge.md, "Human labels file"); Task is an extra field the
// calibration ignores and ImportLabels uses.
type exportedLabel struct {
	ID        string          `json:"id"`
	Label     json.RawMessage `json:"label"`
	Annotator string          `json:"annotator"`
	Task      string          `json:"task"`
}

// ExportLabels writes the run's labels of one kind — preference (the
// default) or rating, the kinds `judge calibrate` compares with a judge —
// as the human labels JSONL, one line per label ordered by task, item and
// annotator, and returns how many it wrote. f.Task and f.User narrow them.
func (s *Store) ExportLabels(ctx context.Context, runID string, w io.Writer, f LabelFilter) (int, error) {
	if f.Kind == "" {
		f.Kind = LabelPreference
	}
	if f.Kind != LabelPreference && f.Kind != LabelRating {
		return 0, fmt.Errorf("exporting labels: kind %q: only preference and rating labels go to judge calibrate", f.Kind)
	}
	ls, err := s.Labels(ctx, runID, f)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	for _, l := range ls {
		b, err := json.Marshal(exportedLabel{ID: l.ItemID, Label: l.Value, Annotator: l.User, Task: l.Task})
		if err != nil {
			return 0, fmt.Errorf("exporting label %d of run %s: %w", l.ID, runID, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("exporting labels of run %s: %w", runID, err)
	}
	return len(ls), nil
}

// ImportOptions say how ImportLabels reads a labels file.
type ImportOptions struct {
	// Name names the file in errors ("labels.jsonl").
	Name string
	// User is the annotator of lines without one.
	User string
	// Task is the task of lines without one; empty makes "task" required.
	Task string
}

// ImportLabels reads a human labels JSONL file (as ExportLabels writes it,
// or as docs/judge.md defines it) into the run's labels: a number label is a
// rating, "A", "B" or "tie" a preference. Every line is checked before any is
// stored, and all are stored in one transaction; errors name the file and
// the line. It returns how many labels it stored.
func (s *Store) ImportLabels(ctx context.Context, runID string, r io.Reader, o ImportOptions) (int, error) {
	name := o.Name
	if name == "" {
		name = "labels"
	}
	now := s.now().UTC()
	var ls []Label
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		l, err := parseLabelLine(b, runID, o)
		if err != nil {
			return 0, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		if l.Value, err = ValidateLabel(l); err != nil {
			return 0, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		l.CreatedAt = now
		ls = append(ls, l)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if len(ls) == 0 {
		return 0, fmt.Errorf("%s: no labels", name)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("importing labels: %w", err)
	}
	defer tx.Rollback()
	if err := runExists(ctx, s, tx, runID); err != nil {
		return 0, err
	}
	for _, l := range ls {
		if _, err := s.putLabel(ctx, tx, l); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("importing labels of run %s: %w", runID, err)
	}
	return len(ls), nil
}

func parseLabelLine(b []byte, runID string, o ImportOptions) (Label, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return Label{}, fmt.Errorf("not a JSON object: %w", err)
	}
	l := Label{RunID: runID, User: o.User, Task: o.Task}
	raw, ok := f["id"]
	if !ok {
		return l, errors.New(`no "id"`)
	}
	var n json.Number
	switch {
	case json.Unmarshal(raw, &l.ItemID) == nil && l.ItemID != "":
	case json.Unmarshal(raw, &n) == nil && isInt(n):
		l.ItemID = n.String()
	default:
		return l, fmt.Errorf(`field "id": want a non-empty string or an integer, got %s`, clip(raw))
	}
	for key, dst := range map[string]*string{"annotator": &l.User, "task": &l.Task} {
		raw, ok := f[key]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return l, fmt.Errorf("field %q: want a string, got %s", key, clip(raw))
		}
		if s != "" {
			*dst = s
		}
	}
	if l.Task == "" {
		return l, errors.New(`no "task", and the run has several tasks: name the item's task`)
	}
	if l.User == "" {
		return l, errors.New(`no "annotator"`)
	}
	raw, ok = f["label"]
	if !ok {
		return l, errors.New(`no "label" (a number, or "A", "B" or "tie")`)
	}
	var x float64
	var s string
	switch {
	case json.Unmarshal(raw, &x) == nil:
		l.Kind = LabelRating
	case json.Unmarshal(raw, &s) == nil && (s == "A" || s == "B" || s == "tie"):
		l.Kind = LabelPreference
	default:
		return l, fmt.Errorf(`field "label": want a number or "A", "B" or "tie", got %s`, clip(raw))
	}
	l.Value = raw
	return l, nil
}

func isInt(n json.Number) bool {
	_, err := n.Int64()
	return err == nil && !strings.ContainsAny(n.String(), ".eE")
}

// ResultCount is how many results of one model, task and stage a run has
// stored so far, and how many of them failed: a running run's progress.
type ResultCount struct {
	Model, Task, Stage string
	Done, Failed       int
}

// ResultCounts counts the run's stored results per model, task and stage
// (one aggregate query, cheap enough to poll while the run is written).
func (s *Store) ResultCounts(ctx context.Context, runID string) ([]ResultCount, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT model, task, stage, COUNT(*), COALESCE(SUM(CASE WHEN error <> '' THEN 1 ELSE 0 END), 0)
FROM results WHERE run_id = ? GROUP BY model, task, stage ORDER BY model, task, stage`), runID)
	if err != nil {
		return nil, fmt.Errorf("counting results of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []ResultCount
	for rows.Next() {
		var c ResultCount
		if err := rows.Scan(&c.Model, &c.Task, &c.Stage, &c.Done, &c.Failed); err != nil {
			return nil, fmt.Errorf("counting results of run %s: %w", runID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting results of run %s: %w", runID, err)
	}
	return out, nil
}
