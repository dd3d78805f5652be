package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/judge"
)

// Labels are stored, replaced per (item, user, kind), filtered, exported as
// the human labels file judge calibrate reads, and imported back — on a
// finished run, whose results they leave alone.
func TestLabels(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
			s.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })
			if err := s.CreateRun(ctx, Run{ID: "r1", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			if err := s.PutResults(ctx, []Result{{RunID: "r1", Model: "base", Task: "qa", ItemID: "q1", RequestHash: "x", Scores: map[string]float64{"f1": 0.5}}}); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishRun(ctx, "r1", "pass", []byte("{}")); err != nil {
				t.Fatal(err)
			}
			before, err := s.Results(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			add := func(l Label) Label {
				t.Helper()
				l.RunID = "r1"
				got, err := s.AddLabel(ctx, l)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			add(Label{Task: "qa", ItemID: "q2", User: "ben", Kind: LabelPreference, Value: json.RawMessage(`"A"`)})
			first := add(Label{Task: "qa", ItemID: "q1", User: "ana", Kind: LabelPreference, Value: json.RawMessage(`"A"`)})
			again := add(Label{Task: "qa", ItemID: "q1", User: "ana", Kind: LabelPreference, Value: json.RawMessage(` "B" `), BlindLeft: "tuned", BlindRight: "base"})
			if again.ID != first.ID || string(again.Value) != `"B"` {
				t.Fatalf("relabel: %+v after %+v; want the same id, value \"B\"", again, first)
			}
			add(Label{Task: "qa", ItemID: "q1", User: "ana", Kind: LabelRating, Value: json.RawMessage(`7`)})
			add(Label{Task: "qa", ItemID: "q1", User: "ana", Kind: LabelTags, Value: json.RawMessage(`["verbose","wrong unit"]`)})
			add(Label{Task: "qa", ItemID: "q1", User: "ben", Kind: LabelNote, Value: json.RawMessage(`"<script>alert(1)</script>"`)})

			ls, err := s.Labels(ctx, "r1", LabelFilter{User: "ana"})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, l := range ls {
				kinds = append(kinds, l.Kind+"="+string(l.Value))
			}
			if want := []string{`preference="B"`, `rating=7`, `tags=["verbose","wrong unit"]`}; !reflect.DeepEqual(kinds, want) {
				t.Fatalf("ana's labels = %v; want %v", kinds, want)
			}
			if ls[0].BlindLeft != "tuned" || ls[0].BlindRight != "base" || !ls[0].CreatedAt.Equal(again.CreatedAt) {
				t.Fatalf("blind sides or time lost: %+v", ls[0])
			}
			all, err := s.Labels(ctx, "r1", LabelFilter{})
			if err != nil || len(all) != 5 {
				t.Fatalf("all labels: %d, %v; want 5", len(all), err)
			}
			after, err := s.Results(ctx, "r1")
			if err != nil || !reflect.DeepEqual(after, before) {
				t.Fatalf("labels changed results: %+v, %v", after, err)
			}

			var out bytes.Buffer
			n, err := s.ExportLabels(ctx, "r1", &out, LabelFilter{})
			if err != nil || n != 2 {
				t.Fatalf("export: %d, %v", n, err)
			}
			want := `{"id":"q1","label":"B","annotator":"ana","task":"qa"}` + "\n" + `{"id":"q2","label":"A","annotator":"ben","task":"qa"}` + "\n"
			if out.String() != want {
				t.Fatalf("export:\n%s\nwant\n%s", out.String(), want)
			}
			path := filepath.Join(t.TempDir(), "labels.jsonl")
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			read, err := judge.ReadCalibrationLabels(path)
			if err != nil || len(read) != 2 || read[0].ID != "q1" || read[0].Annotator != "ana" || read[0].Value.Choice != "B" {
				t.Fatalf("judge calibrate reads %+v, %v", read, err)
			}
			out.Reset()
			if _, err := s.ExportLabels(ctx, "r1", &out, LabelFilter{Kind: LabelRating}); err != nil || out.String() != `{"id":"q1","label":7,"annotator":"ana","task":"qa"}`+"\n" {
				t.Fatalf("rating export: %q, %v", out.String(), err)
			}
			if _, err := s.ExportLabels(ctx, "r1", &out, LabelFilter{Kind: LabelNote}); err == nil {
				t.Fatal("notes exported as calibration labels")
			}

			// Import into a second run: ids as integers, default user and task.
			if err := s.CreateRun(ctx, Run{ID: "r2", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			in := "{\"id\": 17, \"label\": 6.5}\n\n{\"id\": \"q1\", \"label\": \"tie\", \"annotator\": \"ben\", \"task\": \"other\"}\n"
			n, err = s.ImportLabels(ctx, "r2", strings.NewReader(in), ImportOptions{Name: "in.jsonl", User: "cy", Task: "qa"})
			if err != nil || n != 2 {
				t.Fatalf("import: %d, %v", n, err)
			}
			ls, err = s.Labels(ctx, "r2", LabelFilter{})
			if err != nil || len(ls) != 2 || ls[0].Task != "other" || ls[0].User != "ben" || ls[0].Kind != LabelPreference ||
				ls[1].ItemID != "17" || ls[1].User != "cy" || ls[1].Kind != LabelRating || string(ls[1].Value) != "6.5" {
				t.Fatalf("imported: %+v, %v", ls, err)
			}
			if err := s.DeleteLabel(ctx, "r2", ls[0].ID); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteLabel(ctx, "r2", ls[0].ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleting twice: %v", err)
			}
		})
	}
}

func TestLabelErrors(t *testing.T) {
	ctx := context.Background()
	s := OpenSQLiteForTest(t, filepath.Join(t.TempDir(), "t.db"))
	if err := s.CreateRun(ctx, Run{ID: "r1", Name: "n", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		l    Label
		want string
	}{
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "a", Kind: LabelPreference, Value: json.RawMessage(`"C"`)}, `want "A", "B" or "tie"`},
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "a", Kind: LabelRating, Value: json.RawMessage(`"7"`)}, "want a number"},
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "a", Kind: LabelTags, Value: json.RawMessage(`[""]`)}, "each tag"},
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "a", Kind: LabelNote, Value: json.RawMessage(`3`)}, "want a string"},
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "a", Kind: "vibe", Value: json.RawMessage(`3`)}, "not preference"},
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "", Kind: LabelNote, Value: json.RawMessage(`"x"`)}, "no user"},
		{Label{RunID: "r1", Task: "qa", ItemID: "q1", User: "a", Kind: LabelNote, Value: json.RawMessage(`"x"`), BlindLeft: "m"}, "both"},
		{Label{RunID: "nope", Task: "qa", ItemID: "q1", User: "a", Kind: LabelNote, Value: json.RawMessage(`"x"`)}, "not found"},
	} {
		if _, err := s.AddLabel(ctx, tc.l); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddLabel(%+v) = %v; want an error with %q", tc.l, err, tc.want)
		}
	}
	for _, tc := range []struct{ task, in, want string }{
		{"qa", `{"id": "q1", "label": "A"}` + "\n" + `{"id": "q2", "label": true}`, `labels.jsonl line 2: field "label": want a number or "A", "B" or "tie", got true`},
		{"qa", `{"id": "q1", "label": "A"}` + "\n\n" + `not json`, "labels.jsonl line 3: not a JSON object"},
		{"qa", `{"label": "A"}`, `labels.jsonl line 1: no "id"`},
		{"qa", `{"id": 1.5, "label": "A"}`, `labels.jsonl line 1: field "id"`},
		{"", `{"id": "q1", "label": "A", "task": ""}`, `labels.jsonl line 1: no "task"`},
		{"qa", "\n\n", "labels.jsonl: no labels"},
	} {
		_, err := s.ImportLabels(ctx, "r1", strings.NewReader(tc.in), ImportOptions{Name: "labels.jsonl", User: "a", Task: tc.task})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ImportLabels(%q) = %v; want %q", tc.in, err, tc.want)
		}
	}
	// A bad line stores nothing, not even the good lines before it.
	if ls, err := s.Labels(ctx, "r1", LabelFilter{}); err != nil || len(ls) != 0 {
		t.Fatalf("after failed imports: %+v, %v", ls, err)
	}
}

// A store written before labels existed (schema version 3) gains the labels
// table when opened, with its runs intact.
func TestLabelsMigrateFromV3(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "old", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			// Back to version 3: no labels table (nor the later run tags).
			for _, q := range []string{`DROP TABLE labels`, `ALTER TABLE runs DROP COLUMN tags`, `DELETE FROM schema_version WHERE version >= 4`} {
				if _, err := s.db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != 3 {
				t.Fatalf("schema version %d, %v; want 3", v, err)
			}
			if err := s.migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ms, err := s.migrations()
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != ms[len(ms)-1].version {
				t.Fatalf("after migrating: schema version %d, %v; want the latest, %d", v, err, ms[len(ms)-1].version)
			}
			if _, err := s.AddLabel(ctx, Label{RunID: "old", Task: "t", ItemID: "i", User: "u", Kind: LabelRating, Value: json.RawMessage(`3`)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResultCounts(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "r", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			if cs, err := s.ResultCounts(ctx, "r"); err != nil || len(cs) != 0 {
				t.Fatalf("no results yet: %+v, %v", cs, err)
			}
			if err := s.PutResults(ctx, []Result{
				{RunID: "r", Model: "a", Task: "t", ItemID: "1", RequestHash: "x"},
				{RunID: "r", Model: "a", Task: "t", ItemID: "2", RequestHash: "x", Error: "boom"},
				{RunID: "r", Model: "b", Task: "t", ItemID: "1", RequestHash: "x"},
				{RunID: "r", Model: "a", Task: "t", Stage: "judge", ItemID: "1", RequestHash: "y"},
			}); err != nil {
				t.Fatal(err)
			}
			cs, err := s.ResultCounts(ctx, "r")
			want := []ResultCount{{"a", "t", "", 2, 1}, {"a", "t", "judge", 1, 0}, {"b", "t", "", 1, 0}}
			if err != nil || !reflect.DeepEqual(cs, want) {
				t.Fatalf("ResultCounts = %+v, %v; want %+v", cs, err, want)
			}
		})
	}
}
