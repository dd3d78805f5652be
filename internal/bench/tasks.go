package bench

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tunecheck/tunecheck/internal/lmeval"
)

// taskFiles are lm-eval task definitions in lm-eval's own YAML format,
// written for tunecheck from lm-eval's task folders.
//
//go:embed all:tasks
var taskFiles embed.FS

// mmluSubjectYAML is one generated subject file, as lm-eval's
// mmlu/default/_generate_configs.py writes them.
func mmluSubjectYAML(subject string) string {
	return fmt.Sprintf("\"dataset_name\": %q\n\"description\": \"The following are multiple choice questions (with answers) about %s.\\n\\n\"\n\"include\": \"_default_template_yaml\"\n\"task\": \"mmlu_%s\"\n\"task_alias\": %q\n",
		subject, strings.ReplaceAll(subject, "_", " "), subject, subject)
}

// LoadTasks loads the embedded task definitions through internal/lmeval.
// The loader reads files by path (it resolves `include` relative to them),
// so the embedded tree is written to a temporary folder first and removed
// once loaded.
func LoadTasks() (*lmeval.Set, error) {
	dir, err := os.MkdirTemp("", "tunecheck-bench-tasks-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	err = fs.WalkDir(taskFiles, "tasks", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := taskFiles.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return nil, err
	}
	for _, s := range MMLUSubjects {
		if err := os.WriteFile(filepath.Join(dir, "tasks", "mmlu", "mmlu_"+s+".yaml"), []byte(mmluSubjectYAML(s)), 0o644); err != nil {
			return nil, err
		}
	}
	set, err := lmeval.NewLoader().LoadDir(filepath.Join(dir, "tasks"))
	if err != nil {
		return nil, fmt.Errorf("built-in task definitions: %s", strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "builtin:"))
	}
	// Later errors name the embedded file, not the removed folder.
	rename := func(s string) string { return strings.Replace(s, dir+string(filepath.Separator), "builtin:", 1) }
	for _, t := range set.Tasks {
		t.File = rename(t.File)
		for _, f := range []*lmeval.Field{t.DocToText, t.DocToTarget, t.DocToChoice, t.Fewshot.DocToText, t.Fewshot.DocToTarget, t.Fewshot.DocToChoice} {
			if f != nil {
				f.At = rename(f.At)
			}
		}
	}
	return set, nil
}
