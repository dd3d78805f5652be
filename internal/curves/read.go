package curves

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// The readers, by the name --format takes.
const (
	FormatHFTrainerState = "hf-trainer-state"
	FormatHFCheckpoints  = "hf-checkpoints"
	FormatLlamaFactory   = "llamafactory"
	FormatTensorBoard    = "tensorboard"
	FormatLightningCSV   = "lightning-csv"
	FormatKerasCSV       = "keras-csv"
	FormatOpenAICSV      = "openai-csv"
	FormatWandbCSV       = "wandb-csv"
	FormatWandbJSONL     = "wandb-jsonl"
	FormatKerasHistory   = "keras-history"
	FormatCSV            = "csv"
	FormatJSONL          = "jsonl"
)

// Formats lists every reader name, for help text and validation.
var Formats = []string{
	FormatHFTrainerState, FormatHFCheckpoints, FormatLlamaFactory, FormatTensorBoard,
	FormatLightningCSV, FormatKerasCSV, FormatKerasHistory, FormatOpenAICSV, FormatWandbCSV, FormatWandbJSONL,
	FormatCSV, FormatJSONL,
}

var checkpointDir = regexp.MustCompile(`^checkpoint-(\d+)$`)

// Read reads one log file or directory as a run. format "" detects it.
// A lightning_logs/ directory is read from its newest version_N (a note
// says so); ReadJoined joins them all.
func Read(path, format string, m Mapping) (*Run, error) {
	return read(path, format, m, false)
}

// ReadJoined is Read, except that a Lightning directory of several
// version_N/metrics.csv (a run resumed into new versions) is read as one
// curve: the versions in order, each later one replacing the steps it logs
// again (a restart where it goes back).
func ReadJoined(path, format string, m Mapping) (*Run, error) {
	return read(path, format, m, true)
}

func read(path, format string, m Mapping, join bool) (*Run, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading training log: %w", err)
	}
	if format == "" {
		format, err = Detect(path)
		if err != nil {
			return nil, err
		}
	}
	var run *Run
	switch format {
	case FormatHFTrainerState:
		p := path
		if st.IsDir() {
			p = filepath.Join(path, "trainer_state.json")
		}
		run, err = readTrainerState(p)
		if err == nil {
			run.Checkpoints = siblingCheckpoints(p)
		}
	case FormatHFCheckpoints:
		run, err = readCheckpoints(path)
	case FormatTensorBoard:
		run, err = readTensorBoard(path)
	case FormatLlamaFactory, FormatWandbJSONL, FormatJSONL:
		p := path
		if st.IsDir() {
			p = filepath.Join(path, "trainer_log.jsonl")
		}
		run, err = readJSONL(p, format, m)
		if err == nil {
			run.Checkpoints = childCheckpoints(filepath.Dir(p))
		}
	case FormatKerasHistory:
		run, err = readKerasHistory(path)
	case FormatLightningCSV, FormatKerasCSV, FormatOpenAICSV, FormatWandbCSV, FormatCSV:
		p := path
		var versions []string
		if st.IsDir() {
			if p, err = findMetricsCSV(path); err != nil {
				return nil, err
			}
			versions = metricsVersions(path)
		}
		switch {
		case join && len(versions) > 1:
			run, err = joinCSV(versions, format, m)
		default:
			run, err = readCSV(p, format, m)
			if err == nil && len(versions) > 1 {
				run.Notes = append(run.Notes, fmt.Sprintf("%s holds %d logger versions (%s); only the newest, %s, was read: pass --join to join resumed versions into one curve, or pass one version's directory",
					path, len(versions), versionNames(versions), filepath.Base(filepath.Dir(p))))
			}
		}
	default:
		return nil, fmt.Errorf("unknown log format %q (known: %s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return nil, err
	}
	run.Name = runName(path)
	run.Path = path
	if run.Checkpoints == nil {
		run.Checkpoints = map[int64]string{}
	}
	return run, nil
}

// runName labels a run: the file's directory when the file has a generic
// name (trainer_state.json in output/checkpoint-500), else the file name.
func runName(path string) string {
	base := filepath.Base(filepath.Clean(path))
	switch base {
	case "trainer_state.json", "trainer_log.jsonl", "metrics.csv", "history.csv", "training_log.csv", "results.csv":
		dir := filepath.Base(filepath.Dir(filepath.Clean(path)))
		if checkpointDir.MatchString(dir) {
			dir = filepath.Base(filepath.Dir(filepath.Dir(filepath.Clean(path))))
		}
		if dir != "." && dir != string(filepath.Separator) {
			return dir + "/" + base
		}
	}
	return base
}

// Detect names the reader for path from its name and first bytes.
func Detect(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return detectDir(path)
	}
	name := strings.ToLower(filepath.Base(path))
	if isEventFileName(name) {
		return FormatTensorBoard, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := f.Read(head)
	head = head[:n]
	if looksLikeTFRecord(head) {
		return FormatTensorBoard, nil
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' && bytes.Contains(head, []byte(`"log_history"`)):
		return FormatHFTrainerState, nil
	case len(trimmed) > 0 && trimmed[0] == '{':
		first, _, _ := bytes.Cut(trimmed, []byte("\n"))
		first = append([]byte(nil), first...)
		sanitizeJSON(first)
		var obj map[string]json.RawMessage
		if json.Unmarshal(first, &obj) != nil {
			// One object spread over many lines: Keras' history.history
			// saved with json.dump, or something unknown.
			if isKerasHistory(path) {
				return FormatKerasHistory, nil
			}
			return "", fmt.Errorf("%s: a JSON file without \"log_history\" is not a known log; use --format jsonl for one object per line, with --map for the field names", path)
		}
		for _, v := range obj {
			// Lists as values: history.history dumped on one line.
			if len(v) > 0 && v[0] == '[' && isKerasHistory(path) {
				return FormatKerasHistory, nil
			}
		}
		switch {
		case obj["current_steps"] != nil:
			return FormatLlamaFactory, nil
		case obj["_step"] != nil || obj["_runtime"] != nil || obj["_timestamp"] != nil:
			return FormatWandbJSONL, nil
		}
		return FormatJSONL, nil
	case len(trimmed) > 0 && trimmed[0] == '[' && bytes.Contains(head, []byte(`"step"`)):
		// trainer.state.log_history dumped on its own.
		return FormatHFTrainerState, nil
	}
	return detectCSV(path, head)
}

func detectCSV(path string, head []byte) (string, error) {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("\ufeff")))
	sep := ","
	if strings.HasSuffix(strings.ToLower(path), ".tsv") {
		sep = "\t"
	}
	if !bytes.Contains(line, []byte(sep)) {
		if data, err := os.ReadFile(path); err == nil {
			if dec, ok := decodeBase64CSV(data); ok {
				return detectCSV(path, dec)
			}
		}
		return "", fmt.Errorf("%s: not a known training log (trainer_state.json, trainer_log.jsonl, TensorBoard events, CSV or JSONL); use --format (%s)", path, strings.Join(Formats, ", "))
	}
	cols := map[string]bool{}
	wandb := false
	for _, c := range strings.Split(string(line), sep) {
		c = strings.Trim(strings.TrimSpace(c), `"`)
		if strings.Contains(c, " - ") || strings.HasSuffix(c, "__MIN") {
			wandb = true
		}
		cols[csvColumnName(c)] = true
	}
	switch {
	case wandb || cols["_step"] || cols["_runtime"] || cols["train/global_step"]:
		return FormatWandbCSV, nil
	case cols["step"] && (cols["valid_loss"] || cols["train_accuracy"] || cols["full_valid_loss"]):
		return FormatOpenAICSV, nil
	case cols["epoch"] && cols["step"]:
		return FormatLightningCSV, nil
	case cols["epoch"] && cols["loss"] && !cols["step"]:
		return FormatKerasCSV, nil
	}
	return FormatCSV, nil
}

func detectDir(path string) (string, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return "", err
	}
	has := map[string]bool{}
	ckpt := false
	for _, e := range entries {
		has[e.Name()] = true
		if e.IsDir() && checkpointDir.MatchString(e.Name()) {
			if _, err := os.Stat(filepath.Join(path, e.Name(), "trainer_state.json")); err == nil {
				ckpt = true
			}
		}
	}
	switch {
	case ckpt:
		return FormatHFCheckpoints, nil
	case has["trainer_state.json"]:
		return FormatHFTrainerState, nil
	case has["trainer_log.jsonl"]:
		return FormatLlamaFactory, nil
	}
	if _, err := findMetricsCSV(path); err == nil {
		return FormatLightningCSV, nil
	}
	found := false
	_ = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isEventFileName(d.Name()) {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	if found {
		return FormatTensorBoard, nil
	}
	return "", fmt.Errorf("%s: no training log found in this directory (looked for checkpoint-*/trainer_state.json, trainer_state.json, trainer_log.jsonl, metrics.csv, events.out.tfevents.*)", path)
}

// childCheckpoints maps the step of every checkpoint-N directory in dir.
func childCheckpoints(dir string) map[int64]string {
	out := map[int64]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if m := checkpointDir.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			step, _ := strconv.ParseInt(m[1], 10, 64)
			out[step] = filepath.Join(dir, e.Name())
		}
	}
	return out
}

// siblingCheckpoints finds the checkpoints beside a trainer_state.json: its
// own output directory, or when it sits inside checkpoint-N, the parent's.
func siblingCheckpoints(stateFile string) map[int64]string {
	dir := filepath.Dir(stateFile)
	if checkpointDir.MatchString(filepath.Base(dir)) {
		dir = filepath.Dir(dir)
	}
	return childCheckpoints(dir)
}

// readCheckpoints reads a Trainer output directory of checkpoint-*/ as one
// run. The Trainer saves the whole log_history into every checkpoint, so the
// latest checkpoint's history is the run's history (after a resume too: the
// resumed trainer rewrites what follows the checkpoint it resumed from).
// Earlier checkpoints are read only when the latest cannot stand alone: it
// is damaged, or its history starts after the first checkpoint (edited or
// cut); then they fill the steps it lacks, later checkpoints first.
func readCheckpoints(dir string) (*Run, error) {
	ckpts := childCheckpoints(dir)
	steps := make([]int64, 0, len(ckpts))
	for s := range ckpts {
		if fileExists(filepath.Join(ckpts[s], "trainer_state.json")) {
			steps = append(steps, s)
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: no checkpoint-*/trainer_state.json here", dir)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	latest, err := readTrainerState(filepath.Join(ckpts[steps[len(steps)-1]], "trainer_state.json"))
	if err != nil {
		return nil, err
	}
	// trainer.save_state() writes the final state beside the checkpoints;
	// it runs past the last checkpoint when the last step was not a save step.
	if top := filepath.Join(dir, "trainer_state.json"); fileExists(top) {
		if final, err := readTrainerState(top); err == nil && len(final.Damage) == 0 {
			_, finalLast := stepBounds(slices.Collect(maps.Values(final.Series))...)
			_, ckptLast := stepBounds(slices.Collect(maps.Values(latest.Series))...)
			if finalLast >= ckptLast {
				latest = final
			}
		}
	}
	out := &Run{Path: dir, Format: FormatHFCheckpoints, Series: latest.Series, Checkpoints: ckpts,
		MaxSteps: latest.MaxSteps, BestCheckpoint: latest.BestCheckpoint, Restarts: latest.Restarts, Damage: latest.Damage,
		TrainSeconds: latest.TrainSeconds}
	first, _ := stepBounds(slices.Collect(maps.Values(latest.Series))...)
	if len(latest.Damage) == 0 && len(latest.Series) > 0 && first <= steps[0] {
		return out, nil
	}
	earlier := make([]*Run, len(steps)-1)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, s := range steps[:len(steps)-1] {
		g.Go(func() error {
			r, err := readTrainerState(filepath.Join(ckpts[s], "trainer_state.json"))
			if err != nil {
				return err
			}
			earlier[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := len(earlier) - 1; i >= 0; i-- {
		out.Damage = append(out.Damage, earlier[i].Damage...)
		for name, ps := range earlier[i].Series {
			out.Series[name] = mergePoints(out.Series[name], ps)
		}
	}
	return out, nil
}

// mergePoints adds to have the points of more at steps have lacks.
func mergePoints(have, more []Point) []Point {
	if len(have) == 0 {
		return append([]Point(nil), more...)
	}
	steps := make(map[int64]bool, len(have))
	for _, p := range have {
		steps[p.Step] = true
	}
	added := false
	for _, p := range more {
		if !steps[p.Step] {
			have = append(have, p)
			added = true
		}
	}
	if added {
		sort.Slice(have, func(i, j int) bool { return have[i].Step < have[j].Step })
	}
	return have
}

// findMetricsCSV finds a Lightning CSVLogger file in dir: dir/metrics.csv, or
// in the logger's layout (lightning_logs/version_N/metrics.csv) the one of
// the highest version, the most recent run.
func findMetricsCSV(dir string) (string, error) {
	if p := filepath.Join(dir, "metrics.csv"); fileExists(p) {
		return p, nil
	}
	found := metricsVersions(dir)
	if len(found) == 0 {
		return "", fmt.Errorf("%s: no metrics.csv in this directory or its version_*/ subdirectories", dir)
	}
	return found[len(found)-1], nil
}

// metricsVersions lists the metrics.csv files below dir (not dir's own) in
// version order, oldest first.
func metricsVersions(dir string) []string {
	if fileExists(filepath.Join(dir, "metrics.csv")) {
		return nil
	}
	var found []string
	for _, pattern := range []string{"*/metrics.csv", "*/*/metrics.csv"} {
		ms, _ := filepath.Glob(filepath.Join(dir, pattern))
		found = append(found, ms...)
	}
	sort.SliceStable(found, func(i, j int) bool { return versionOf(found[i]) < versionOf(found[j]) })
	return found
}

func versionNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(filepath.Dir(p))
	}
	return strings.Join(names, ", ")
}

// joinCSV reads each metrics.csv and joins them in order as one run.
func joinCSV(paths []string, format string, m Mapping) (*Run, error) {
	out := &Run{Format: format}
	b := newSeriesBuilder()
	for _, p := range paths {
		r, err := readCSV(p, format, m)
		if err != nil {
			return nil, err
		}
		out.Damage = append(out.Damage, r.Damage...)
		out.Notes = append(out.Notes, r.Notes...)
		out.MaxSteps = max(out.MaxSteps, r.MaxSteps)
		out.Restarts = append(out.Restarts, r.Restarts...)
		byStep := map[int64]map[string]float64{}
		for name, ps := range r.Series {
			for _, pt := range ps {
				if byStep[pt.Step] == nil {
					byStep[pt.Step] = map[string]float64{}
				}
				byStep[pt.Step][name] = pt.Value
			}
		}
		steps := slices.Sorted(maps.Keys(byStep))
		for _, st := range steps {
			b.at(st)
			for _, name := range slices.Sorted(maps.Keys(byStep[st])) {
				b.add(name, st, byStep[st][name])
			}
		}
	}
	out.Series = b.series
	out.Restarts = append(out.Restarts, b.restarts...)
	slices.Sort(out.Restarts)
	out.Restarts = slices.Compact(out.Restarts)
	out.Notes = append(out.Notes, fmt.Sprintf("joined %d logger versions in order (%s); a later version replaces the steps it logs again", len(paths), versionNames(paths)))
	return out, nil
}

// versionOf is N of a .../version_N/metrics.csv path, or -1.
func versionOf(p string) int {
	d := filepath.Base(filepath.Dir(p))
	if n, err := strconv.Atoi(strings.TrimPrefix(d, "version_")); err == nil && strings.HasPrefix(d, "version_") {
		return n
	}
	return -1
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
