package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// dataFingerprintOptions are the flags of `tunecheck data fingerprint`.
type dataFingerprintOptions struct {
	paths   []string
	diff    bool
	json    bool   // --json, the old spelling of --format json
	format  string // output format
	input   string // --input-format
	idField string
	columns []string
}

func newDataFingerprintCmd(env Env) *cobra.Command {
	var o dataFingerprintOptions
	cmd := &cobra.Command{
		Use:   "fingerprint FILE...",
		Short: "Fingerprint eval sets; --diff shows rows added, removed and changed",
		Long: `fingerprint prints, for each FILE, the sha256 over its canonical rows (sorted keys,
compact JSON, one row per line), the number of rows, the format and the shape (chat,
alpaca or plain). The fingerprint ignores formatting and key order but not values or
row order; runs record it, so results on different data are never compared by mistake.

With --diff OLD NEW, rows are matched by id and listed as added (+), removed (-) or
changed (~, with the fields that differ). Without --id-field, ids are the rows' id,
question_id or task_id (the first that every row has, unique), else derived from
row content, so an edited row shows as one removed and one added.`,
		Example: `  tunecheck data fingerprint eval.jsonl train.parquet
  tunecheck data fingerprint --diff --id-field id eval-v1.jsonl eval-v2.jsonl -f json
  tunecheck data fingerprint --input-format csv --columns question,answer export.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := dataInputLegacy(cmd, env, &o.input, &o.format, o.json); err != nil {
				return err
			}
			o.json = o.format == "json"
			o.paths = args
			return runDataFingerprint(env, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.diff, "diff", false, "compare two files: OLD NEW")
	addFormatFlag(f, &o.format, "text", "text", "json")
	addInputFormatFlag(f, &o.input)
	addJSONAlias(f, &o.json)
	f.StringVar(&o.idField, "id-field", "", "column holding row ids (default: id, question_id or task_id when every row has it, unique; else ids derived from content)")
	f.StringSliceVar(&o.columns, "columns", nil, "column names of a CSV/TSV file without a header row, e.g. question,A,B,C,D,answer")
	return cmd
}

func runDataFingerprint(env Env, o dataFingerprintOptions) error {
	if o.diff && len(o.paths) != 2 {
		return exitcode.WithCode(fmt.Errorf("--diff takes exactly two files, OLD and NEW; got %d", len(o.paths)), exitcode.BadInput)
	}
	load := func(p string) (*dataset.Dataset, error) {
		return dataset.Load(p, dataset.Options{Format: o.input, IDField: o.idField, Columns: o.columns})
	}
	if !o.diff && !o.json {
		// Print each file as it is read and go on past a bad one, so that one
		// broken file among many does not hide the others; the exit code is
		// still 2.
		var errs []error
		for _, p := range o.paths {
			d, err := load(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if err := dataset.WriteSummary(env.Stdout, d); err != nil {
				return err
			}
		}
		return exitcode.WithCode(errors.Join(errs...), exitcode.BadInput)
	}
	sets := make([]*dataset.Dataset, len(o.paths))
	for i, p := range o.paths {
		d, err := load(p)
		if err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		sets[i] = d
	}
	if o.diff {
		diff := dataset.Compare(sets[0], sets[1])
		if o.json {
			return writeFingerprintJSON(env, diffJSON(diff))
		}
		return dataset.WriteDiff(env.Stdout, diff)
	}
	out := make([]fingerprintJSON, len(sets))
	for i, d := range sets {
		out[i] = toFingerprintJSON(d)
	}
	return writeFingerprintJSON(env, out)
}

type fingerprintJSON struct {
	Path        string `json:"path"`
	Fingerprint string `json:"fingerprint"`
	Rows        int    `json:"rows"`
	Format      string `json:"format"`
	Shape       string `json:"shape"`
}

func toFingerprintJSON(d *dataset.Dataset) fingerprintJSON {
	return fingerprintJSON{Path: d.Path, Fingerprint: d.Fingerprint, Rows: d.Total, Format: d.Format, Shape: d.Shape}
}

type changeJSON struct {
	ID     string   `json:"id"`
	Fields []string `json:"fields"`
}

func diffJSON(d *dataset.Diff) any {
	changed := make([]changeJSON, len(d.Changed))
	for i, c := range d.Changed {
		changed[i] = changeJSON(c)
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return struct {
		Old       fingerprintJSON `json:"old"`
		New       fingerprintJSON `json:"new"`
		Identical bool            `json:"identical"`
		Added     []string        `json:"added"`
		Removed   []string        `json:"removed"`
		Changed   []changeJSON    `json:"changed"`
		Unchanged int             `json:"unchanged"`
	}{toFingerprintJSON(d.Old), toFingerprintJSON(d.New), d.Old.Fingerprint == d.New.Fingerprint, nonNil(d.Added), nonNil(d.Removed), changed, d.Same}
}

func writeFingerprintJSON(env Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
