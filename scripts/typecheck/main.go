// Command typecheck type-checks the tunecheck command and everything it
// imports, from source, for other GOOS/GOARCH targets:
//
//	go run ./scripts/typecheck darwin/arm64 windows/amd64
//
// scripts/test-release.sh builds and runs the archive for the machine it runs
// on and uses this for the other release targets: go/types over the source of
// every package (ours and our dependencies', as the go command selects files
// for that target) finds what a cross build would reject for missing or
// mistyped platform code, at a fraction of a cold cross compile's time, since
// nothing is compiled. What it cannot see is a compiler back-end or linker
// failure on that target; the release workflow builds all six archives.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/tools/go/packages"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: typecheck GOOS/GOARCH... [-- PATTERN...] (default pattern ./cmd/tunecheck)")
		os.Exit(2)
	}
	targets, patterns := os.Args[1:], []string{"./cmd/tunecheck"}
	for i, a := range targets {
		if a == "--" {
			targets, patterns = os.Args[1:1+i], os.Args[2+i:]
			break
		}
	}
	failed := false
	for _, t := range targets {
		goos, goarch, ok := strings.Cut(t, "/")
		if !ok || goos == "" || goarch == "" {
			fmt.Fprintf(os.Stderr, "typecheck: %q is not GOOS/GOARCH\n", t)
			os.Exit(2)
		}
		start := time.Now()
		n, err := check(goos, goarch, patterns)
		if err != nil {
			fmt.Fprintf(os.Stderr, "typecheck %s: %v\n", t, err)
			failed = true
			continue
		}
		fmt.Printf("typecheck %s: %d packages type-check (%.1fs)\n", t, n, time.Since(start).Seconds())
	}
	if failed {
		os.Exit(1)
	}
}

// check loads and type-checks patterns and all their dependencies from
// source for goos/goarch, and returns the number of packages checked.
func check(goos, goarch string, patterns []string) (int, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps |
			packages.NeedSyntax | packages.NeedTypes,
		Env: append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly"),
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return 0, err
	}
	var errs []string
	n := 0
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		n++
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		const max = 20
		more := ""
		if len(errs) > max {
			more = fmt.Sprintf("\n… and %d more", len(errs)-max)
			errs = errs[:max]
		}
		return n, fmt.Errorf("%d errors:\n%s%s", len(errs), strings.Join(errs, "\n"), more)
	}
	return n, nil
}
