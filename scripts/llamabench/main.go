// Command llamabench measures tunecheck's throughput against llama-server next
// to the server's own: a plain HTTP load loop sends the /v1/completions bodies
// tunecheck would send, and a wrapper times a `tunecheck run` of the same
// items. scripts/bench-llama.sh drives it; docs/benchmarks.md has the figures.
//
//	llamabench prompts -n N FILE...        JSONL rows {id, input} cut from text files
//	llamabench load -url U -data F -n N -c C [-max-tokens M] [-warmup W]
//	llamabench exec -url U -c C -- tunecheck run ...
//	llamabench table FILE                  median table of the JSON lines load/exec printed
//
// load and exec each print one JSON line (a record). Both read the server's
// /metrics (llama-server --metrics) before and after, so completion tokens are
// counted by the same counter, llamacpp:tokens_predicted_total, on both sides;
// load also sums usage.completion_tokens and refuses to report when the two
// disagree. exec reads the request phase from the "started" and "finished"
// lines tunecheck's runner logs on stderr when stderr is not a terminal.
// testdata/prompts.jsonl is `llamabench prompts -n 1024 docs/*.md` run on the
// docs of commit 01c9e62, committed so that the workload stays fixed as the
// docs change.
//
// With LLAMABENCH_DUMP=FILE, load writes its request bodies to FILE, one a
// line, and sends nothing (to compare them with what tunecheck sends).
//
// The loop is hand-written rather than taken from a load tester (vegeta, hey):
// it must send tunecheck's own bodies, built by the same openai.CompletionParams
// and json.Marshal, and nothing else; a closed loop of C workers is a dozen lines.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/openai"
)

// Record is one measurement: the load loop's or one tunecheck run's.
type Record struct {
	Kind        string  `json:"kind"` // "loop", "tunecheck" or "fixed" (tunecheck on one item)
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Failed      int     `json:"failed"`
	Tokens      float64 `json:"completion_tokens"` // server counter delta
	PhaseS      float64 `json:"phase_s"`           // first request sent to last answer
	WallS       float64 `json:"wall_s"`            // whole command (tunecheck); = phase for the loop
	CPUS        float64 `json:"cpu_s"`             // user+sys of the measured process
	ServerCPUS  float64 `json:"server_cpu_s"`      // user+sys of llama-server meanwhile (-server-pid)
	Decodes     float64 `json:"decodes"`           // llamacpp:n_decode_total delta: the server's batch steps
	Load1       float64 `json:"load1"`             // /proc/loadavg at the start
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: llamabench prompts|load|exec|table ... (see the package doc)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "prompts":
		err = cmdPrompts(os.Args[2:], os.Stdout)
	case "load":
		err = cmdLoad(os.Args[2:], os.Stdout)
	case "exec":
		err = cmdExec(os.Args[2:], os.Stdout)
	case "table":
		err = cmdTable(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown subcommand %q; use prompts, load, exec or table", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "llamabench:", err)
		os.Exit(1)
	}
}

// cmdPrompts cuts N distinct prompts of about 96 bytes from the prose of the
// given files (lines that are not tables, headings, code or lists; ASCII only),
// like the general-heldout prompts of examples/live-tiny.
func cmdPrompts(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("prompts", flag.ContinueOnError)
	n := fs.Int("n", 1024, "number of prompts")
	size := fs.Int("bytes", 96, "prompt length in bytes, cut at a word boundary below it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var words []string
	for _, f := range fs.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fence := false
		for line := range strings.Lines(string(data)) {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "```") {
				fence = !fence
				continue
			}
			if fence || line == "" || strings.ContainsAny(line[:1], "|#-*>0123456789<") || !isASCII(line) {
				continue
			}
			words = append(words, strings.Fields(line)...)
		}
	}
	enc := json.NewEncoder(w)
	seen := map[string]bool{}
	var cur []string
	count := 0
	for _, wd := range words {
		if len(strings.Join(append(cur, wd), " ")) > *size && len(cur) > 0 {
			p := strings.Join(cur, " ")
			cur = cur[:0]
			if !seen[p] {
				seen[p] = true
				if err := enc.Encode(map[string]string{"id": fmt.Sprintf("p%04d", count), "input": p}); err != nil {
					return err
				}
				if count++; count == *n {
					return nil
				}
			}
		}
		cur = append(cur, wd)
	}
	return fmt.Errorf("the files hold only %d prompts of %d bytes, %d asked", count, *size, *n)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// readInputs reads the "input" field of the first n rows of a JSONL file.
func readInputs(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan() && len(out) < n; line++ {
		var row struct {
			Input *string `json:"input"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.Input == nil {
			return nil, fmt.Errorf("%s line %d: want a JSON object with a string field input (%v)", path, line, err)
		}
		out = append(out, *row.Input)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) < n {
		return nil, fmt.Errorf("%s has %d rows, %d asked; generate more with llamabench prompts -n", path, len(out), n)
	}
	return out, nil
}

func cmdLoad(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080/v1", "the server's OpenAI base URL (as the plan's base_url)")
	model := fs.String("model", "base", "the model id sent (as the plan's model)")
	data := fs.String("data", "", "JSONL prompts (field input)")
	n := fs.Int("n", 256, "requests measured: the first n prompts, each once")
	c := fs.Int("c", 1, "workers (requests in flight)")
	maxTokens := fs.Int("max-tokens", 64, "params.max_tokens")
	temp := fs.Float64("temperature", 0, "params.temperature")
	serverPid := fs.Int("server-pid", 0, "llama-server's process id, to record its CPU time meanwhile")
	warmup := fs.Int("warmup", 0, "requests sent before measuring (the last prompts of the file's first n, not counted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	prompts, err := readInputs(*data, *n)
	if err != nil {
		return err
	}
	bodies, err := completionBodies(*model, prompts, *maxTokens, *temp)
	if err != nil {
		return err
	}
	if os.Getenv("LLAMABENCH_DUMP") != "" {
		return os.WriteFile(os.Getenv("LLAMABENCH_DUMP"), bytes.Join(bodies, []byte("\n")), 0o644)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = *c
	client := &http.Client{Transport: tr, Timeout: 10 * time.Minute}
	url := strings.TrimSuffix(*base, "/") + "/completions"
	metrics := strings.TrimSuffix(strings.TrimSuffix(*base, "/"), "/v1") + "/metrics"

	if *warmup > 0 {
		if _, _, err := loop(client, url, bodies[len(bodies)-min(*warmup, len(bodies)):], *c); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	load := load1()
	before, dec0, err := counters(metrics)
	if err != nil {
		return err
	}
	cpu0, scpu0 := selfCPU(), procCPU(*serverPid)
	start := time.Now()
	usage, failed, err := loop(client, url, bodies, *c)
	phase := time.Since(start).Seconds()
	cpu, scpu := selfCPU()-cpu0, procCPU(*serverPid)-scpu0
	if err != nil {
		return err
	}
	after, dec1, err := counters(metrics)
	if err != nil {
		return err
	}
	if float64(usage) != after-before {
		return fmt.Errorf("usage.completion_tokens sums to %d but the server counted %.0f: is another client using the server?", usage, after-before)
	}
	return json.NewEncoder(w).Encode(Record{Kind: "loop", Concurrency: *c, Requests: len(bodies) - failed, Failed: failed,
		Tokens: after - before, PhaseS: phase, WallS: phase, CPUS: cpu, ServerCPUS: scpu, Decodes: dec1 - dec0, Load1: load})
}

// completionBodies are the bodies tunecheck's openai provider sends for
// completions generate requests with these params: the same conversion and
// the same encoder (main_test.go checks them against the provider's).
func completionBodies(model string, prompts []string, maxTokens int, temp float64) ([][]byte, error) {
	bodies := make([][]byte, len(prompts))
	for i, p := range prompts {
		t := temp
		req := provider.Request{Type: provider.Generate, Prompt: p, Params: provider.Params{MaxTokens: maxTokens, Temperature: &t}}
		var err error
		if bodies[i], err = json.Marshal(openai.CompletionParams(model, req)); err != nil {
			return nil, err
		}
	}
	return bodies, nil
}

// loop sends every body once from c workers and returns the summed
// usage.completion_tokens and the number of failed requests.
func loop(client *http.Client, url string, bodies [][]byte, c int) (int64, int, error) {
	var next, tokens atomic.Int64
	var failed atomic.Int32
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				n, err := post(client, url, bodies[i])
				if err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				tokens.Add(n)
			}
		})
	}
	wg.Wait()
	if int(failed.Load()) == len(bodies) {
		return 0, len(bodies), fmt.Errorf("every request failed, the first with: %w", firstErr)
	}
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "llamabench: %d requests failed, the first with: %v\n", failed.Load(), firstErr)
	}
	return tokens.Load(), int(failed.Load()), nil
}

func post(client *http.Client, url string, body []byte) (int64, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, data)
	}
	var r struct {
		Choices []struct {
			Text string `json:"text"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int64 `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.Choices) == 0 {
		return 0, fmt.Errorf("not a completion (%v): %.200s", err, data)
	}
	return r.Usage.CompletionTokens, nil
}

// counters reads llamacpp:tokens_predicted_total and llamacpp:n_decode_total
// from the server's /metrics. The decode count is how many batch steps the
// server took: for the same requests and tokens, more steps mean smaller
// batches, i.e. requests that arrived less together.
func counters(url string) (tokens, decodes float64, err error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: HTTP %d (start llama-server with --metrics)", url, resp.StatusCode)
	}
	found := 0
	for line := range strings.Lines(string(data)) {
		for name, dst := range map[string]*float64{"llamacpp:tokens_predicted_total ": &tokens, "llamacpp:n_decode_total ": &decodes} {
			if v, ok := strings.CutPrefix(line, name); ok {
				if *dst, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
					return 0, 0, err
				}
				found++
			}
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s lacks llamacpp:tokens_predicted_total or llamacpp:n_decode_total", url)
	}
	return tokens, decodes, nil
}

func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// procCPU is the user+sys CPU seconds of process pid from /proc/PID/stat
// (fields 14 and 15, in USER_HZ ticks, which Linux fixes at 100); 0 for pid 0.
func procCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it do not.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	return v
}

// slogLine matches the runner's progress lines: time=… level=INFO msg=started|finished model=… done=N … failed=F.
var slogLine = regexp.MustCompile(`^time=(\S+) level=INFO msg=(started|finished) model=\S+ done=(\d+) total=\d+ resumed=\d+ failed=(\d+)`)

func cmdExec(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080/v1", "the server's OpenAI base URL")
	c := fs.Int("c", 1, "the plan's concurrency (recorded)")
	logPath := fs.String("log", "", "also write the command's stderr here")
	serverPid := fs.Int("server-pid", 0, "llama-server's process id, to record its CPU time meanwhile")
	kind := fs.String("kind", "tunecheck", "the record's kind: tunecheck, or fixed for a one-item run that measures the fixed cost")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("exec: no command after --")
	}
	metrics := strings.TrimSuffix(strings.TrimSuffix(*base, "/"), "/v1") + "/metrics"
	load := load1()
	before, dec0, err := counters(metrics)
	if err != nil {
		return err
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	scpu0 := procCPU(*serverPid)
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start).Seconds()
	scpu := procCPU(*serverPid) - scpu0
	if *logPath != "" {
		_ = os.WriteFile(*logPath, stderr.Bytes(), 0o644)
	}
	if runErr != nil {
		return fmt.Errorf("%s: %w:\n%s", fs.Arg(0), runErr, tail(stderr.String(), 2000))
	}
	after, dec1, err := counters(metrics)
	if err != nil {
		return err
	}
	var t0, t1 time.Time
	done, failed := -1, 0
	for line := range strings.Lines(stderr.String()) {
		m := slogLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			return fmt.Errorf("runner log time %q: %w", m[1], err)
		}
		if m[2] == "started" && t0.IsZero() {
			t0 = t
		} else if m[2] == "finished" {
			t1 = t
			done, _ = strconv.Atoi(m[3])
			failed, _ = strconv.Atoi(m[4])
		}
	}
	if t0.IsZero() || done < 0 {
		return fmt.Errorf("no runner started/finished lines on the command's stderr:\n%s", tail(stderr.String(), 2000))
	}
	st := cmd.ProcessState
	return json.NewEncoder(w).Encode(Record{Kind: *kind, Concurrency: *c, Requests: done - failed, Failed: failed,
		Tokens: after - before, PhaseS: t1.Sub(t0).Seconds(), WallS: wall,
		CPUS: st.UserTime().Seconds() + st.SystemTime().Seconds(), ServerCPUS: scpu, Decodes: dec1 - dec0, Load1: load})
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// cmdTable prints, per concurrency, the medians of each kind's records and
// tunecheck's share of the loop's throughput; and, because this machine's
// speed drifts from run to run (llama-server's CPU per request for the same
// work moved between 13 and 27 ms within minutes), the share of the wall time
// the server was computing (its CPU seconds / the request phase, with one
// compute thread): a client that leaves the server waiting, or takes CPU from
// it, lowers that share whatever the machine's speed.
func cmdTable(args []string, w io.Writer) error {
	if len(args) != 1 {
		return errors.New("table: give the file of records")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	type key struct {
		kind string
		c    int
	}
	recs := map[key][]Record{}
	var cs []int
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("%s line %d: %w", args[0], i+1, err)
		}
		if !slices.Contains(cs, r.Concurrency) {
			cs = append(cs, r.Concurrency)
		}
		recs[key{r.Kind, r.Concurrency}] = append(recs[key{r.Kind, r.Concurrency}], r)
	}
	slices.Sort(cs)
	fmt.Fprintln(w, "| concurrency | runs | loop req/s | loop tok/s | tunecheck req/s | tunecheck tok/s | ratio | whole-command req/s | whole-command ratio | CPU ms/req loop | CPU ms/req tunecheck (all / less fixed) | server CPU ms/req | server busy loop / tunecheck | busy ratio | decodes/req loop / tunecheck | load1 |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range cs {
		l, t, f := recs[key{"loop", c}], recs[key{"tunecheck", c}], recs[key{"fixed", c}]
		if len(l) == 0 || len(t) == 0 {
			continue
		}
		reqs := func(r Record) float64 { return float64(r.Requests) / r.PhaseS }
		toks := func(r Record) float64 { return r.Tokens / r.PhaseS }
		wallReqs := func(r Record) float64 { return float64(r.Requests) / r.WallS }
		cpu := func(r Record) float64 { return 1000 * r.CPUS / float64(r.Requests) }
		scpu := func(r Record) float64 { return 1000 * r.ServerCPUS / float64(r.Requests) }
		marginal := "–"
		if len(f) > 0 {
			n := float64(t[0].Requests)
			marginal = fmt.Sprintf("%.2f", 1000*(median(t, func(r Record) float64 { return r.CPUS })-median(f, func(r Record) float64 { return r.CPUS }))/(n-1))
		}
		all := slices.Concat(l, t, f)
		lo := slices.MinFunc(all, func(a, b Record) int { return cmp.Compare(a.Load1, b.Load1) }).Load1
		hi := slices.MaxFunc(all, func(a, b Record) int { return cmp.Compare(a.Load1, b.Load1) }).Load1
		busy := func(r Record) float64 { return r.ServerCPUS / r.PhaseS }
		lr, tr := median(l, reqs), median(t, reqs)
		lb, tb := median(l, busy), median(t, busy)
		decs := func(r Record) float64 { return r.Decodes / float64(r.Requests+r.Failed) }
		fmt.Fprintf(w, "| %d | %d+%d | %.1f | %.0f | %.1f | %.0f | %.1f%% | %.1f | %.1f%% | %.2f | %.2f / %s | %.1f | %.3f / %.3f | %.1f%% | %.2f / %.2f | %.1f–%.1f |\n",
			c, len(l), len(t), lr, median(l, toks), tr, median(t, toks), 100*tr/lr, median(t, wallReqs), 100*median(t, wallReqs)/lr,
			median(l, cpu), median(t, cpu), marginal, median(slices.Concat(l, t), scpu), lb, tb, 100*tb/lb, median(l, decs), median(t, decs), lo, hi)
	}
	return nil
}

// median is the median of f over the records.
func median(rs []Record, f func(Record) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
