package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/safety/pii"
)

// newDataPIICmd checks eval or training data for personal data and secrets
// before it goes into a run or a fine-tune (internal/safety/pii).
func newDataPIICmd(env Env) *cobra.Command {
	var idField, input, format string
	var asJSON, fail bool
	var kinds []string
	cmd := &cobra.Command{
		Use:   "pii FILE...",
		Short: "Find personal data and secrets in data files: e-mail, phone, cards, IBAN, SSN, IP, keys",
		Long: `pii reads each FILE (JSONL, JSON, CSV, TSV or Parquet) and reports, per kind, how many
rows hold personal data or a secret in any text field, with the first rows' ids, fields and
the match masked. Cards and IBANs count only when their checksum holds (docs/safety.md).
--fail exits 1 when anything is found, so a CI job can keep personal data out of eval sets.`,
		Example: `  tunecheck data pii eval.jsonl train.parquet
  tunecheck data pii --kinds email,phone --fail support_tickets.csv
  tunecheck data pii -f json eval.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := dataInputLegacy(cmd, env, &input, &format, asJSON); err != nil {
				return err
			}
			var want []pii.Kind
			for _, k := range kinds {
				kind, err := pii.ParseKind(k)
				if err != nil {
					return exitcode.WithCode(fmt.Errorf("--kinds: %w", err), exitcode.BadInput)
				}
				want = append(want, kind)
			}
			var reports []piiReport
			found := 0
			for _, path := range args {
				ds, err := dataset.Load(path, dataset.Options{Format: input, IDField: idField})
				if err != nil {
					return exitcode.WithCode(err, exitcode.BadInput)
				}
				rep := scanPII(ds, want)
				found += rep.Rows
				reports = append(reports, rep)
			}
			if format == "json" {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(reports); err != nil {
					return err
				}
			} else if err := writePIIReports(env, reports); err != nil {
				return err
			}
			if fail && found > 0 {
				return exitcode.WithCode(fmt.Errorf("%d rows hold personal data or secrets", found), exitcode.GateFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&idField, "id-field", "", "column holding row ids (default: id, question_id or task_id when every row has it; else ids from content)")
	addInputFormatFlag(f, &input)
	addFormatFlag(f, &format, "text", "text", "json")
	f.StringSliceVar(&kinds, "kinds", nil, "only these kinds (email, phone, card, iban, ssn, ip, aws_key, github_token, slack_token, private_key, jwt, api_key)")
	addJSONAlias(f, &asJSON)
	f.BoolVar(&fail, "fail", false, "exit 1 when any row holds personal data or a secret")
	return cmd
}

// piiReport is one file's findings.
type piiReport struct {
	Path string `json:"path"`
	// Rows is how many rows hold at least one match; Total how many were read.
	Rows  int            `json:"rows"`
	Total int            `json:"total"`
	Kinds map[string]int `json:"kinds"`
	// Examples are the first rows found, with the match masked.
	Examples []piiExample `json:"examples,omitempty"`
}

type piiExample struct {
	ID     string `json:"id"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Kind   string `json:"kind"`
	Masked string `json:"masked"`
}

func scanPII(ds *dataset.Dataset, kinds []pii.Kind) piiReport {
	rep := piiReport{Path: ds.Path, Total: len(ds.Rows), Kinds: map[string]int{}}
	for _, row := range ds.Rows {
		hit := false
		fields := make([]string, 0, len(row.Fields))
		for k := range row.Fields {
			fields = append(fields, k)
		}
		sort.Strings(fields)
		for _, name := range fields {
			for _, text := range texts(row.Fields[name]) {
				for _, m := range pii.Find(text) {
					if !m.Valid || len(kinds) > 0 && !slices.Contains(kinds, m.Kind) {
						continue
					}
					hit = true
					rep.Kinds[strings.ToLower(string(m.Kind))]++
					if len(rep.Examples) < 10 {
						lo, hi := max(0, m.Start-30), min(len(text), m.End+30)
						rep.Examples = append(rep.Examples, piiExample{ID: row.ID, Line: row.Line, Field: name, Kind: strings.ToLower(string(m.Kind)),
							Masked: pii.Mask(strings.ToValidUTF8(text[lo:hi], ""))})
					}
				}
			}
		}
		if hit {
			rep.Rows++
		}
	}
	return rep
}

// texts are the strings inside a field's value (lists and objects walked).
func texts(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, texts(e)...)
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			out = append(out, texts(x[k])...)
		}
		return out
	}
	return nil
}

func writePIIReports(env Env, reports []piiReport) error {
	for _, r := range reports {
		fmt.Fprintf(env.Stdout, "%s: %d of %d rows hold personal data or secrets\n", r.Path, r.Rows, r.Total)
		if r.Rows == 0 {
			continue
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		kinds := make([]string, 0, len(r.Kinds))
		for k := range r.Kinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(tw, "  %s\t%d\n", k, r.Kinds[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, e := range r.Examples {
			fmt.Fprintf(env.Stdout, "  line %d, id %s, field %s (%s): %s\n", e.Line, report.PlainText(e.ID), report.PlainText(e.Field), e.Kind, report.PlainText(strings.Join(strings.Fields(e.Masked), " ")))
		}
	}
	return nil
}
