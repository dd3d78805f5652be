// Package action tests the tunecheck GitHub Action (action.yml at the
// repository root) and its scripts here: action.yml and the example workflow
// are parsed and checked for what GitHub requires of them, install.sh is run
// against release archives served from a local directory, and the whole
// action is run step by step as a runner would run it — with a tunecheck
// built from this tree, a recorded pull_request event payload and an
// in-memory GitHub API (internal/ghcomment/ghtest) — so that action.yml's
// wiring, not only each script, is what is tested. scripts/action/lint.sh
// adds actionlint and ShellCheck.
package action

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/tunecheck/tunecheck/internal/ghcomment"
	"github.com/tunecheck/tunecheck/internal/ghcomment/ghtest"
)

// root is the repository root, where action.yml lives.
const root = "../.."

type input struct {
	Description string  `yaml:"description"`
	Required    bool    `yaml:"required"`
	Default     *string `yaml:"default"`
}

type step struct {
	Name             string            `yaml:"name"`
	ID               string            `yaml:"id"`
	If               string            `yaml:"if"`
	Shell            string            `yaml:"shell"`
	Run              string            `yaml:"run"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Env              map[string]string `yaml:"env"`
	WorkingDirectory string            `yaml:"working-directory"`
}

type actionFile struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Author      string            `yaml:"author"`
	Branding    map[string]string `yaml:"branding"`
	Inputs      map[string]input  `yaml:"inputs"`
	Outputs     map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

func loadAction(t *testing.T) (actionFile, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	// Unknown keys are errors: a misspelt key is silently ignored by GitHub.
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField()).Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a, data
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// outputsWritten are the outputs a script writes to $GITHUB_OUTPUT.
func outputsWritten(t *testing.T, script string) []string {
	t.Helper()
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*echo "([a-z-]+)=`).FindAllStringSubmatch(string(data), -1) {
		names = append(names, m[1])
	}
	return names
}

var scriptRE = regexp.MustCompile(`^bash "\$GITHUB_ACTION_PATH/(scripts/action/[a-z]+\.sh)"$`)

func TestActionYAML(t *testing.T) {
	a, data := loadAction(t)
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Fatalf("name %q, description %q, runs.using %q: want a named composite action", a.Name, a.Description, a.Runs.Using)
	}
	for _, name := range []string{"plan", "version", "install", "output-dir", "formats", "comment", "comment-key", "github-token", "artifact-name", "working-directory", "args"} {
		in, ok := a.Inputs[name]
		if !ok || in.Description == "" || in.Default == nil {
			t.Errorf("input %s: missing, or without a description or default", name)
		}
	}
	if d := a.Inputs["version"].Default; d == nil || !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(*d) {
		t.Errorf("the version input's default is not a pinned release: %v", d)
	}
	if d := a.Inputs["github-token"].Default; d == nil || *d != "${{ github.token }}" {
		t.Errorf("github-token's default: %v", d)
	}

	ids := map[string]int{}
	written := map[string][]string{} // step id → outputs its script writes
	for i, s := range a.Runs.Steps {
		if s.ID != "" {
			ids[s.ID] = i
		}
		switch {
		case s.Run != "" && s.Uses != "":
			t.Errorf("step %q has both run and uses", s.Name)
		case s.Run != "":
			if s.Shell != "bash" {
				t.Errorf("step %q: a composite run step needs shell: bash", s.Name)
			}
			// Inputs reach scripts through env, never pasted into the
			// script text, where a value could inject shell code.
			if strings.Contains(s.Run, "${{") {
				t.Errorf("step %q: run has an expression; pass it through env", s.Name)
			}
			if m := scriptRE.FindStringSubmatch(s.Run); m != nil {
				st, err := os.Stat(filepath.Join(root, m[1]))
				if err != nil || st.Mode()&0o111 == 0 {
					t.Errorf("step %q runs %s, which is missing or not executable", s.Name, m[1])
				}
				if s.ID != "" {
					written[s.ID] = outputsWritten(t, filepath.Join(root, m[1]))
				}
			}
		case s.Uses != "":
			if s.Uses != "actions/upload-artifact@v4" {
				t.Errorf("step %q uses %s; the action pins actions/upload-artifact@v4", s.Name, s.Uses)
			}
		default:
			t.Errorf("step %q has neither run nor uses", s.Name)
		}
	}
	// Every expression names a declared input or an output an earlier step writes.
	for _, m := range exprRE.FindAllStringSubmatch(string(data), -1) {
		for _, ref := range regexp.MustCompile(`\b(inputs|steps)\.([a-z0-9_-]+)(?:\.outputs\.([a-z0-9_-]+))?`).FindAllStringSubmatch(m[1], -1) {
			switch ref[1] {
			case "inputs":
				if _, ok := a.Inputs[ref[2]]; !ok {
					t.Errorf("%s refers to input %q, which action.yml does not declare", m[0], ref[2])
				}
			case "steps":
				if _, ok := ids[ref[2]]; !ok {
					t.Errorf("%s refers to step %q, which does not exist", m[0], ref[2])
				} else if !slices.Contains(written[ref[2]], ref[3]) {
					t.Errorf("%s: step %s's script never writes output %q", m[0], ref[2], ref[3])
				}
			}
		}
	}
	for _, name := range []string{"exit-code", "verdict", "report-dir"} {
		if o, ok := a.Outputs[name]; !ok || o.Description == "" || !exprRE.MatchString(o.Value) {
			t.Errorf("output %s: missing, undescribed or without a value", name)
		}
	}
	// The job fails by tunecheck's code only at the end, after the reports are out.
	last := a.Runs.Steps[len(a.Runs.Steps)-1]
	if !strings.Contains(last.Run, `exit "${TC_EXIT_CODE`) || last.Env["TC_EXIT_CODE"] != "${{ steps.run.outputs.exit-code }}" {
		t.Errorf("the last step does not exit with tunecheck's code: %+v", last)
	}
}

type workflow struct {
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []step `yaml:"steps"`
	} `yaml:"jobs"`
}

func TestExampleWorkflow(t *testing.T) {
	a, _ := loadAction(t)
	data, err := os.ReadFile(filepath.Join(root, "examples", "ci", "github-workflow.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatalf("github-workflow.yml: %v", err)
	}
	if _, ok := w.On["pull_request"]; !ok {
		t.Error("the example does not run on pull_request")
	}
	if w.Permissions["pull-requests"] != "write" || w.Permissions["contents"] != "read" {
		t.Errorf("permissions %v: want pull-requests: write, contents: read", w.Permissions)
	}
	var used int
	for name, job := range w.Jobs {
		checkout := false
		for _, s := range job.Steps {
			if strings.HasPrefix(s.Uses, "actions/checkout@") {
				checkout = true
			}
			if !strings.HasPrefix(s.Uses, "tunecheck/tunecheck@") {
				continue
			}
			used++
			if !checkout {
				t.Errorf("job %s uses tunecheck before checking out the repository", name)
			}
			tag := strings.TrimPrefix(s.Uses, "tunecheck/tunecheck@")
			if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(tag) {
				t.Errorf("job %s: the action is not pinned to a release tag: %s", name, s.Uses)
			}
			for k := range s.With {
				if _, ok := a.Inputs[k]; !ok {
					t.Errorf("job %s passes %s, which action.yml does not declare", name, k)
				}
			}
			if v := s.With["version"]; v != "" && "v"+v != tag {
				t.Errorf("job %s: version %s does not match the action's tag %s", name, v, tag)
			}
		}
	}
	if used == 0 {
		t.Fatal("the example workflow does not use the action")
	}
}

func needBash(t *testing.T) {
	t.Helper()
	// What a GitHub runner has and the scripts use.
	for _, tool := range []string{"bash", "curl", "tar", "awk", "find"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// runnerPlatform is RUNNER_OS and RUNNER_ARCH for this machine, and the
// release archive's os and arch.
func runnerPlatform(t *testing.T) (runnerOS, runnerArch, goos, goarch string) {
	t.Helper()
	switch runtime.GOOS {
	case "linux":
		runnerOS = "Linux"
	case "darwin":
		runnerOS = "macOS"
	default:
		t.Skipf("the action's scripts are tested on Linux and macOS, not %s", runtime.GOOS)
	}
	switch runtime.GOARCH {
	case "amd64":
		runnerArch = "X64"
	case "arm64":
		runnerArch = "ARM64"
	default:
		t.Skipf("no release archive for %s", runtime.GOARCH)
	}
	return runnerOS, runnerArch, runtime.GOOS, runtime.GOARCH
}

// release lays out BASE/vVERSION/ as scripts/release.sh uploads it: the
// archive holding the binary (in a folder) and checksums.txt in sha256sum's
// format. It returns the archive's name.
func release(t *testing.T, base, version, goos, goarch string, binary []byte) string {
	t.Helper()
	dir := filepath.Join(base, "v"+version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stem := fmt.Sprintf("tunecheck_%s_%s_%s", version, goos, goarch)
	var buf bytes.Buffer
	name := stem + ".tar.gz"
	if goos == "windows" {
		name = stem + ".zip"
		zw := zip.NewWriter(&buf)
		for _, f := range []struct {
			name string
			data []byte
		}{{stem + "/README.md", []byte("# tunecheck\n")}, {stem + "/tunecheck.exe", binary}} {
			h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
			h.SetMode(0o755)
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(f.data)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, f := range []struct {
			name string
			data []byte
		}{{stem + "/LICENSE", []byte("license\n")}, {stem + "/tunecheck", binary}} {
			tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
			tw.Write(f.data)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		gz.Close()
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	line := hex.EncodeToString(sum[:]) + "  " + name + "\n"
	f, err := os.OpenFile(filepath.Join(dir, "checksums.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "%s  tunecheck_%s_other_arch.tar.gz\n", strings.Repeat("0", 64), version)
	f.WriteString(line)
	f.Close()
	return name
}

// cleanEnv is this process's environment without what a runner sets, so
// that only what a test sets reaches the scripts.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "TUNECHECK_") || strings.HasPrefix(k, "TC_") || k == "CI" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runScript runs a script of scripts/action with env added.
func runScript(t *testing.T, script string, env map[string]string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", script)
	cmd.Env = cleanEnv()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

const fakeBinary = "#!/bin/sh\necho 'tunecheck v9.8.7 (commit fake)'\n"

func TestInstallFromRelease(t *testing.T) {
	needBash(t)
	rOS, rArch, goos, goarch := runnerPlatform(t)
	base := t.TempDir()
	release(t, base, "9.8.7", goos, goarch, []byte(fakeBinary))
	// A mismatch: the archive was swapped after checksums.txt was written.
	bad := release(t, base, "6.6.6", goos, goarch, []byte(fakeBinary))
	if err := os.WriteFile(filepath.Join(base, "v6.6.6", bad), []byte("not the archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A release whose checksums.txt lacks this platform's archive.
	release(t, base, "5.5.5", goos, goarch, []byte(fakeBinary))
	os.WriteFile(filepath.Join(base, "v5.5.5", "checksums.txt"), []byte(strings.Repeat("0", 64)+"  tunecheck_5.5.5_other_arch.tar.gz\n"), 0o644)

	install := func(t *testing.T, vars map[string]string) (int, string, string, string) {
		bin := filepath.Join(t.TempDir(), "bin")
		ghPath := filepath.Join(t.TempDir(), "github_path")
		env := map[string]string{"RUNNER_OS": rOS, "RUNNER_ARCH": rArch, "TUNECHECK_BIN_DIR": bin, "GITHUB_PATH": ghPath,
			"TUNECHECK_DOWNLOAD_BASE": "file://" + base, "TUNECHECK_VERSION": "v9.8.7"}
		for k, v := range vars {
			env[k] = v
		}
		code, out := runScript(t, "install.sh", env)
		p, _ := os.ReadFile(ghPath)
		return code, out, bin, string(p)
	}

	t.Run("file base", func(t *testing.T) {
		code, out, bin, ghPath := install(t, nil)
		if code != 0 || !strings.Contains(out, "sha256 ") || !strings.Contains(out, "tunecheck v9.8.7 (commit fake)") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if ghPath != bin+"\n" {
			t.Fatalf("GITHUB_PATH holds %q, want %q", ghPath, bin)
		}
		if got, _ := os.ReadFile(filepath.Join(bin, "tunecheck")); string(got) != fakeBinary {
			t.Fatal("the installed binary is not the archive's")
		}
	})
	t.Run("http base", func(t *testing.T) {
		py, err := exec.LookPath("python3")
		if err != nil {
			t.Skip("python3 is not installed")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, port, _ := net.SplitHostPort(addr)
		srv := exec.Command(py, "-m", "http.server", port, "--bind", "127.0.0.1", "--directory", base)
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
		for i := 0; ; i++ {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if i == 600 { // 30 s: a loaded machine starts Python slowly
				t.Fatalf("python3 -m http.server did not start: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		code, out, bin, _ := install(t, map[string]string{"TUNECHECK_DOWNLOAD_BASE": "http://" + addr + "/", "TUNECHECK_VERSION": "9.8.7"})
		if code != 0 || !strings.Contains(out, "downloading http://"+addr+"/v9.8.7/tunecheck_9.8.7_"+goos+"_"+goarch+".tar.gz") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(bin, "tunecheck")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("windows zip", func(t *testing.T) {
		if _, err := exec.LookPath("unzip"); err != nil {
			t.Skip("unzip is not installed")
		}
		release(t, base, "9.8.7", "windows", goarch, []byte(fakeBinary))
		code, out, bin, _ := install(t, map[string]string{"RUNNER_OS": "Windows"})
		if code != 0 || !strings.Contains(out, "tunecheck_9.8.7_windows_"+goarch+".zip") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(bin, "tunecheck.exe")); err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"checksum mismatch", map[string]string{"TUNECHECK_VERSION": "6.6.6"}, "checksum mismatch for " + bad},
		{"no checksum line", map[string]string{"TUNECHECK_VERSION": "5.5.5"}, "checksums.txt of v5.5.5 has no line for tunecheck_5.5.5_"},
		{"no such release", map[string]string{"TUNECHECK_VERSION": "1.2.3"}, "could not download file://" + base + "/v1.2.3/checksums.txt"},
		{"32-bit runner", map[string]string{"RUNNER_ARCH": "X86"}, "no tunecheck release for RUNNER_ARCH='X86'; use install: go"},
		{"unknown OS", map[string]string{"RUNNER_OS": "Plan9"}, "RUNNER_OS='Plan9'"},
		{"bad version", map[string]string{"TUNECHECK_VERSION": "1.0; rm -rf /"}, "is not a release version"},
		{"no version", map[string]string{"TUNECHECK_VERSION": ""}, "is not a release version"},
		{"unknown mode", map[string]string{"TUNECHECK_INSTALL": "brew"}, "install 'brew' is not one of release, go, path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, bin, ghPath := install(t, c.vars)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, want a failure saying %q:\n%s", code, c.want, out)
			}
			if _, err := os.Stat(filepath.Join(bin, "tunecheck")); err == nil || ghPath != "" {
				t.Fatal("a failed install left a binary or changed PATH")
			}
		})
	}
}

// install: go runs go install with GOBIN; install: path takes the
// tunecheck on PATH. A stand-in go records what it was asked.
func TestInstallGoAndPath(t *testing.T) {
	needBash(t)
	fake := t.TempDir()
	os.WriteFile(filepath.Join(fake, "go"), []byte("#!/bin/sh\necho \"$@\" > \""+fake+"/go-args\"\nprintf '%s' \"$GOBIN\" > \""+fake+"/go-bin\"\nprintf '#!/bin/sh\\necho tunecheck from go\\n' > \"$GOBIN/tunecheck\"\nchmod +x \"$GOBIN/tunecheck\"\n"), 0o755)
	bin := filepath.Join(t.TempDir(), "bin")
	code, out := runScript(t, "install.sh", map[string]string{"TUNECHECK_INSTALL": "go", "TUNECHECK_VERSION": "0.4.1", "TUNECHECK_BIN_DIR": bin,
		"PATH": fake + ":/usr/bin:/bin"})
	args, _ := os.ReadFile(filepath.Join(fake, "go-args"))
	gobin, _ := os.ReadFile(filepath.Join(fake, "go-bin"))
	if code != 0 || string(args) != "install github.com/tunecheck/tunecheck/cmd/tunecheck@v0.4.1\n" || string(gobin) != bin || !strings.Contains(out, "tunecheck from go") {
		t.Fatalf("exit %d, go %q GOBIN %q:\n%s", code, args, gobin, out)
	}

	code, out = runScript(t, "install.sh", map[string]string{"TUNECHECK_INSTALL": "go", "TUNECHECK_VERSION": "0.4.1", "TUNECHECK_BIN_DIR": bin, "PATH": "/usr/bin:/bin"})
	if code == 0 || !strings.Contains(out, "install: go needs Go on the runner") {
		if _, err := os.Stat("/usr/bin/go"); err != nil {
			t.Fatalf("without go: exit %d:\n%s", code, out)
		}
	}

	onPath := t.TempDir()
	os.WriteFile(filepath.Join(onPath, "tunecheck"), []byte("#!/bin/sh\necho tunecheck on PATH\n"), 0o755)
	ghPath := filepath.Join(t.TempDir(), "github_path")
	code, out = runScript(t, "install.sh", map[string]string{"TUNECHECK_INSTALL": "path", "GITHUB_PATH": ghPath, "PATH": onPath + ":/usr/bin:/bin"})
	if p, _ := os.ReadFile(ghPath); code != 0 || !strings.Contains(out, "tunecheck on PATH") || string(p) != onPath+"\n" {
		t.Fatalf("path: exit %d, GITHUB_PATH %q:\n%s", code, p, out)
	}
	code, out = runScript(t, "install.sh", map[string]string{"TUNECHECK_INSTALL": "path", "PATH": "/nonexistent:/bin"})
	if code == 0 || !strings.Contains(out, "no tunecheck is on PATH") {
		t.Fatalf("path without tunecheck: exit %d:\n%s", code, out)
	}
}

// runner runs action.yml's steps as GitHub's runner runs a composite
// action's: expressions in env, with and working-directory resolved from
// the inputs and earlier steps' outputs, each run step in bash -eo pipefail
// with GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY and
// GITHUB_ACTION_PATH, and a step without `if` skipped after a failure. The
// upload step is recorded rather than run.
type runner struct {
	t         *testing.T
	action    actionFile
	workspace string
	env       map[string]string // the job's environment (GITHUB_*, RUNNER_*)
	summary   string            // $GITHUB_STEP_SUMMARY
}

type jobResult struct {
	code     int               // the job's exit code: the first failed step's
	failed   string            // the failed step's name
	logs     map[string]string // step name → output
	outputs  map[string]string // the action's outputs
	uploaded map[string]string // the upload step's with, "" when skipped
	skipped  []string
}

// conditions are the `if:` expressions action.yml uses, evaluated here; a
// new one fails the test until it is added.
var conditions = map[string]func(steps map[string]map[string]string, failed bool) bool{
	"${{ always() && steps.run.outputs.report-dir != '' }}": func(s map[string]map[string]string, _ bool) bool {
		return s["run"]["report-dir"] != ""
	},
}

func (r *runner) run(inputs map[string]string) jobResult {
	t := r.t
	t.Helper()
	in := map[string]string{}
	for name, def := range r.action.Inputs {
		if def.Default != nil {
			in[name] = *def.Default
		}
	}
	for k, v := range inputs {
		if _, ok := r.action.Inputs[k]; !ok {
			t.Fatalf("input %s is not declared", k)
		}
		in[k] = v
	}
	steps := map[string]map[string]string{}
	resolve := func(s string) string {
		return exprRE.ReplaceAllStringFunc(s, func(m string) string {
			e := exprRE.FindStringSubmatch(m)[1]
			switch parts := strings.Split(e, "."); {
			case len(parts) == 2 && parts[0] == "inputs":
				return in[parts[1]]
			case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
				return steps[parts[1]][parts[3]]
			case e == "github.token":
				return r.env["GITHUB_TOKEN_FOR_TEST"]
			}
			t.Fatalf("the test runner cannot evaluate %s", m)
			return ""
		})
	}
	for k, v := range in {
		in[k] = resolve(v) // github-token's default is an expression
	}
	res := jobResult{logs: map[string]string{}}
	tmp := t.TempDir()
	ghPath := filepath.Join(tmp, "github_path")
	os.WriteFile(ghPath, nil, 0o644)
	pathDirs := []string{}
	failed := false
	for i, s := range r.action.Runs.Steps {
		if s.If != "" {
			cond, ok := conditions[s.If]
			if !ok {
				t.Fatalf("step %q: add its condition %q to the test runner's conditions", s.Name, s.If)
			}
			if !cond(steps, failed) {
				res.skipped = append(res.skipped, s.Name)
				continue
			}
		} else if failed {
			res.skipped = append(res.skipped, s.Name)
			continue
		}
		if s.Uses != "" {
			res.uploaded = map[string]string{}
			for k, v := range s.With {
				res.uploaded[k] = resolve(v)
			}
			continue
		}
		out := filepath.Join(tmp, fmt.Sprintf("output_%d", i))
		os.WriteFile(out, nil, 0o644)
		script := filepath.Join(tmp, fmt.Sprintf("step_%d.sh", i))
		os.WriteFile(script, []byte(s.Run), 0o644)
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = r.workspace
		if s.WorkingDirectory != "" {
			cmd.Dir = filepath.Join(r.workspace, resolve(s.WorkingDirectory))
		}
		cmd.Env = cleanEnv()
		for k, v := range r.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		path := os.Getenv("PATH")
		for _, d := range pathDirs {
			path = d + string(os.PathListSeparator) + path
		}
		cmd.Env = append(cmd.Env, "PATH="+path, "GITHUB_OUTPUT="+out, "GITHUB_PATH="+ghPath,
			"GITHUB_STEP_SUMMARY="+r.summary, "GITHUB_ACTION_PATH="+absRoot(t), "GITHUB_WORKSPACE="+r.workspace)
		for k, v := range s.Env {
			cmd.Env = append(cmd.Env, k+"="+resolve(v))
		}
		log, err := cmd.CombinedOutput()
		res.logs[s.Name] = string(log)
		if tok := r.env["GITHUB_TOKEN_FOR_TEST"]; tok != "" && strings.Contains(string(log), tok) {
			t.Fatalf("step %q printed the token:\n%s", s.Name, log)
		}
		steps[s.ID] = parseOutputs(t, out)
		// Directories added to GITHUB_PATH come first for later steps.
		pathDirs = nil
		if data, _ := os.ReadFile(ghPath); len(data) > 0 {
			pathDirs = strings.Split(strings.TrimSpace(string(data)), "\n")
		}
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatal(err)
			}
			if !failed {
				res.code, res.failed = ee.ExitCode(), s.Name
			}
			failed = true
		}
	}
	res.outputs = map[string]string{}
	for name, o := range r.action.Outputs {
		res.outputs[name] = resolve(o.Value)
	}
	return res
}

// parseOutputs reads a GITHUB_OUTPUT file: NAME=VALUE lines and
// NAME<<DELIMITER blocks.
func parseOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for sc.Scan() && sc.Text() != delim {
				val = append(val, sc.Text())
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			out[name] = val
		}
	}
	return out
}

func absRoot(t *testing.T) string {
	p, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// buildTunecheck builds this tree's tunecheck.
func buildTunecheck(t *testing.T) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(t.TempDir(), "tunecheck")
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/tunecheck")
	cmd.Dir = absRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			if d.Name() == ".tunecheck" || d.Name() == "out" {
				return filepath.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestActionEndToEnd runs the whole action for the recorded pull_request
// event: installed from a release archive of this tree's tunecheck, the
// quickstart plan run, the summary written, the comment created on the first
// run and updated on the next (a failing gate, exit 1), a bad plan's exit 2
// kept, and a push commenting nothing.
func TestActionEndToEnd(t *testing.T) {
	needBash(t)
	if testing.Short() {
		t.Skip("builds tunecheck and runs a plan")
	}
	rOS, rArch, goos, goarch := runnerPlatform(t)
	a, _ := loadAction(t)
	base := t.TempDir()
	release(t, base, "0.0.0-test", goos, goarch, buildTunecheck(t))

	const token = "ghs_ActionE2EToken0123456789abcdefABCDEF"
	gh := ghtest.New(t, "acme", "support-bot", token)
	gh.Seed(42, "mira", "Looks good, waiting for the eval.")
	gh.Seed(42, "codecov[bot]", "<!-- codecov -->\ncoverage 81%")

	ws := t.TempDir()
	copyDir(t, filepath.Join(root, "examples", "quickstart"), filepath.Join(ws, "evals"))
	summary := filepath.Join(t.TempDir(), "step_summary.md")
	payload, _ := filepath.Abs(filepath.Join(root, "internal", "ghcomment", "testdata", "pull_request.json"))
	r := &runner{t: t, action: a, workspace: ws, summary: summary, env: map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_OS": rOS, "RUNNER_ARCH": rArch, "RUNNER_TEMP": t.TempDir(),
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": payload, "GITHUB_REPOSITORY": "acme/support-bot",
		"GITHUB_API_URL": gh.URL, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "4242",
		"TUNECHECK_DOWNLOAD_BASE": "file://" + base, "GITHUB_TOKEN_FOR_TEST": token,
	}}
	inputs := map[string]string{"plan": "evals/tunecheck.yaml", "version": "0.0.0-test"}
	logs := func(res jobResult) string {
		var b strings.Builder
		for _, s := range a.Runs.Steps {
			fmt.Fprintf(&b, "== %s\n%s", s.Name, res.logs[s.Name])
		}
		return b.String()
	}
	ours := func() []ghtest.Stored {
		var cs []ghtest.Stored
		for _, c := range gh.Comments(42) {
			if ghcomment.IsOurs(c.Body, "evals/tunecheck.yaml") {
				cs = append(cs, c)
			}
		}
		return cs
	}

	// 1. The plan passes: exit 0, the comment is created.
	res := r.run(inputs)
	if res.code != 0 || res.failed != "" || res.outputs["exit-code"] != "0" || res.outputs["verdict"] != "pass" {
		t.Fatalf("first run: exit %d (%s), outputs %v\n%s", res.code, res.failed, res.outputs, logs(res))
	}
	reportDir := filepath.Join(ws, "tunecheck-report")
	if res.outputs["report-dir"] != reportDir || res.uploaded["path"] != reportDir || res.uploaded["name"] != "tunecheck-report" {
		t.Fatalf("report-dir %q, upload %v", res.outputs["report-dir"], res.uploaded)
	}
	for _, f := range []string{"report.md", "report.html", "results.json", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(reportDir, f)); err != nil {
			t.Errorf("the uploaded directory lacks %s", f)
		}
	}
	if !strings.Contains(res.logs["Install tunecheck"], "sha256 ") || !strings.Contains(res.logs["Write the job summary"], "tunecheck wrote the job summary") {
		t.Fatalf("install or summary:\n%s", logs(res))
	}
	sum, _ := os.ReadFile(summary)
	if strings.Count(string(sum), "**Verdict: PASS**") != 1 {
		t.Fatalf("the job summary should hold the report once:\n%.600s", sum)
	}
	first := ours()
	if len(first) != 1 || !strings.Contains(first[0].Body, "**Verdict: PASS**") ||
		!strings.Contains(first[0].Body, "[workflow run](https://github.com/acme/support-bot/actions/runs/4242) · reports in artifact `tunecheck-report` · commit 9c3b1d7e2f4a") {
		t.Fatalf("after the first run, our comments: %+v\n%s", first, logs(res))
	}

	// 2. A gate fails: exit 1 kept, the same comment updated.
	planPath := filepath.Join(ws, "evals", "tunecheck.yaml")
	plan, _ := os.ReadFile(planPath)
	failing := strings.Replace(string(plan), "- mtbench-ref.token_f1.delta >= 0\n", "- mtbench-ref.token_f1.delta >= 0.5\n", 1)
	if failing == string(plan) {
		t.Fatal("the quickstart plan's gate changed; update this test")
	}
	os.WriteFile(planPath, []byte(failing), 0o644)
	res = r.run(inputs)
	if res.code != 1 || res.failed != "Exit with tunecheck's exit code" || res.outputs["verdict"] != "fail" || res.outputs["exit-code"] != "1" {
		t.Fatalf("failing gate: exit %d at %q, outputs %v\n%s", res.code, res.failed, res.outputs, logs(res))
	}
	second := ours()
	if len(second) != 1 || second[0].ID != first[0].ID || !strings.Contains(second[0].Body, "**Verdict: FAIL**") {
		t.Fatalf("after the second run, our comments: %+v\n%s", second, logs(res))
	}
	if len(gh.Comments(42)) != 3 {
		t.Fatalf("%d comments on the pull request, want the 2 others and ours", len(gh.Comments(42)))
	}
	for _, c := range gh.Comments(42) {
		if c.Login == "codecov[bot]" && c.Body != "<!-- codecov -->\ncoverage 81%" {
			t.Fatalf("the other bot's comment changed: %q", c.Body)
		}
	}

	// 3. A bad plan: exit 2 kept, a summary saying so, no comment, nothing to upload but the folder.
	os.WriteFile(planPath, []byte("version: 1\nmodels: [\n"), 0o644)
	os.WriteFile(summary, nil, 0o644)
	res = r.run(inputs)
	if res.code != 2 || res.outputs["verdict"] != "" || res.outputs["exit-code"] != "2" {
		t.Fatalf("bad plan: exit %d, outputs %v\n%s", res.code, res.outputs, logs(res))
	}
	sum, _ = os.ReadFile(summary)
	if !strings.Contains(string(sum), "`evals/tunecheck.yaml` wrote no report") || !strings.Contains(string(sum), "tunecheck exited 2: the plan") {
		t.Fatalf("bad plan's summary:\n%s", sum)
	}
	if !strings.Contains(res.logs["Comment on the pull request"], "tunecheck wrote no report.md") {
		t.Fatalf("bad plan's comment step:\n%s", logs(res))
	}
	if got := ours(); len(got) != 1 || got[0].Body != second[0].Body {
		t.Fatal("a run without a report changed the comment")
	}

	// 4. A push: the plan runs, nothing is commented, exit 0.
	os.WriteFile(planPath, plan, 0o644)
	r.env["GITHUB_EVENT_NAME"] = "push"
	r.env["GITHUB_EVENT_PATH"], _ = filepath.Abs(filepath.Join(root, "internal", "ghcomment", "testdata", "push.json"))
	n := len(gh.Requests())
	res = r.run(inputs)
	if res.code != 0 || !strings.Contains(res.logs["Comment on the pull request"], "the push event has no pull request; no comment posted") || len(gh.Requests()) != n {
		t.Fatalf("push: exit %d\n%s", res.code, logs(res))
	}
}

// The GitLab CI example: the job runs the plan into the folder whose
// junit.xml it reports, keeps the reports on failure too, and installs the
// same pinned version as the action; docs/ci.md shows it verbatim.
func TestGitLabExample(t *testing.T) {
	a, _ := loadAction(t)
	data, err := os.ReadFile(filepath.Join(root, "examples", "ci", "gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var jobs map[string]struct {
		Stage     string            `yaml:"stage"`
		Image     string            `yaml:"image"`
		Variables map[string]string `yaml:"variables"`
		Rules     []map[string]any  `yaml:"rules"`
		Script    []string          `yaml:"script"`
		Allow     struct {
			ExitCodes []int `yaml:"exit_codes"`
		} `yaml:"allow_failure"`
		Artifacts struct {
			When     string   `yaml:"when"`
			ExposeAs string   `yaml:"expose_as"`
			Paths    []string `yaml:"paths"`
			Reports  struct {
				JUnit string `yaml:"junit"`
			} `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField()).Decode(&jobs); err != nil {
		t.Fatalf("gitlab-ci.yml: %v", err)
	}
	job, ok := jobs["tunecheck"]
	if !ok {
		t.Fatal("no tunecheck job")
	}
	if job.Variables["TUNECHECK_VERSION"] != *a.Inputs["version"].Default {
		t.Errorf("GitLab pins %s, the action %s", job.Variables["TUNECHECK_VERSION"], *a.Inputs["version"].Default)
	}
	var run string
	for _, s := range job.Script {
		if strings.HasPrefix(s, "tunecheck run ") {
			run = s
		}
	}
	m := regexp.MustCompile(`-o (\S+) --format (\S+)`).FindStringSubmatch(run)
	if m == nil || !strings.Contains(m[2], "junit") {
		t.Fatalf("the job does not run tunecheck with -o DIR --format …junit: %q", run)
	}
	if job.Artifacts.Reports.JUnit != m[1]+"/junit.xml" || job.Artifacts.When != "always" || !slices.Contains(job.Artifacts.Paths, m[1]+"/") {
		t.Errorf("artifacts %+v do not keep %s/ always with its junit.xml", job.Artifacts, m[1])
	}
	if slices.Contains(job.Allow.ExitCodes, 4) && !strings.Contains(run, "--fail-on-inconclusive") {
		t.Error("exit code 4 is allowed, but the run never exits 4 without --fail-on-inconclusive")
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(data), "\ntunecheck:\n")
	if !strings.Contains(string(doc), "tunecheck:\n"+body) {
		t.Error("docs/ci.md does not show examples/ci/gitlab-ci.yml's job as it is")
	}
}
