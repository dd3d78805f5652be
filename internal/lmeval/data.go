package lmeval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tunecheck/tunecheck/internal/dataset"
)

// dataExts are the file formats a split may be stored in, in lookup order.
var dataExts = []string{".jsonl", ".json", ".parquet", ".csv"}

// SplitPaths lists where a split of a task's dataset may be, under dataDir:
//
//	DATA_DIR/<dataset_path>/<dataset_name>/<split>.{jsonl,json,parquet,csv}
//	DATA_DIR/<dataset_path>/<split>.{…}            (dataset_name null)
//
// dataset_path keeps its slash ("allenai/ai2_arc"), so the layout mirrors
// the Hugging Face Hub names; the files hold rows in the dataset's own schema.
func (t *Task) SplitPaths(dataDir, split string) []string {
	base := filepath.Join(dataDir, filepath.FromSlash(t.DatasetPath))
	if t.DatasetName != "" {
		base = filepath.Join(base, t.DatasetName)
	}
	var out []string
	for _, ext := range dataExts {
		out = append(out, filepath.Join(base, split+ext))
	}
	return out
}

// LoadSplits reads the splits Build needs from dataDir.
func (t *Task) LoadSplits(dataDir string, o BuildOptions) (Splits, error) {
	if t.DatasetPath == "" {
		return nil, fmt.Errorf("%s: task %s has no dataset_path; tunecheck reads rows from --data-dir/<dataset_path>/…", t.File, t.Name)
	}
	splits := Splits{}
	for _, name := range t.SplitsNeeded(o) {
		paths := t.SplitPaths(dataDir, name)
		found := ""
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				found = p
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("task %s: split %q of %s not found; put its rows (in the dataset's own schema) at one of:\n  %s",
				t.Name, name, t.datasetLabel(), strings.Join(paths, "\n  "))
		}
		d, err := dataset.Load(found, dataset.Options{ContentIDs: true})
		if err != nil {
			return nil, fmt.Errorf("task %s: split %q: %w", t.Name, name, err)
		}
		docs := make([]Doc, len(d.Rows))
		for i, r := range d.Rows {
			docs[i] = r.Fields
		}
		splits[name] = docs
	}
	return splits, nil
}

func (t *Task) datasetLabel() string {
	if t.DatasetName != "" {
		return t.DatasetPath + " (" + t.DatasetName + ")"
	}
	return t.DatasetPath
}
