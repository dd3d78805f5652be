package app

import (
	"context"
	"log/slog"
	"net/http"
	"slices"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/registry"
	"github.com/tunecheck/tunecheck/internal/runner"
)

// newProvider builds a model's provider and its cache namespace: one
// provider for base_url, or, for base_urls, one per replica behind a
// provider.Replicas whose namespace does not depend on the replica that
// answers.
func newProvider(m plan.Model, cfg provider.Config, client *http.Client) (provider.Provider, string, error) {
	if len(m.BaseURLs) == 0 {
		p, err := registry.New(cfg, client)
		return p, provider.CacheNamespace(cfg), err
	}
	reps := make([]provider.Replica, len(m.BaseURLs))
	for i, u := range m.BaseURLs {
		c := cfg
		c.BaseURL = u
		p, err := registry.New(c, client)
		if err != nil {
			return nil, "", err
		}
		reps[i] = provider.Replica{URL: u, Provider: p}
	}
	r, err := provider.NewReplicas(reps, provider.ReplicaOptions{})
	if err != nil {
		return nil, "", err
	}
	return r, provider.ReplicaCacheNamespace(cfg, m.BaseURLs), nil
}

// logReplicas writes each replicated endpoint's per-replica counts to the
// run log: requests, errors, whether it is down, mean latency.
func logReplicas(endpoints map[string]runner.Endpoint, log *slog.Logger) {
	for _, name := range sortedKeys(endpoints) {
		r, ok := endpoints[name].Provider.(*provider.Replicas)
		if !ok {
			continue
		}
		st := r.Stats()
		level := slog.LevelInfo
		for _, s := range st {
			if s.Errors > 0 {
				level = slog.LevelWarn // shown on a terminal too
			}
		}
		log.Log(context.Background(), level, "replicas", "model", name, "stats", provider.FormatReplicaStats(st))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
