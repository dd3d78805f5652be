package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataPII(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tickets.jsonl")
	os.WriteFile(path, []byte(`{"id": "t1", "q": "my card 4111 1111 1111 1111 was charged twice", "meta": {"from": "jane.doe@example.com"}}
{"id": "t2", "q": "card 4111 1111 1111 1112 (not a valid number) and version 1.2.3"}
{"id": "t3", "q": "key AKIAIOSFODNN7EXAMPLE leaked \u001b[31m"}
`), 0o644)
	code, out, errOut := runCLI(t, "data", "pii", path)
	if code != 0 || !strings.Contains(out, "2 of 3 rows hold personal data or secrets") || !strings.Contains(out, "card") ||
		strings.Contains(out, "4111 1111 1111 1111") || strings.Contains(out, "jane.doe@example.com") || strings.Contains(out, "\x1b") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "data", "pii", "--fail", "--kinds", "email", path); code != 1 || !strings.Contains(errOut, "1 rows hold") {
		t.Fatalf("--fail: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "data", "pii", "--kinds", "passport", path); code != 2 || !strings.Contains(errOut, "unknown PII kind") {
		t.Fatalf("bad kind: exit %d %s", code, errOut)
	}
	code, out, _ = runCLI(t, "data", "pii", "-f", "json", path)
	if code != 0 || !strings.Contains(out, `"aws_key": 1`) || !strings.Contains(out, `"email": 1`) {
		t.Fatalf("json: %s", out)
	}
}
