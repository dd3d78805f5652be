package cli

// One vocabulary for every command (docs/usage.md, "Flags every command
// shares"): -o/--output is always a path, -f/--format always the output
// format, --input-format the format of data files read and --reader the
// trainer-log reader of curves. Format names are text, md, json, html and
// junit everywhere.
//
// Spellings from before that rule keep working for one release as hidden
// flags; using one prints a one-line warning on stderr naming the
// replacement. pflag's own MarkDeprecated is not used: cobra prints its note
// on the command's output stream, which is stdout here, where it would break
// --format json.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// deprecatedAnnotation marks a hidden old spelling of a flag; its value is
// the spelling to use instead.
const deprecatedAnnotation = "tunecheck-deprecated"

// formatAliases are the old format names, and the names they became.
var formatAliases = map[string]string{"terminal": "text", "table": "text", "markdown": "md"}

// outputFormatNames are every output format name in the vocabulary.
var outputFormatNames = []string{"text", "md", "json", "html", "junit"}

// addFormatFlag adds -f/--format, the output format, with the names allowed.
func addFormatFlag(f *pflag.FlagSet, p *string, def string, allowed ...string) {
	f.StringVarP(p, "format", "f", def, "output format: "+orList(allowed))
	f.SetAnnotation("format", valuesAnnotation, allowed)
}

// valuesAnnotation lists a flag's fixed values, which shell completion
// offers (completeFlagValues).
const valuesAnnotation = "tunecheck-values"

// completeFlagValues registers shell completion for every flag of the tree
// under c that lists its fixed values.
func completeFlagValues(c *cobra.Command) {
	c.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if vals := fl.Annotations[valuesAnnotation]; len(vals) > 0 && !fl.Hidden {
			_ = c.RegisterFlagCompletionFunc(fl.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	})
	for _, sub := range c.Commands() {
		completeFlagValues(sub)
	}
}

// addJSONAlias adds the old boolean --json, now --format json.
func addJSONAlias(f *pflag.FlagSet, p *bool) {
	f.BoolVar(p, "json", false, "deprecated: use --format json")
	f.Lookup("json").Hidden = true
	f.SetAnnotation("json", deprecatedAnnotation, []string{"--format json"})
}

// jsonAlias folds the old --json into the format: it is an error with
// --format naming anything else.
func jsonAlias(cmd *cobra.Command, asJSON bool, format *string) error {
	return jsonAliasGiven(asJSON, cmd.Flags().Changed("format"), format)
}

// jsonAliasGiven is jsonAlias where formatGiven says whether --format was
// given in its new meaning.
func jsonAliasGiven(asJSON, formatGiven bool, format *string) error {
	if !asJSON {
		return nil
	}
	if formatGiven && *format != "json" {
		return badFlag(fmt.Errorf("--json and --format %s contradict each other", *format), "drop --json (it is the old spelling of --format json)")
	}
	*format = "json"
	return nil
}

// warnDeprecated prints a warning for every old spelling used on cmd.
func warnDeprecated(cmd *cobra.Command, env Env) {
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if use := fl.Annotations[deprecatedAnnotation]; len(use) > 0 {
			deprecated(env, "--"+fl.Name, use[0])
		}
	})
}

// deprecated prints the one-line warning for an old spelling.
func deprecated(env Env, old, use string) {
	fmt.Fprintf(env.Stderr, "%s %s is deprecated, use %s (the old spelling goes away in the next release)\n", env.paint(toStderr, yellow, "warning:"), old, use)
}

// outputFormat checks an output format name, accepting the old names with a
// warning, and returns the name in the vocabulary.
func outputFormat(env Env, value string, allowed ...string) (string, error) {
	if to, ok := formatAliases[value]; ok && slices.Contains(allowed, to) {
		deprecated(env, "--format "+value, "--format "+to)
		value = to
	}
	if !slices.Contains(allowed, value) {
		return "", badFlag(fmt.Errorf("--format %q: unknown output format", value), "use "+orList(allowed))
	}
	return value, nil
}

// outputFormatList is outputFormat for a comma-separated list.
func outputFormatList(env Env, list string, allowed ...string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		f, err := outputFormat(env, v, allowed...)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// isFormatName says whether v is an output format name, old names included:
// given to -o, which once took the format, it is read as the format.
func isFormatName(v string) bool {
	_, old := formatAliases[v]
	return old || slices.Contains(outputFormatNames, v)
}

// legacyOutputFormat handles -o/--output on a command where it once named
// the output format: a format name there is taken as --format (with a
// warning), since a file or directory named "json" is far less likely than
// an old script; ok reports that it was.
// formatGiven is whether --format was given in its new meaning.
func legacyOutputFormat(cmd *cobra.Command, env Env, output, format *string, formatGiven bool) (ok bool, err error) {
	if !cmd.Flags().Changed("output") || !isFormatName(*output) {
		return false, nil
	}
	if formatGiven {
		return false, badFlag(fmt.Errorf("-o %s names a format, and --format is given too", *output),
			fmt.Sprintf("-o/--output is a path now: drop -o, or write -o ./%s for a file or directory named %s", *output, *output))
	}
	deprecated(env, "-o "+*output, "--format "+*output+" (-o/--output is a path now; -o ./"+*output+" names a file)")
	*format, *output = *output, ""
	return true, nil
}

// shortUsed says whether the command line used the one-letter flag c of
// fs: -f is new with the vocabulary, so a value given to it is read in the
// new meaning only, where --format with the same value may be an old command
// line. In a group of one-letter flags (-qf json), a flag that takes a value
// ends the group (-ofoo is -o foo).
func (e Env) shortUsed(fs *pflag.FlagSet, c byte) bool {
	for _, a := range e.args {
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' || a[1] == '-' {
			continue
		}
		for i := 1; i < len(a); i++ {
			if a[i] == c {
				return true
			}
			if fl := fs.ShorthandLookup(a[i : i+1]); fl == nil || fl.NoOptDefVal == "" {
				break
			}
		}
	}
	return false
}

// badFlag is a bad-input error with a hint.
func badFlag(err error, hint string) error {
	return exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), hint)
}

// orList writes a, b or c.
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// writeJSON writes v as indented JSON with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// openOutput is where a command's output goes: stdout, or the file -o names
// ("-" is stdout too). close must be called, and its error returned.
func openOutput(env Env, path string) (w io.Writer, close func() error, err error) {
	if path == "" || path == "-" {
		return env.Stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, badFlag(fmt.Errorf("-o %s: %w", path, err), "-o/--output names a file to write; check that its directory exists")
	}
	return f, f.Close, nil
}

// dataFormats are the formats of data files (dataset.Load); "auto" detects
// the format from the extension.
var dataFormats = []string{"auto", "jsonl", "json", "csv", "tsv", "parquet"}

// addInputFormatFlag adds --input-format, the format of data files read.
func addInputFormatFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "input-format", "auto", "format of the files read when the extension does not tell: "+orList(dataFormats))
	f.SetAnnotation("input-format", valuesAnnotation, dataFormats)
}

// dataInputLegacy reads the spellings from before the vocabulary on the
// commands that read data files, when --format was the data format and --json
// the output format. A data format given to --format is taken as
// --input-format; "json" is both a data format and an output format, so it
// is read as the data format only with the old --json beside it, and is
// refused otherwise unless --input-format is given. It leaves *input a
// dataset.Load format ("" detects) and *format a valid output format.
func dataInputLegacy(cmd *cobra.Command, env Env, input, format *string, asJSON bool) error {
	fl := cmd.Flags()
	formatGiven := fl.Changed("format")
	if v := *format; formatGiven && !env.shortUsed(fl, 'f') && slices.Contains(dataFormats, v) && !fl.Changed("input-format") {
		switch {
		case v != "json" || asJSON:
			deprecated(env, "--format "+v, "--input-format "+v)
			*input, *format, formatGiven = v, "text", false
		default:
			return badFlag(errors.New("--format json is ambiguous while the old spellings last: it was the data file format and is now the output format"),
				"write --input-format json to read JSON files, or --input-format auto --format json for JSON output")
		}
	}
	if err := jsonAliasGiven(asJSON, formatGiven, format); err != nil {
		return err
	}
	f, err := outputFormat(env, *format, "text", "json")
	if err != nil {
		return exitcode.WithHint(err, "--format is the output format (text or json); the format of the files read is --input-format ("+orList(dataFormats)+")")
	}
	*format = f
	if !slices.Contains(dataFormats, *input) {
		return badFlag(fmt.Errorf("--input-format %q: unknown data format", *input), "use "+orList(dataFormats))
	}
	if *input == "auto" {
		*input = ""
	}
	return nil
}
