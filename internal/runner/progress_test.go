package runner

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/store"
)

// A run shorter than LogEvery used to log nothing until "finished": off a
// terminal, a 9-second run looked hung. Each model now logs its total when it
// starts, then every LogEvery, then once at the end — in that order.
func TestLogProgressStartEveryAndFinish(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		var buf lockedBuffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
		p := newFake(func(context.Context, provider.Request, int) (provider.Response, error) {
			time.Sleep(time.Second) // the bubble's fake clock: no real wait
			return provider.Response{Text: "ok"}, nil
		})
		eps := map[string]Endpoint{"a": {Provider: p, Concurrency: 1}, "b": {Provider: p, Concurrency: 1}}
		jobs := makeJobs([]string{"a", "b"}, []string{"qa"}, 3)
		if _, err := Run(context.Background(), eps, "r", jobs, Options{Store: s, Logger: logger, LogEvery: 1200 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if strings.Contains(line, "model=a ") {
				got = append(got, line)
			}
		}
		want := []string{
			"level=INFO msg=started model=a done=0 total=3 resumed=0 failed=0 per_second=0.0 eta=0s",
			// At 1.2s one of three is done (0.8/s, 2 left → 2.4s), at 2.4s two.
			"level=INFO msg=progress model=a done=1 total=3 resumed=0 failed=0 per_second=0.8 eta=2s",
			"level=INFO msg=progress model=a done=2 total=3 resumed=0 failed=0 per_second=0.8 eta=1s",
			"level=INFO msg=finished model=a done=3 total=3 resumed=0 failed=0 per_second=1.0 eta=0s",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("log lines of model a:\n%s\nwant:\n%s\nwhole log:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), buf.String())
		}
		if !strings.Contains(buf.String(), "msg=started model=b done=0 total=3") {
			t.Errorf("no start line for model b:\n%s", buf.String())
		}
	})
}

// A run that is shorter than LogEvery still logs its start and its end.
func TestLogProgressShortRun(t *testing.T) {
	syncRun(t, func(t *testing.T, s *store.Store) {
		var buf lockedBuffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		p := newFake(func(context.Context, provider.Request, int) (provider.Response, error) {
			return provider.Response{Text: "ok"}, nil
		})
		eps := map[string]Endpoint{"m": {Provider: p, Concurrency: 2}}
		if _, err := Run(context.Background(), eps, "r", makeJobs([]string{"m"}, []string{"qa"}, 4), Options{Store: s, Logger: logger}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"msg=started model=m done=0 total=4", "msg=finished model=m done=4 total=4"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})
}
