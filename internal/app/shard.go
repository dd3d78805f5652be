package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// Shard selects one shard of a sharded run (`tunecheck run --shard i/n`).
//
// Every shard runs the same plan against one shared PostgreSQL store and
// joins the same run, whose id all shards derive alike from the plan hash and
// Group (ShardRunID), so a scheduler only has to hand each process its index.
// A shard sends only the items it owns — those whose item id hashes (64-bit
// FNV-1a) to Index modulo Count — for every model, task and stage: a judge
// that needs both models' answers to an item finds them on the same shard.
// It stores results as an unsharded run does (a killed shard resumes its own
// items), then records itself done. The run is finished — scored, gated,
// reported — over all items exactly as an unsharded run is, by the last
// shard to finish (FinishLast) or by `tunecheck merge` (Merge).
type Shard struct {
	// Index counts from 0 to Count-1, as Kubernetes' JOB_COMPLETION_INDEX and
	// Slurm's SLURM_ARRAY_TASK_ID (with --array=0-N) do. Count 0: not sharded.
	Index, Count int
	// Group names this launch of the plan (a Kubernetes Job's name, Slurm's
	// SLURM_ARRAY_JOB_ID), so that running the same plan again later is a new
	// run; "" derives the run id from the plan hash alone.
	Group string
	// FinishLast lets the shard that completes last merge the run.
	FinishLast bool
}

// ParseShard reads "i/n" (0 ≤ i < n).
func ParseShard(s string) (Shard, error) {
	bad := func(why string) (Shard, error) {
		return Shard{}, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--shard %q: %s", s, why), exitcode.BadInput),
			"write --shard INDEX/COUNT with INDEX from 0 to COUNT-1, e.g. --shard 0/4 … --shard 3/4 (Kubernetes' $JOB_COMPLETION_INDEX and Slurm's $SLURM_ARRAY_TASK_ID with --array=0-3 count from 0 too)")
	}
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return bad("not INDEX/COUNT")
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	switch {
	case err1 != nil || err2 != nil:
		return bad("INDEX and COUNT must be whole numbers")
	case n < 1 || n > 10000:
		return bad("COUNT must be from 1 to 10000")
	case i == n:
		return bad(fmt.Sprintf("shards count from 0, so the last of %d is %d/%d", n, n-1, n))
	case i < 0 || i > n:
		return bad(fmt.Sprintf("INDEX must be from 0 to %d", n-1))
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardRunID is the id every shard of a sharded run derives alike: from the
// plan hash and the run group, readable where the group is.
func ShardRunID(planHash, group string) string {
	h := sha256.Sum256([]byte(planHash + "\x00" + group))
	suffix := hex.EncodeToString(h[:6])
	var b strings.Builder
	for _, r := range group {
		if b.Len() >= 40 {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "sharded-" + suffix
	}
	return "sharded-" + b.String() + "-" + suffix
}

// ShardOf is the shard (of count) that owns an item id.
func ShardOf(itemID string, count int) int {
	h := fnv.New64a()
	h.Write([]byte(itemID))
	return int(h.Sum64() % uint64(count))
}

// tasks returns the tasks with only the shard's items (all when unsharded).
func (s Shard) tasks(tasks []*builtTask) []*builtTask {
	if s.Count == 0 {
		return tasks
	}
	out := make([]*builtTask, len(tasks))
	for ti, bt := range tasks {
		own := *bt
		own.Items, own.Labels = nil, nil
		for i, it := range bt.Items {
			if ShardOf(it.ID, s.Count) != s.Index {
				continue
			}
			own.Items = append(own.Items, it)
			if bt.Labels != nil {
				own.Labels = append(own.Labels, bt.Labels[i])
			}
		}
		out[ti] = &own
	}
	return out
}

// ShardOutcome is what a shard did about its run.
type ShardOutcome struct {
	Index, Count int
	Group        string
	// Missing are the shards not done when this one finished.
	Missing []int
	// Merged is true when this shard finished the run; Finished when the
	// run was finished by then (by this shard or another).
	Merged, Finished bool
}

// checkStore refuses a sharded run on SQLite before the store is opened:
// shards on several machines cannot share a database file.
func (s Shard) checkStore(dsn string) error {
	if backend, _ := store.ParseDSN(dsn); s.Count == 0 || backend == store.Postgres {
		return nil
	}
	return exitcode.WithHint(exitcode.WithCode(errors.New("--shard needs a store every shard can reach: this is SQLite"), exitcode.BadInput),
		"give all shards one PostgreSQL store with --store postgres://… (or the plan's `store:`); an SQLite file is not safe to share between machines")
}

// joinShard joins (creating when first) the run every shard of this plan
// and group shares, and records this shard as started. resumed is true when
// the run existed.
func joinShard(ctx context.Context, st *store.Store, p *plan.Plan, fps map[string]string, planJSON []byte, o Options) (store.Run, bool, error) {
	modelsJSON, _ := json.Marshal(p.Models)
	id := ShardRunID(p.Hash, o.Shard.Group)
	run, created, err := st.JoinRun(ctx, store.Run{ID: id, Name: p.Name, PlanHash: p.Hash, Plan: planJSON, ToolVersion: o.ToolVersion,
		Seed: p.Seed, Datasets: fps, Models: modelsJSON, StartedAt: o.Now(), Tags: o.Tags})
	if err != nil {
		return store.Run{}, false, err
	}
	if run.Status == store.StatusFinished {
		return store.Run{}, false, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s (run group %q of this plan) is finished already, verdict %s", id, o.Shard.Group, run.Verdict), exitcode.BadInput),
			"to run the plan again give every shard a new --run-group (e.g. the Job's name or $SLURM_ARRAY_JOB_ID); `tunecheck report "+id+"` renders the finished run")
	}
	if !sameDatasets(run.Datasets, fps) {
		return store.Run{}, false, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("this shard read other data than run %s: %s", id, datasetDiff(run.Datasets, fps)), exitcode.BadInput),
			"every shard must read the same dataset files with the same --limit/--sample; give this launch its own --run-group if the data changed on purpose")
	}
	if err := st.StartShard(ctx, id, o.Shard.Group, o.Shard.Index, o.Shard.Count); err != nil {
		if errors.Is(err, store.ErrShardCount) {
			return store.Run{}, false, exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), "launch every shard of a run with the same --shard COUNT, or use a new --run-group")
		}
		return store.Run{}, false, err
	}
	return run, !created, nil
}

// datasetDiff names the first task whose dataset differs.
func datasetDiff(run, shard map[string]string) string {
	var names []string
	for k := range run {
		names = append(names, k)
	}
	for k := range shard {
		if _, ok := run[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if run[k] != shard[k] {
			return fmt.Sprintf("task %s: the run has %q, this shard %q", k, run[k], shard[k])
		}
	}
	return "the tasks differ"
}

// finishShard records the shard done and, with FinishLast, merges the run
// when no shard is missing any more. Under the run lock exactly one of
// several shards finishing together merges; the others find it finished.
func finishShard(ctx context.Context, p *plan.Plan, tasks []*builtTask, gates []gate.Gate, models []modelInfo, st *store.Store, runID string, o Options, out *Outcome) error {
	sh := o.Shard
	if err := st.FinishShard(ctx, runID, sh.Index); err != nil {
		return err
	}
	out.Shard = &ShardOutcome{Index: sh.Index, Count: sh.Count, Group: sh.Group}
	missing := func() error {
		shards, err := st.Shards(ctx, runID)
		if err != nil {
			return err
		}
		out.Shard.Missing = store.MissingShards(shards, sh.Count)
		return nil
	}
	if !sh.FinishLast {
		return missing()
	}
	return st.WithRunLock(ctx, runID, func() error {
		run, err := st.GetRun(ctx, runID)
		if err != nil {
			return err
		}
		if run.Status == store.StatusFinished {
			out.Shard.Finished = true
			return nil
		}
		if err := missing(); err != nil || len(out.Shard.Missing) > 0 {
			return err
		}
		o.Logger.Info("the last shard to finish merges the run", "run", runID, "shards", sh.Count)
		out.Shard.Merged, out.Shard.Finished = true, true
		return conclude(ctx, p, tasks, gates, models, st, runID, o, out)
	})
}

// Merge finishes a sharded run once every shard is done: it scores all the
// run's stored results, checks the gates and writes the reports exactly as
// an unsharded run of the plan does (the same code), and finishes the run.
// ref is a run id (or prefix) or the run group the shards were given.
// Nothing is sent to any model.
func Merge(ctx context.Context, o Options, ref string) (*Outcome, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := plan.LoadWith(o.PlanPath, task.PlanTypes())
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	tasks, err := buildTasks(p, o)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	gates, err := planGates(p, tasks)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	st, err := store.Open(ctx, store.Locate(o.StoreDSN, p.Store, p.Dir))
	if err != nil {
		return nil, exitcode.WithHint(fmt.Errorf("opening the store: %w", err), "give the store the shards wrote to, with --store postgres://… or the plan's `store:`")
	}
	defer st.Close()

	run, err := st.GetRun(ctx, ShardRunID(p.Hash, ref))
	if errors.Is(err, store.ErrNotFound) && ref != "" {
		run, err = st.GetRun(ctx, ref)
	}
	if err != nil {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("no sharded run of this plan for %q: %w", ref, err), exitcode.BadInput),
			"give the --run-group the shards were started with (or the run id they printed), and the same plan file")
	}
	if run.PlanHash != p.Hash {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s was made from another plan (hash %.12s, this plan %.12s)", run.ID, run.PlanHash, p.Hash), exitcode.BadInput),
			"merge with the plan file the shards ran")
	}
	fps := map[string]string{}
	for _, bt := range tasks {
		fps[bt.Name] = bt.Dataset.Fingerprint + " " + bt.Dataset.Selection
	}
	if !sameDatasets(run.Datasets, fps) {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("the plan now reads other data than run %s: %s", run.ID, datasetDiff(run.Datasets, fps)), exitcode.BadInput),
			"merge with the same dataset files, --limit and --sample the shards had")
	}
	if run.Status == store.StatusFinished {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s is finished already (verdict %s)", run.ID, run.Verdict), exitcode.BadInput),
			"`tunecheck report "+run.ID+"` renders its reports again; the last shard merges on its own unless the shards ran with --finish-last=false")
	}
	shards, err := st.Shards(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	if len(shards) == 0 {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s is not sharded", run.ID), exitcode.BadInput),
			"an unsharded run finishes by itself: run the same plan again to resume it")
	}
	out := &Outcome{RunID: run.ID, Resumed: true, Providers: map[string]string{}}
	for _, m := range p.Models {
		out.Providers[m.Name] = m.Provider
	}
	count := shards[0].Count
	out.Shard = &ShardOutcome{Count: count, Index: -1, Group: shards[0].Group}
	err = st.WithRunLock(ctx, run.ID, func() error {
		now, err := st.GetRun(ctx, run.ID)
		if err != nil {
			return err
		}
		if now.Status == store.StatusFinished {
			return exitcode.WithCode(fmt.Errorf("run %s was finished by a shard while merge waited (verdict %s)", run.ID, now.Verdict), exitcode.BadInput)
		}
		if shards, err = st.Shards(ctx, run.ID); err != nil {
			return err
		}
		if missing := store.MissingShards(shards, count); len(missing) > 0 {
			return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s cannot be merged: %s", run.ID, describeMissing(shards, missing, count)), exitcode.BadInput),
				"wait for those shards (Slurm: submit merge with --dependency=afterok:JOBID), or run them again with the same --shard, --run-group and plan: they resume their own items")
		}
		out.Shard.Missing = nil
		out.Shard.Merged, out.Shard.Finished = true, true
		return conclude(ctx, p, tasks, gates, modelInfos(p), st, run.ID, o, out)
	})
	return out, err
}

// describeMissing lists the shards that are not done: never started, or
// started but not done (still running, or killed).
func describeMissing(shards []store.Shard, missing []int, count int) string {
	started := map[int]bool{}
	for _, sh := range shards {
		started[sh.Index] = true
	}
	var never, running []string
	for _, i := range missing {
		if started[i] {
			running = append(running, strconv.Itoa(i))
		} else {
			never = append(never, strconv.Itoa(i))
		}
	}
	var parts []string
	if len(running) > 0 {
		parts = append(parts, fmt.Sprintf("shard %s of %d started but not done (still running, or killed)", strings.Join(running, ", "), count))
	}
	if len(never) > 0 {
		parts = append(parts, fmt.Sprintf("shard %s of %d never started", strings.Join(never, ", "), count))
	}
	return strings.Join(parts, "; ")
}
