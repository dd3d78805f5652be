// Package text owns the string-level metrics of tunecheck: exact match with
// configurable normalisation, contains, regular-expression match, JSON
// validity, the SQuAD v1.1 exact match and token F1, Levenshtein distance and
// similarity, distinct-n, Self-BLEU and length statistics.
//
// The SQuAD functions follow HF evaluate 0.4.6 metrics/squad (the official
// SQuAD v1.1 script) bit for bit, including Python's string rules: str.lower
// (PyLower), str.split (PySplit), ASCII-only string.punctuation and
// Unicode-aware \b. Parity is tested against shared/data/parity/squad.jsonl
// and the squad_normalize probes. All functions are pure and safe for
// concurrent use.
package text
