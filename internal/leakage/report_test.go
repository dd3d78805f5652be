package leakage

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run go test -update if the change is intended\n--- got\n%s", path, got)
	}
}

func TestReportGolden(t *testing.T) {
	trainData, testData := plant(t)
	test := StringSource("test.jsonl", testData+testData[:bytes.IndexByte([]byte(testData), '\n')+1], ReadOptions{})
	rep, err := Check(context.Background(), StringSource("train.jsonl", trainData, ReadOptions{}), &test,
		Options{Methods: []string{MethodExact, MethodMinHash, MethodNgram}, Normalize: DefaultNormalize(),
			Threshold: 0.7, Seed: 1, Within: true, Benchmarks: []string{"gsm8k", "winogrande"}})
	if err != nil {
		t.Fatal(err)
	}
	var txt, md bytes.Buffer
	if err := WriteText(&txt, rep, 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", txt.Bytes())
	golden(t, "report.md", md.Bytes())
}
