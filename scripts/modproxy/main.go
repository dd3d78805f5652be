// Command modproxy lays this module out as a Go module proxy on disk, at a
// version of your choosing, so that `go install …@version` can be tried
// offline exactly as a user runs it (scripts/test-release.sh does):
//
//	go run ./scripts/modproxy -version v0.9.9-test -out /tmp/proxy
//	GOPROXY=file:///tmp/proxy,file://$(go env GOMODCACHE)/cache/download GOSUMDB=off \
//	  go install github.com/tunecheck/tunecheck/cmd/tunecheck@v0.9.9-test
//
// It writes <module>/@v/list, .info, .mod and .zip as the GOPROXY protocol
// lays them out (https://go.dev/ref/mod#goproxy-protocol). The zip holds the
// files git would put in a fresh clone plus your uncommitted edits (tracked
// and untracked files that .gitignore does not exclude), built with
// golang.org/x/mod/zip, which enforces the same rules the go command does
// when it extracts a module; a file name or size that would break `go
// install` for users fails here first.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	version := flag.String("version", "", "the module version to publish, e.g. v0.9.9-test")
	out := flag.String("out", "", "the proxy directory to write (created if missing)")
	root := flag.String("root", ".", "the module's root directory (a git checkout)")
	flag.Parse()
	if err := run(*root, *out, *version); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

func run(root, out, version string) error {
	if out == "" {
		return errors.New("-out is required: the directory to write the proxy into")
	}
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("-version %q is not a canonical semantic version like v1.2.3 or v0.9.9-test", version)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	modPath := modfile.ModulePath(gomod)
	if modPath == "" {
		return fmt.Errorf("%s: no module line", filepath.Join(root, "go.mod"))
	}
	mv := module.Version{Path: modPath, Version: version}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return err
	}
	files, err := gitFiles(root)
	if err != nil {
		return err
	}
	when, err := commitTime(root)
	if err != nil {
		return err
	}

	escaped, err := module.EscapePath(modPath)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var zipBuf bytes.Buffer
	if err := modzip.Create(&zipBuf, mv, files); err != nil {
		return fmt.Errorf("building the module zip: %w", err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, when.UTC()})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		version + ".zip":  zipBuf.Bytes(),
		version + ".mod":  gomod,
		version + ".info": info,
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%s@%s: %d files, %d bytes zipped, in %s\n", modPath, version, len(files), zipBuf.Len(), dir)
	return nil
}

// gitFiles lists what a clone holds plus uncommitted edits: tracked files
// that still exist and untracked files that .gitignore does not exclude.
func gitFiles(root string) ([]modzip.File, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the module's files with git ls-files in %s: %v: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	seen := map[string]bool{}
	var files []modzip.File
	for _, p := range strings.Split(string(b), "\x00") {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		full := filepath.Join(root, filepath.FromSlash(p))
		if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree, not yet committed
		}
		files = append(files, diskFile{path: p, full: full})
	}
	return files, nil
}

// commitTime is HEAD's commit time, the .info file's Time.
func commitTime(root string) (time.Time, error) {
	cmd := exec.Command("git", "log", "-1", "--format=%cI", "HEAD")
	cmd.Dir = root
	b, err := cmd.Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("reading HEAD's commit time in %s: %v", root, err)
	}
	return time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
}

// diskFile is one file of the module zip, read from the work tree.
type diskFile struct{ path, full string }

func (f diskFile) Path() string                 { return f.path }
func (f diskFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.full) }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.full) }
