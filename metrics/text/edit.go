package text

// Levenshtein is the edit distance between a and b counted in Unicode code
// points (insertions, deletions and substitutions, each costing 1), as
// Python's rapidfuzz Levenshtein.distance computes it on str. Invalid UTF-8
// bytes count as one U+FFFD each.
func Levenshtein(a, b string) int {
	return editDistance([]rune(a), []rune(b))
}

// LevenshteinTokens is the edit distance between the whitespace tokens of a
// and b (Python str.split), each token a unit.
func LevenshteinTokens(a, b string) int {
	return editDistance(PySplit(a), PySplit(b))
}

// LevenshteinSimilarity is 1 - distance / max(len(a), len(b)) in code
// points (rapidfuzz's Levenshtein.normalized_similarity): 1 for equal
// strings, 0 when nothing can be kept. Two empty strings are equal: 1.
func LevenshteinSimilarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	return similarity(editDistance(ra, rb), len(ra), len(rb))
}

// LevenshteinTokenSimilarity is LevenshteinSimilarity over whitespace tokens.
func LevenshteinTokenSimilarity(a, b string) float64 {
	ta, tb := PySplit(a), PySplit(b)
	return similarity(editDistance(ta, tb), len(ta), len(tb))
}

func similarity(d, la, lb int) float64 {
	m := max(la, lb)
	if m == 0 {
		return 1
	}
	return 1 - float64(d)/float64(m)
}

// editDistance is the Wagner-Fischer dynamic programme with one row, after
// trimming the common prefix and suffix (which never changes the distance).
func editDistance[E comparable](a, b []E) int {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return len(a)
	}
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0] // row[i-1][j-1]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			up := row[j] // row[i-1][j]
			cost := diag
			if a[i-1] != b[j-1] {
				cost = min(diag, up, row[j-1]) + 1
			}
			row[j] = cost
			diag = up
		}
	}
	return row[len(b)]
}
