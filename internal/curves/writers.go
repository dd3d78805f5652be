package curves

import (
	"hash/maphash"
	"slices"
	"sort"
)

// logRow is one line of a JSONL log: its step and the values it logged, as
// a range of a shared field slice (one allocation for the whole log), and
// the kind of line it is (a hash of its field names).
type logRow struct {
	step     int64
	from, to int
	kind     uint64
}

// rowFields collects the rows of a log and their fields.
type rowFields struct {
	rows   []logRow
	fields []histField
	seed   maphash.Seed
}

// add appends one line. Its kind is the sum of its field names' hashes, so
// the order the fields were written in does not matter.
func (rf *rowFields) add(step int64, fs []histField) {
	if len(rf.rows) == 0 {
		rf.seed = maphash.MakeSeed()
	}
	var kind uint64
	for _, f := range fs {
		kind += maphash.String(rf.seed, f.name)
	}
	from := len(rf.fields)
	rf.fields = append(rf.fields, fs...)
	rf.rows = append(rf.rows, logRow{step: step, from: from, to: len(rf.fields), kind: kind})
}

// maxWriters bounds the writers tracked at once; a log whose step jumps
// around more than that is resolved as restarts, as before.
const maxWriters = 8

// writerTrack is one monotone sequence of steps, as one process logs them.
type writerTrack struct {
	last              int64
	firstRow, lastRow int
}

// writerStats is what resolveWriters found beyond restarts.
type writerStats struct {
	// writers is the most times one kind of line was logged at one step:
	// the processes writing the log at once.
	writers int
	// repeated counts lines that logged a value again at a step it already
	// had, within one stretch (a second writer, not a resume).
	repeated int
}

// resolveWriters feeds rows to b in an order that tells a resume from
// several processes appending to one log. Each row joins the most recent
// writer whose last step is not after its own; a row that fits none starts a
// new writer. Writers whose lines interleave in the file are concurrent (the
// same steps logged twice), and their rows are merged by step, the later line
// winning a tie; a writer that starts after all earlier ones stopped, lower
// than where they got to, is a resume: one restart, and it replaces the
// history from its first step on.
func resolveWriters(rf *rowFields, b *seriesBuilder) writerStats {
	rows := rf.rows
	var st writerStats
	if len(rows) == 0 {
		return st
	}
	var tracks []writerTrack
	var open []int // indices into tracks, most recently used last
	for i, r := range rows {
		pick := -1
		for k := len(open) - 1; k >= 0; k-- {
			if tracks[open[k]].last <= r.step {
				pick = k
				break
			}
		}
		var t int
		if pick < 0 {
			tracks = append(tracks, writerTrack{last: r.step, firstRow: i, lastRow: i})
			t = len(tracks) - 1
			if len(open) == maxWriters {
				open = open[1:]
			}
		} else {
			t = open[pick]
			open = append(open[:pick], open[pick+1:]...)
			tracks[t].last, tracks[t].lastRow = r.step, i
		}
		open = append(open, t)
	}
	// Tracks are numbered in order of their first row; a group of tracks
	// whose row ranges overlap covers a contiguous range of rows.
	start, end := 0, tracks[0].lastRow
	flush := func(from, to int) {
		group := rows[from : to+1]
		if !slices.IsSortedFunc(group, func(x, y logRow) int { return cmpInt64(x.step, y.step) }) {
			sort.SliceStable(group, func(i, j int) bool { return group[i].step < group[j].step })
		}
		type kindCount struct {
			kind uint64
			n    int
		}
		var at int64
		var kinds []kindCount // the kinds of line logged at step at
		for k, r := range group {
			if k == 0 || r.step != at {
				at, kinds = r.step, kinds[:0]
			}
			// A trainer logs a train line and an eval line at one step; the
			// same kind of line (the same fields) twice is a second writer.
			i := slices.IndexFunc(kinds, func(c kindCount) bool { return c.kind == r.kind })
			if i < 0 {
				kinds = append(kinds, kindCount{kind: r.kind})
				i = len(kinds) - 1
			} else {
				st.repeated++
			}
			kinds[i].n++
			st.writers = max(st.writers, kinds[i].n)
			b.at(r.step)
			for _, f := range rf.fields[r.from:r.to] {
				b.add(f.name, r.step, f.value)
			}
		}
	}
	for t := 1; t < len(tracks); t++ {
		if tracks[t].firstRow <= end {
			end = max(end, tracks[t].lastRow)
			continue
		}
		flush(start, tracks[t].firstRow-1)
		start, end = tracks[t].firstRow, tracks[t].lastRow
	}
	flush(start, len(rows)-1)
	return st
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
