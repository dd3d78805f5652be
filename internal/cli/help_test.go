package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exampleProblems walks the command tree of newRoot and returns what is
// wrong with the examples: a runnable command without one, or an example
// line whose tunecheck command does not parse against the command it names
// (an unknown command or flag, a bad flag value, wrong arguments, an old
// spelling).
func exampleProblems(newRoot func() *cobra.Command) []string {
	var problems []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.Hidden || c.Name() == "help" {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			problems = append(problems, fmt.Sprintf("%s: no Example in --help", c.CommandPath()))
			return
		}
		for _, words := range exampleCommands(c.Example) {
			if err := parseExample(newRoot(), words); err != nil {
				problems = append(problems, fmt.Sprintf("%s: example %q: %v", c.CommandPath(), strings.Join(words, " "), err))
			}
		}
	}
	walk(newRoot())
	return problems
}

// exampleCommands splits an Example into the words of each tunecheck command
// in it: lines joined at a trailing backslash, shell quotes removed, and
// split at |, &&, ;, redirections, process substitution and comments.
func exampleCommands(example string) [][]string {
	text := strings.ReplaceAll(example, "\\\n", " ")
	var cmds [][]string
	for line := range strings.Lines(text) {
		var words []string
		var w strings.Builder
		inWord, quote := false, byte(0)
		flush := func() {
			if inWord {
				words = append(words, w.String())
			}
			w.Reset()
			inWord = false
		}
		end := func() {
			flush()
			if len(words) > 0 && words[0] == "tunecheck" {
				cmds = append(cmds, words[1:])
			}
			words = nil
		}
		for i := 0; i < len(line); i++ {
			ch := line[i]
			switch {
			case quote != 0:
				if ch == quote {
					quote = 0
				} else {
					w.WriteByte(ch)
				}
			case ch == '\'' || ch == '"':
				quote, inWord = ch, true
			case ch == '#' && !inWord:
				i = len(line)
			case strings.IndexByte("|&;<>()", ch) >= 0:
				end()
				// a redirection's target is not part of any command
				if ch == '>' || ch == '<' && (i+1 == len(line) || line[i+1] != '(') {
					for i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '>') {
						i++
					}
					for i+1 < len(line) && line[i+1] != ' ' {
						i++
					}
				}
			case ch == ' ' || ch == '\t' || ch == '\n':
				flush()
			default:
				w.WriteByte(ch)
				inWord = true
			}
		}
		end()
	}
	return cmds
}

// parseExample parses args as the command line of a fresh tree.
func parseExample(root *cobra.Command, args []string) error {
	c, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if c == root {
		return fmt.Errorf("names no command")
	}
	if err := c.ParseFlags(rest); err != nil {
		return err
	}
	var old []string
	c.Flags().Visit(func(f *pflag.Flag) {
		if len(f.Annotations[deprecatedAnnotation]) > 0 {
			old = append(old, "--"+f.Name)
		}
	})
	if len(old) > 0 {
		return fmt.Errorf("uses the old spelling %s", strings.Join(old, ", "))
	}
	return c.ValidateArgs(c.Flags().Args())
}

func testRoot() *cobra.Command {
	var out bytes.Buffer
	return newRoot(Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }})
}

// Every runnable command has an example in --help, and every example parses.
func TestEveryCommandHasAWorkingExample(t *testing.T) {
	for _, p := range exampleProblems(testRoot) {
		t.Error(p)
	}
	n := 0
	var count func(c *cobra.Command)
	count = func(c *cobra.Command) {
		if c.Runnable() && !c.Hidden {
			n++
		}
		for _, s := range c.Commands() {
			count(s)
		}
	}
	count(testRoot())
	if n < 20 {
		t.Errorf("walked %d runnable commands; the tree has more", n)
	}
}

// The walker itself fails a command without an example, a misspelt flag,
// an old spelling and a wrong number of arguments.
func TestExampleWalkerCatches(t *testing.T) {
	newBad := func() *cobra.Command {
		root := &cobra.Command{Use: "tunecheck"}
		noop := func(*cobra.Command, []string) error { return nil }
		mk := func(use, example string, args cobra.PositionalArgs) *cobra.Command {
			c := &cobra.Command{Use: use, Example: example, Args: args, RunE: noop}
			var format string
			var asJSON bool
			addFormatFlag(c.Flags(), &format, "text", "text", "json")
			addJSONAlias(c.Flags(), &asJSON)
			c.Flags().String("output", "", "")
			return c
		}
		root.AddCommand(
			mk("bare", "", nil),
			mk("typo", "  tunecheck typo --fromat json", nil),
			mk("old", "  tunecheck old --json", nil),
			mk("args", "  tunecheck args a b", cobra.ExactArgs(1)),
			mk("fine", "  tunecheck fine -f json --output 'a b' | jq . > x.json  # note", cobra.NoArgs),
		)
		return root
	}
	got := strings.Join(exampleProblems(newBad), "\n")
	for _, want := range []string{"tunecheck bare: no Example", "tunecheck typo: example", "unknown flag: --fromat", "old spelling --json", "accepts 1 arg(s), received 2"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "tunecheck fine") {
		t.Errorf("a good example is reported:\n%s", got)
	}
}

func TestExampleCommandsSplit(t *testing.T) {
	got := exampleCommands("  source <(tunecheck completion bash)\n  tunecheck compare a --gate 'x >= 0' && tunecheck report -o r.md \\\n    -f md\n  tunecheck runs > runs.txt # list\n")
	want := [][]string{{"completion", "bash"}, {"compare", "a", "--gate", "x >= 0"}, {"report", "-o", "r.md", "-f", "md"}, {"runs"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// tunecheck completion writes cobra's scripts, and the completion they call
// lists the subcommands and the flag values.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := runCLI(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "tunecheck") || !strings.Contains(out, "__complete") {
			t.Errorf("%s: exit %d, %d bytes, stderr %q", shell, code, len(out), errOut)
		}
	}
	_, out, _ := runCLI(t, "completion", "bash")
	if !strings.Contains(out, "__start_tunecheck") {
		t.Errorf("bash script lacks __start_tunecheck")
	}
	_, out, _ = runCLI(t, cobra.ShellCompRequestCmd, "")
	for _, sub := range []string{"run\t", "report\t", "compare\t", "completion\t", "curves\t"} {
		if !strings.Contains(out, sub) {
			t.Errorf("completing the command lacks %q:\n%s", sub, out)
		}
	}
	_, out, _ = runCLI(t, cobra.ShellCompRequestCmd, "completion", "")
	if !strings.Contains(out, "bash") || !strings.Contains(out, "powershell") {
		t.Errorf("completing the shell: %s", out)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"report", "-f", ""}, []string{"text", "md", "html", "json", "junit"}},
		{[]string{"curves", "log.json", "--reader", ""}, []string{"hf-trainer-state", "llamafactory"}},
		{[]string{"leakage", "--input-format", ""}, []string{"auto", "jsonl", "text"}},
		{[]string{"version", "--color", ""}, []string{"auto", "always", "never"}},
	} {
		_, out, _ := runCLI(t, append([]string{cobra.ShellCompRequestCmd}, tc.args...)...)
		for _, w := range tc.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("completing %v lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
	if code, _, errOut := runCLI(t, "completion", "tcsh"); code == 0 || !strings.Contains(errOut, "tcsh") {
		t.Errorf("tcsh: exit %d %q", code, errOut)
	}
}

func TestShortUsed(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.BoolP("quiet", "q", false, "")
	fs.StringP("output", "o", "", "")
	fs.StringP("format", "f", "", "")
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-f", "json"}, true},
		{[]string{"-fjson"}, true},
		{[]string{"-qf", "json"}, true},
		{[]string{"--format", "json"}, false},
		{[]string{"-ofile.json", "--format", "json"}, false},
		{[]string{"--", "-f"}, false},
		{[]string{"x.jsonl"}, false},
	} {
		if got := (Env{args: tc.args}).shortUsed(fs, 'f'); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.args, got, tc.want)
		}
	}
}
