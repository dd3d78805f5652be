package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/store"
)

// viewStore makes an SQLite store holding one run and returns its path.
func viewStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tc.db")
	st, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateRun(context.Background(), store.Run{ID: "20261206T120000Z-abcdef01", Name: "p", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestViewFlagChecks(t *testing.T) {
	dbPath := viewStore(t)
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"view", "--listen", "0.0.0.0:7420", "--no-open"}, "beyond this machine without a token"},
		{[]string{"view", "--listen", ":7420", "--no-open"}, "without a token"},
		{[]string{"view", "--listen", "192.168.1.5:7420", "--no-open"}, "without a token"},
		{[]string{"view", "--listen", "0.0.0.0:7420", "--token", "short", "--no-open"}, "at least 16"},
		{[]string{"view", "--listen", "127.0.0.1:7420", "--port", "9", "--no-open"}, "both given"},
		{[]string{"view", "--listen", "localhost", "--no-open"}, "give HOST:PORT"},
		{[]string{"view", "--listen", "127.0.0.1:http", "--no-open"}, "is not a port"},
		{[]string{"view", "--port", "70000", "--no-open"}, "is not a port"},
		{[]string{"view", "--store", missing, "--port", "0", "--no-open"}, "no store at"},
		{[]string{"view", "nosuchrun", "--store", dbPath, "--port", "0", "--no-open"}, "nosuchrun"},
		// latest is the newest finished run, as show and report read it; this
		// store holds only a running one.
		{[]string{"view", "latest", "--store", dbPath, "--port", "0", "--no-open"}, "no finished run"},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), tc.args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("view left a store behind at %s: %v", missing, err)
	}
}

// view serves on loopback, opens the browser on its URL, answers the API,
// and stops cleanly when its context ends (Ctrl-C).
func TestViewServesAndStops(t *testing.T) {
	dbPath := viewStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	var opened string
	o := viewOptions{run: "20261206T120000Z", port: 0, user: "ana",
		open:      func(_ context.Context, u string) error { opened = u; return nil },
		listening: func(u string) { urls <- u }}
	o.loc.store = dbPath
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- runView(ctx, Env{Stdout: &out, Stderr: &out}, o, false) }()
	var u string
	select {
	case u = <-urls:
	case err := <-done:
		t.Fatalf("view stopped at once: %v", err)
	}
	if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/#/run/20261206T120000Z-abcdef01") {
		t.Fatalf("URL %s", u)
	}
	resp, err := http.Get(strings.TrimSuffix(u, "#/run/20261206T120000Z-abcdef01") + "api/session")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(body.String(), `"user":"ana"`) || !strings.Contains(body.String(), `"run":"20261206T120000Z-abcdef01"`) {
		t.Fatalf("session: %d %s", resp.StatusCode, body.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("view did not stop cleanly: %v", err)
	}
	if opened != u || !strings.Contains(out.String(), u) {
		t.Fatalf("opened %q, printed %q; want %s", opened, out.String(), u)
	}
}

// Beyond loopback the token is required; the printed URL carries it once
// and leaves a cookie.
func TestViewToken(t *testing.T) {
	dbPath := viewStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	o := viewOptions{listen: "0.0.0.0:0", token: "0123456789abcdef0123", user: "ana", listening: func(u string) { urls <- u }}
	o.loc.store = dbPath
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- runView(ctx, Env{Stdout: &out, Stderr: &out}, o, false) }()
	var u string
	select {
	case u = <-urls:
	case err := <-done:
		t.Fatalf("view stopped at once: %v", err)
	}
	if !strings.Contains(u, "/?token=0123456789abcdef0123") {
		t.Fatalf("URL %s", u)
	}
	base := u[:strings.Index(u, "?")]
	resp, err := http.Get(base + "api/session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err = c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.RawQuery != "" {
		t.Fatalf("token left in the address: %s", resp.Request.URL)
	}
	resp, err = c.Get(base + "api/session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("with the cookie: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
