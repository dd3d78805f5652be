// Package checkpoint finds the checkpoints a training run writes into its
// output directory and says when one is complete: written fully, so that
// reading it never sees half a file.
//
// Layouts (docs/watch.md):
//
//   - Hugging Face Trainer: OUTPUT/checkpoint-<global step>/, holding either a
//     PEFT adapter (adapter_config.json + adapter_model.safetensors or
//     adapter_model.bin) or full weights (config.json + model.safetensors,
//     pytorch_model.bin, or shards named by model.safetensors.index.json /
//     pytorch_model.bin.index.json), beside training_args.bin, optimizer and
//     scheduler state and trainer_state.json, which the Trainer writes after
//     the weights.
//   - llama.cpp: checkpoint-<N>/ holding .gguf files, a LoRA adapter
//     (general.type "adapter", for llama-server --lora) or a whole model, as
//     a training script that exports GGUF per checkpoint writes them; the
//     GGUF header and tensor table must parse and the file reach its last
//     tensor's data.
//   - LLaMA-Factory and Axolotl train through the Hugging Face Trainer: the
//     same checkpoint-<N>/ folders under their output_dir (LLaMA-Factory adds
//     trainer_log.jsonl beside them; Axolotl's LoRA runs save adapters).
//
// A checkpoint is complete when its layout is whole (weights and config, every
// shard its index names), no file has a temporary or partial name, the
// trainer's state is there when the folder shows it came from the Trainer
// (training_args.bin), and the size and modification time of every file are
// unchanged across two looks spaced by a settle interval. The watcher
// (watch.go) does the looking; this file judges one look.
package checkpoint

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind says what a checkpoint holds.
type Kind string

// The kinds of checkpoint.
const (
	// Adapter is a PEFT adapter (LoRA and kin) over a base model.
	Adapter Kind = "adapter"
	// Full is a whole model's weights.
	Full Kind = "full"
)

// Checkpoint is one complete checkpoint folder.
type Checkpoint struct {
	// Step is the global step in the folder's name (checkpoint-<Step>): the
	// step of the trainer's log lines for the same moment.
	Step int
	// Path is the folder, absolute.
	Path string
	// Rel is Path relative to the watched directory.
	Rel  string
	Kind Kind
	// Fingerprint identifies the checkpoint's content cheaply: every file's
	// name and size and the bytes of its small JSON files (configs, trainer
	// state), hashed. A folder rewritten by another training run with the
	// same step gets another fingerprint.
	Fingerprint string
}

// dirPattern matches the folders the Hugging Face Trainer saves.
var dirPattern = regexp.MustCompile(`^checkpoint-([0-9]+)$`)

// ParseStep returns the step of a checkpoint folder name.
func ParseStep(name string) (int, bool) {
	m := dirPattern.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, false
	}
	return n, true
}

// File is one file of a look at a checkpoint folder.
type File struct {
	Size    int64
	ModTime time.Time
}

// Snapshot is one look at a checkpoint folder: every regular file under it
// (recursively: DeepSpeed writes global_step*/ folders inside) by its path
// relative to the folder.
type Snapshot map[string]File

// Take looks at the folder dir.
func Take(dir string) (Snapshot, error) {
	s := Snapshot{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// A file renamed away between listing and stat: the next look sees
			// the folder as it is then.
			if os.IsNotExist(err) && path != dir {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		s[filepath.ToSlash(rel)] = File{Size: info.Size(), ModTime: info.ModTime()}
		return nil
	})
	return s, err
}

// Same reports whether two looks saw the same files with the same sizes and
// modification times.
func (s Snapshot) Same(o Snapshot) bool {
	if len(s) != len(o) {
		return false
	}
	for k, f := range s {
		g, ok := o[k]
		if !ok || g.Size != f.Size || !g.ModTime.Equal(f.ModTime) {
			return false
		}
	}
	return true
}

// partialName matches the names writers give files still being written:
// editors' and uploaders' temporaries, rsync's dot-files, download managers'
// partials, and safetensors/torch temp files.
func partialName(name string) bool {
	base := filepath.Base(name)
	lower := strings.ToLower(base)
	for _, suf := range []string{".tmp", ".temp", ".part", ".partial", ".incomplete", ".lock", ".crdownload", "~"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	// rsync writes a hidden temporary beside the final name: a dot, the
	// name, a dot and six random characters.
	if strings.HasPrefix(base, ".") && strings.Count(base, ".") >= 2 && !strings.HasPrefix(base, "..") {
		return true
	}
	return strings.HasPrefix(lower, "tmp")
}

// Judge says whether a look at a checkpoint folder shows a whole
// checkpoint: its kind, or why not (a sentence naming the missing or
// partial file). It does not decide whether the files have settled; compare
// two looks with Same for that.
func Judge(dir string, s Snapshot) (Kind, string) {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if partialName(n) {
			return "", fmt.Sprintf("%s is still being written (a temporary name)", n)
		}
		if s[n].Size == 0 && isWeight(n) {
			return "", fmt.Sprintf("%s is empty", n)
		}
	}
	has := func(n string) bool { _, ok := s[n]; return ok }
	var kind Kind
	switch {
	case has("adapter_config.json"):
		kind = Adapter
		if !has("adapter_model.safetensors") && !has("adapter_model.bin") {
			return "", "adapter_config.json without adapter_model.safetensors or adapter_model.bin"
		}
	case has("config.json"):
		kind = Full
		found := false
		for _, idx := range []string{"model.safetensors.index.json", "pytorch_model.bin.index.json"} {
			if !has(idx) {
				continue
			}
			found = true
			shards, err := indexShards(filepath.Join(dir, idx))
			if err != nil {
				return "", fmt.Sprintf("%s: %v", idx, err)
			}
			for _, sh := range shards {
				if !has(sh) {
					return "", fmt.Sprintf("shard %s named by %s is missing", sh, idx)
				}
			}
		}
		if !found && !has("model.safetensors") && !has("pytorch_model.bin") {
			return "", "config.json without model.safetensors, pytorch_model.bin or a shard index"
		}
	case len(gguf(names)) > 0:
		// llama.cpp's format: a LoRA adapter (general.type "adapter", served
		// with llama-server --lora) or a whole model.
		kind = Full
		for _, n := range gguf(names) {
			h, err := readGGUF(filepath.Join(dir, filepath.FromSlash(n)))
			if err != nil {
				return "", fmt.Sprintf("%s: %v", n, err)
			}
			if h.Type == "adapter" {
				kind = Adapter
			}
		}
	default:
		if len(s) == 0 {
			return "", "the folder is empty"
		}
		return "", "neither adapter_config.json (PEFT adapter), config.json (full weights) nor a .gguf file (llama.cpp)"
	}
	// The Trainer saves training_args.bin with the weights and
	// trainer_state.json after the optimizer, scheduler and RNG state: a
	// Trainer checkpoint without its state is still being written.
	if has("training_args.bin") && !has("trainer_state.json") {
		return "", "trainer_state.json is not written yet (the Trainer writes it last)"
	}
	if has("trainer_state.json") {
		if _, err := readJSON(filepath.Join(dir, "trainer_state.json")); err != nil {
			return "", fmt.Sprintf("trainer_state.json: %v", err)
		}
	}
	return kind, ""
}

func isWeight(name string) bool {
	return strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin") || strings.HasSuffix(name, ".gguf")
}

// gguf lists the .gguf files directly in the folder.
func gguf(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(strings.ToLower(n), ".gguf") && !strings.Contains(n, "/") {
			out = append(out, n)
		}
	}
	return out
}

// indexShards lists the files a sharded checkpoint's index maps weights to.
func indexShards(path string) ([]string, error) {
	raw, err := readJSON(path)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("not a shard index: %w", err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("no weight_map")
	}
	var out []string
	for _, f := range idx.WeightMap {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// readJSON reads a JSON file and checks that it parses: a JSON file cut off
// mid-write does not.
func readJSON(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("not valid JSON (cut off while being written?)")
	}
	return b, nil
}
