package app

import (
	"errors"
	"io/fs"
	"os"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/store"
)

// DefaultPlanFile is the plan in the current directory that a command reading
// runs consults for the store's location when given no plan.
const DefaultPlanFile = "tunecheck.yaml"

// LocateStore says where the store is for a command that has no plan loaded
// (report, runs, show, compare, leakage), by store.Locate's rule: storeFlag when
// given; else the store key of the plan at planPath, or of DefaultPlanFile when
// planPath is "" and that file exists; else store.DefaultPath. A plan named by
// planPath is loaded even beside storeFlag, and returned (nil when none was
// read). A plan that does not load is an error, although only its store key is
// needed: a silently wrong location would be worse.
func LocateStore(storeFlag, planPath string) (string, *plan.Plan, error) {
	if planPath == "" && storeFlag == "" {
		if _, err := os.Stat(DefaultPlanFile); !errors.Is(err, fs.ErrNotExist) {
			planPath = DefaultPlanFile
		}
	}
	if planPath == "" {
		return store.Locate(storeFlag, "", ""), nil, nil
	}
	p, err := plan.Load(planPath)
	if err != nil {
		return "", nil, exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput),
			"the store's location comes from the plan's store key: fix "+planPath+", or pass --store")
	}
	return store.Locate(storeFlag, p.Store, p.Dir), p, nil
}
