package bleu

import (
	"strconv"
	"strings"
)

// Version is the sacrebleu release whose numbers this package reproduces;
// it is the version field of every signature.
const Version = "2.6.0"

// NRefs is the nrefs field of a signature: the number of references per
// segment, or "var" when it differs between segments (as sacrebleu counts
// them when references come in as parallel streams).
func NRefs(refs [][]string) string {
	if len(refs) == 0 {
		return "0"
	}
	n := len(refs[0])
	for _, r := range refs[1:] {
		if len(r) != n {
			return "var"
		}
	}
	return strconv.Itoa(n)
}

// signature assembles a sacrebleu signature: the shared fields (nrefs, then
// the bootstrap ones when present), the metric's key/value pairs, and the
// version last.
func signature(nrefs string, bo *BootstrapOptions, kv ...string) string {
	parts := []string{"nrefs:" + nrefs}
	if bo != nil {
		parts = append(parts, "bs:"+strconv.Itoa(bo.resamples()), "seed:"+strconv.FormatUint(bo.seed(), 10))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+":"+kv[i+1])
	}
	parts = append(parts, "version:"+Version)
	return strings.Join(parts, "|")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func caseName(lowercase bool) string {
	if lowercase {
		return "lc"
	}
	return "mixed"
}
