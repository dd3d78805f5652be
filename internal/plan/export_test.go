package plan

// LoadPlanForTest lets the external test package install a loader that
// checks the task types (internal/task imports plan, so plan's own tests cannot).
var LoadPlanForTest = &loadPlan
