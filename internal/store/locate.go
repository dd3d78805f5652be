package store

import "path/filepath"

// Locate says where a command's store is. It is the one rule every command
// follows, run and the commands that read runs alike:
//
//  1. flag (--store) when given, unchanged;
//  2. else the plan's store key, a relative SQLite path resolved against
//     planDir, the plan file's directory (a postgres:// URL unchanged);
//  3. else DefaultPath in the current directory.
//
// An SQLite location comes back as a plain path.
func Locate(flag, planStore, planDir string) string {
	if flag != "" {
		return flag
	}
	if planStore == "" {
		return DefaultPath
	}
	backend, target := ParseDSN(planStore)
	if backend != SQLite {
		return planStore
	}
	// ":memory:" is SQLite's name for a private in-memory database, not a file.
	if target == "" || target == ":memory:" || filepath.IsAbs(target) || planDir == "" {
		return target
	}
	return filepath.Join(planDir, target)
}
