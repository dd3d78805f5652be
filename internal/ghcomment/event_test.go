package ghcomment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		event, file string
		want        PullRequest
		ok          bool
		err         string
	}{
		{"pull_request", "pull_request.json", PullRequest{Repo: "acme/support-bot", Number: 42, HeadSHA: "9c3b1d7e2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c1e"}, true, ""},
		// From a fork: the repository is the base, the head is the fork's commit.
		{"pull_request_target", "pull_request_target_fork.json", PullRequest{Repo: "acme/support-bot", Number: 7, HeadSHA: "0f0e0d0c0b0a09080706050403020100f0e0d0c0"}, true, ""},
		{"push", "push.json", PullRequest{}, false, ""},
		{"workflow_dispatch", "push.json", PullRequest{}, false, ""},
		{"pull_request", "push.json", PullRequest{}, false, "has no pull_request object"},
	} {
		pr, ok, err := ParseEvent(c.event, read(c.file))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %s: error %v, want %q", c.event, c.file, err, c.err)
			}
			continue
		}
		if err != nil || ok != c.ok || pr != c.want {
			t.Errorf("%s %s: %+v, %v, %v; want %+v, %v", c.event, c.file, pr, ok, err, c.want, c.ok)
		}
	}
	if _, _, err := ParseEvent("pull_request", []byte("{not json")); err == nil {
		t.Error("a broken payload was accepted")
	}
	if _, _, err := ParseEvent("pull_request", []byte(`{"pull_request":{"head":{"sha":"x"}}}`)); err == nil || !strings.Contains(err.Error(), "no pull request number") {
		t.Errorf("a payload without a number: %v", err)
	}
	// The number may be only in pull_request.number.
	pr, ok, err := ParseEvent("pull_request", []byte(`{"pull_request":{"number":5,"head":{"sha":"x"}},"repository":{"full_name":"a/b"}}`))
	if err != nil || !ok || pr.Number != 5 {
		t.Errorf("pull_request.number: %+v %v %v", pr, ok, err)
	}
}
