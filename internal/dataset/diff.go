package dataset

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Diff is what changed between two versions of a dataset, matched by row id.
// With content-derived ids an edited row shows as one removed and one added;
// with an id field it shows as changed, with the fields that differ.
type Diff struct {
	Old, New *Dataset
	Added    []string // ids only in New, in New's order
	Removed  []string // ids only in Old, in Old's order
	Changed  []Change // ids in both with different content, in New's order
	Same     int      // rows identical in both
}

// Change is one row present in both versions with different content.
type Change struct {
	ID string
	// Fields lists the keys whose values differ, were added or were removed, sorted.
	Fields []string
}

// Compare diffs the rows of old and new by id.
func Compare(old, new *Dataset) *Diff {
	d := &Diff{Old: old, New: new}
	oldByID := make(map[string]*Row, len(old.Rows))
	for i := range old.Rows {
		oldByID[old.Rows[i].ID] = &old.Rows[i]
	}
	inNew := make(map[string]bool, len(new.Rows))
	for i := range new.Rows {
		r := &new.Rows[i]
		inNew[r.ID] = true
		o, ok := oldByID[r.ID]
		if !ok {
			d.Added = append(d.Added, r.ID)
			continue
		}
		if fields := changedFields(o.Fields, r.Fields); len(fields) > 0 {
			d.Changed = append(d.Changed, Change{ID: r.ID, Fields: fields})
		} else {
			d.Same++
		}
	}
	for _, r := range old.Rows {
		if !inNew[r.ID] {
			d.Removed = append(d.Removed, r.ID)
		}
	}
	return d
}

func changedFields(a, b map[string]any) []string {
	var out []string
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !bytes.Equal(canonicalRow(map[string]any{"v": av}), canonicalRow(map[string]any{"v": bv})) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// WriteSummary writes one line per dataset: fingerprint, rows, format, shape, path.
func WriteSummary(w io.Writer, d *Dataset) error {
	_, err := fmt.Fprintf(w, "%s  %d rows  %s  %s  %s\n", d.Fingerprint, d.Total, d.Format, d.Shape, d.Path)
	return err
}

// WriteDiff writes a Diff for people: both fingerprints, the counts, then one
// line per added (+), removed (-) and changed (~) row.
func WriteDiff(w io.Writer, d *Diff) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old  %s  %d rows  %s\n", d.Old.Fingerprint, d.Old.Total, d.Old.Path)
	fmt.Fprintf(&b, "new  %s  %d rows  %s\n", d.New.Fingerprint, d.New.Total, d.New.Path)
	if d.Old.Fingerprint == d.New.Fingerprint {
		b.WriteString("identical: same rows in the same order\n")
		_, err := w.Write(b.Bytes())
		return err
	}
	fmt.Fprintf(&b, "added %d, removed %d, changed %d, unchanged %d\n", len(d.Added), len(d.Removed), len(d.Changed), d.Same)
	if len(d.Added)+len(d.Removed)+len(d.Changed) == 0 {
		b.WriteString("same rows, different order\n")
	}
	for _, id := range d.Added {
		fmt.Fprintf(&b, "+ %s\n", id)
	}
	for _, id := range d.Removed {
		fmt.Fprintf(&b, "- %s\n", id)
	}
	for _, c := range d.Changed {
		fmt.Fprintf(&b, "~ %s  fields: %s\n", c.ID, strings.Join(c.Fields, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}
