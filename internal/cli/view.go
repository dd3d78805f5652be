package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"os/user"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/web"
)

// minTokenLen keeps a token that guards a viewer open to the network from
// being guessable.
const minTokenLen = 16

// viewOptions are the flags of `tunecheck view`.
type viewOptions struct {
	loc    storeFlags
	run    string
	port   int
	listen string
	token  string
	user   string
	noOpen bool
	blind  bool
	// maskPII masks personal data in every text the viewer shows.
	maskPII bool
	// open starts a browser on the URL (xdg-open / open); nil opens none.
	open func(ctx context.Context, url string) error
	// listening, when set, is told the URL once the server accepts requests.
	listening func(url string)
}

func newViewCmd(env Env) *cobra.Command {
	o := viewOptions{open: openBrowser(env)}
	cmd := &cobra.Command{
		Use:   "view [RUN]",
		Short: "Serve a local web viewer of the stored runs: items side by side, labelling, live progress",
		Long: `view serves the stored runs on http://127.0.0.1:7420: the runs with their gates,
a run's report, its items side by side (worst, flipped, failed, by slice, by text), a
comparison of two runs, labels recorded by a person (exported for judge calibrate), and
the progress of a running run. It reads the store and writes only labels.

It listens on 127.0.0.1 only; --listen names another address, which needs --token:
every request must then carry the token (the printed URL sets it). See docs/viewer.md.`,
		Example: `  tunecheck view
  tunecheck view latest --user ana --blind
  tunecheck view --listen 0.0.0.0:7420 --token "$(openssl rand -hex 16)" --no-open`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.run = args[0]
			}
			if o.noOpen {
				o.open = nil
			}
			return runView(cmd.Context(), env, o, cmd.Flags().Changed("port"))
		},
	}
	o.loc.add(cmd)
	cmd.Flags().IntVar(&o.port, "port", 7420, "port on 127.0.0.1 (0: any free port)")
	cmd.Flags().StringVar(&o.listen, "listen", "", "address to listen on, HOST:PORT; other than loopback only with --token")
	cmd.Flags().StringVar(&o.token, "token", "", fmt.Sprintf("access token every request must carry (at least %d characters)", minTokenLen))
	cmd.Flags().StringVar(&o.user, "user", "", "name labels are recorded under (default: the OS user)")
	cmd.Flags().BoolVar(&o.noOpen, "no-open", false, "do not open a browser")
	cmd.Flags().BoolVar(&o.blind, "blind", false, "blind mode by default: model names hidden, sides randomised per item")
	cmd.Flags().BoolVar(&o.maskPII, "mask-pii", false, "mask personal data and secrets in every text shown (the store keeps the raw text)")
	return cmd
}

// viewAddr checks the listen flags and returns the address to bind.
func viewAddr(o viewOptions, portSet bool) (string, error) {
	bad := func(msg, hint string) error {
		return exitcode.WithHint(exitcode.WithCode(errors.New(msg), exitcode.BadInput), hint)
	}
	if o.token != "" && len(o.token) < minTokenLen {
		return "", bad(fmt.Sprintf("--token is %d characters; a token must have at least %d", len(o.token), minTokenLen), "make one with: openssl rand -hex 16")
	}
	if o.listen == "" {
		if o.port < 0 || o.port > 65535 {
			return "", bad(fmt.Sprintf("--port %d is not a port", o.port), "give a port from 1 to 65535, or 0 for any free one")
		}
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)), nil
	}
	if portSet {
		return "", bad("--listen and --port both given", "give the port in --listen HOST:PORT")
	}
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		return "", bad(fmt.Sprintf("--listen %q: %v", o.listen, err), "give HOST:PORT, e.g. 127.0.0.1:7420")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", bad(fmt.Sprintf("--listen %q: port %q is not a port", o.listen, port), "give HOST:PORT, e.g. 127.0.0.1:7420")
	}
	if !isLoopback(host) && o.token == "" {
		return "", bad(fmt.Sprintf("--listen %s would serve the store beyond this machine without a token", o.listen),
			"add --token with a secret (openssl rand -hex 16), or listen on 127.0.0.1")
	}
	return o.listen, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// runView serves the viewer until ctx ends (Ctrl-C), then shuts down.
func runView(ctx context.Context, env Env, o viewOptions, portSet bool) error {
	addr, err := viewAddr(o, portSet)
	if err != nil {
		return err
	}
	st, err := o.loc.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	runID := ""
	switch o.run {
	case "":
	case "latest":
		// As show and report read it: the most recent finished run.
		run, _, err := app.LoadReport(ctx, st, "latest")
		if err != nil {
			return err
		}
		runID = run.ID
	default:
		run, err := st.GetRun(ctx, o.run)
		if err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		runID = run.ID
	}
	if o.user == "" {
		o.user = osUser(env)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("listening on %s: %w", addr, err), exitcode.BadInput),
			"another viewer may hold the port: pass --port with another one (0 picks a free port)")
	}
	h := web.New(st, web.Options{User: o.user, Blind: o.blind, Run: runID, Token: o.token, Warm: true, MaskPII: o.maskPII})
	// Request contexts end with ctx, so open event streams close on Ctrl-C.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	u := viewURL(ln.Addr().(*net.TCPAddr), o.listen, o.token, runID)
	fmt.Fprintf(env.Stdout, "tunecheck view: %s (labels as %s; Ctrl-C stops)\n", u, o.user)
	if o.listening != nil {
		o.listening(u)
	}
	if o.open != nil {
		if err := o.open(ctx, u); err != nil {
			fmt.Fprintf(env.Stderr, "could not open a browser (%v): open %s yourself\n", err, u)
		}
	}
	select {
	case err := <-served:
		return fmt.Errorf("serving the viewer: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("stopping the viewer: %w", err)
	}
	return nil
}

// viewURL is the address to open: loopback when the server listens on
// every interface, with the one-time token and the run's page.
func viewURL(a *net.TCPAddr, listen, token, runID string) string {
	host := "127.0.0.1"
	if listen != "" {
		if h, _, err := net.SplitHostPort(listen); err == nil && h != "" && !net.ParseIP(h).IsUnspecified() {
			host = h
		}
	}
	u := "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + "/"
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	if runID != "" {
		u += "#/run/" + url.PathEscape(runID)
	}
	return u
}

func osUser(env Env) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if env.Getenv != nil {
		if u := env.Getenv("USER"); u != "" {
			return u
		}
	}
	return "anonymous"
}

// openBrowser returns the function that opens a URL in the desktop's
// browser, or nil where there is no desktop to open one on.
func openBrowser(env Env) func(context.Context, string) error {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "linux", "freebsd", "openbsd", "netbsd":
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return nil
		}
		name = "xdg-open"
	default:
		return nil
	}
	return func(ctx context.Context, u string) error {
		path, err := exec.LookPath(name)
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, path, u)
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait() // reap it; the browser outlives it
		return nil
	}
}
