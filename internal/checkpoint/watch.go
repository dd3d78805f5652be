package checkpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure a Watcher.
type Options struct {
	// Settle is how long a checkpoint's files must stay unchanged before it
	// counts as written (default 10s).
	Settle time.Duration
	// Poll is the interval of the directory scan: the only trigger when
	// ForcePoll is set or file notifications are unavailable (network
	// filesystems), a backstop beside them otherwise (default 30s).
	Poll time.Duration
	// ForcePoll scans on Poll only, without file notifications.
	ForcePoll bool
	// Notify makes the file-notification source; nil uses fsnotify. Tests
	// give one that fails, to take the polling fallback.
	Notify func() (Notifier, error)
	Logger *slog.Logger
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// Notifier is the part of fsnotify.Watcher the watcher uses.
type Notifier interface {
	Add(path string) error
	Events() <-chan fsnotify.Event
	Errors() <-chan error
	Close() error
}

type fsNotifier struct{ w *fsnotify.Watcher }

func (f fsNotifier) Add(p string) error            { return f.w.Add(p) }
func (f fsNotifier) Events() <-chan fsnotify.Event { return f.w.Events }
func (f fsNotifier) Errors() <-chan error          { return f.w.Errors }
func (f fsNotifier) Close() error                  { return f.w.Close() }
func newFSNotifier() (Notifier, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return fsNotifier{w}, nil
}

// Watcher finds complete checkpoints in one output directory, each once.
type Watcher struct {
	dir  string
	o    Options
	seen map[string]look // pending folders: their last look
	done map[string]bool // folders already handed out
	// Mode is "fsnotify" or "poll": how the last Run learned of changes.
	Mode string
}

type look struct {
	snap Snapshot
	at   time.Time
}

// New returns a watcher of dir, which must exist.
func New(dir string, o Options) (*Watcher, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("watching %s: not a directory", dir)
	}
	if o.Settle <= 0 {
		o.Settle = 10 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Notify == nil {
		o.Notify = newFSNotifier
	}
	return &Watcher{dir: abs, o: o, seen: map[string]look{}, done: map[string]bool{}}, nil
}

// Dir is the watched directory, absolute.
func (w *Watcher) Dir() string { return w.dir }

// Pending is a checkpoint folder seen but not (yet) complete.
type Pending struct {
	Step   int
	Rel    string
	Reason string
}

// Scan looks at every checkpoint folder once and returns those complete and
// unchanged since a look at least Settle ago, in step order, marking them
// handed out; and the folders still pending, with why.
func (w *Watcher) Scan() ([]Checkpoint, []Pending, error) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", w.dir, err)
	}
	now := w.o.Now()
	var ready []Checkpoint
	var pending []Pending
	for _, e := range entries {
		step, ok := ParseStep(e.Name())
		if !ok || !e.IsDir() || w.done[e.Name()] {
			continue
		}
		path := filepath.Join(w.dir, e.Name())
		snap, err := Take(path)
		if err != nil {
			if os.IsNotExist(err) {
				delete(w.seen, e.Name()) // deleted under us (save_total_limit)
				continue
			}
			return nil, nil, fmt.Errorf("reading %s: %w", path, err)
		}
		kind, why := Judge(path, snap)
		prev, had := w.seen[e.Name()]
		switch {
		case why != "":
			w.seen[e.Name()] = look{snap, now}
		case !had || !prev.snap.Same(snap):
			w.seen[e.Name()] = look{snap, now}
			why = "settling: files changed within " + w.o.Settle.String()
		case now.Sub(prev.at) < w.o.Settle:
			why = "settling: files unchanged for " + now.Sub(prev.at).Round(time.Millisecond).String()
		}
		if why != "" {
			pending = append(pending, Pending{Step: step, Rel: e.Name(), Reason: why})
			continue
		}
		fp, err := fingerprint(path, snap)
		if err != nil {
			return nil, nil, err
		}
		delete(w.seen, e.Name())
		w.done[e.Name()] = true
		ready = append(ready, Checkpoint{Step: step, Path: path, Rel: e.Name(), Kind: kind, Fingerprint: fp})
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].Step < ready[j].Step })
	sort.Slice(pending, func(i, j int) bool { return pending[i].Step < pending[j].Step })
	return ready, pending, nil
}

// Once returns the checkpoints complete now: two scans Settle apart (ctx
// cancels the wait), and the folders left incomplete.
func (w *Watcher) Once(ctx context.Context) ([]Checkpoint, []Pending, error) {
	first, _, err := w.Scan()
	if err != nil {
		return nil, nil, err
	}
	if len(w.seen) == 0 {
		return first, nil, nil
	}
	t := time.NewTimer(w.o.Settle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return first, nil, ctx.Err()
	case <-t.C:
	}
	more, pending, err := w.Scan()
	ready := append(first, more...)
	sort.Slice(ready, func(i, j int) bool { return ready[i].Step < ready[j].Step })
	return ready, pending, err
}

// Run sends each checkpoint once it is complete, in step order among those
// found together, until ctx is done (it then returns ctx's error). It learns
// of changes from file notifications, and scans every Poll as well; when
// notifications cannot be set up (too many watches, a network filesystem) it
// says so in the log and polls.
func (w *Watcher) Run(ctx context.Context, out chan<- Checkpoint) error {
	var notify Notifier
	var events <-chan fsnotify.Event
	var errs <-chan error
	w.Mode = "poll"
	if !w.o.ForcePoll {
		n, err := w.o.Notify()
		if err == nil {
			err = n.Add(w.dir)
			if err != nil {
				n.Close()
			}
		}
		if err != nil {
			w.o.Logger.Warn("file notifications unavailable; polling the directory instead", "dir", w.dir, "every", w.o.Poll, "err", err)
		} else {
			notify, events, errs, w.Mode = n, n.Events(), n.Errors(), "fsnotify"
			defer n.Close()
		}
	}
	watched := map[string]bool{}
	poll := time.NewTicker(w.o.Poll)
	defer poll.Stop()
	// settle fires once pending folders may have settled.
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	// Writing a large file notifies once per write: notifications arm a
	// short timer and the scan waits for it, so a burst costs one scan.
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	armed := false
	quiet := min(w.o.Settle/4, time.Second)
	scan := true
	for {
		if scan {
			ready, pending, err := w.Scan()
			if err != nil {
				return err
			}
			if notify != nil {
				// Files written inside a checkpoint folder notify its own
				// watch: fsnotify does not recurse.
				for _, p := range pending {
					if !watched[p.Rel] {
						if err := notify.Add(filepath.Join(w.dir, p.Rel)); err == nil {
							watched[p.Rel] = true
						}
					}
				}
			}
			for _, c := range ready {
				select {
				case out <- c:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if len(pending) > 0 {
				settle.Reset(w.o.Settle)
			}
		}
		scan = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			scan = true
		case <-settle.C:
			scan = true
		case <-debounce.C:
			scan, armed = true, false
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			// Any change under the directory: scan once the burst is over.
			if !armed {
				debounce.Reset(quiet)
				armed = true
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflowed queue lost events: the scan that follows sees
			// the directory as it is.
			w.o.Logger.Warn("file notification error; rescanning", "dir", w.dir, "err", err)
			scan = true
		}
	}
}

// fingerprint hashes a complete checkpoint's file names and sizes and the
// bytes of its JSON files (configs, shard index, trainer state): cheap on
// multi-gigabyte weights, and different when another training run rewrote
// the folder.
func fingerprint(dir string, s Snapshot) (string, error) {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n + "\x00" + strconv.FormatInt(s[n].Size, 10) + "\x00"))
		if strings.HasSuffix(n, ".json") && s[n].Size <= 8<<20 {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
			if err != nil {
				return "", fmt.Errorf("fingerprinting %s: %w", dir, err)
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
