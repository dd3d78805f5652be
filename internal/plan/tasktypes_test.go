package plan_test

import (
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/task"
)

// The bad-plan goldens include the errors each task type reports for its
// own keys, as `tunecheck run` loads plans.
func init() {
	*plan.LoadPlanForTest = func(path string) (*plan.Plan, error) { return plan.LoadWith(path, task.PlanTypes()) }
}
