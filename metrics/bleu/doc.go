// Package bleu computes the sacrebleu family of machine-translation metrics —
// BLEU, chrF / chrF++ and TER — exactly as sacrebleu 2.6.0 computes them, so
// that a score printed by tunecheck can be set beside a score printed by
// sacrebleu and agree to the last digits.
//
// It owns:
//
//   - the tokenizers: 13a (mteval-v13a, the BLEU default), intl (mteval-v14
//     international, on Unicode punctuation and symbol classes), char, none,
//     and tercom (TER's normaliser with its normalized / no-punct /
//     asian-support / case-sensitive options);
//   - the Python string semantics those tokenizers rely on: str.lower (with
//     the dotted capital I and the final sigma), str.split and str.rstrip
//     whitespace (which includes U+001C..U+001F);
//   - BLEU (corpus and sentence level, variable reference counts, exp / floor
//     / add-k / none smoothing, effective order, any maximum n-gram order),
//     chrF and chrF++ (character and word n-grams, beta, whitespace, eps
//     smoothing), TER (Tercom shifts with sacrebleu's beam and candidate
//     limits), each with sacrebleu's signature string;
//   - per-segment sufficient statistics and score-from-summed-statistics
//     functions, and the bootstrap confidence interval and paired bootstrap
//     test that sacrebleu's --confidence and --paired-bs report, computed on
//     those statistics.
//
// Reference: sacrebleu 2.6.0 (github.com/mjpost/sacrebleu, tag v2.6.0),
// Python 3.11 string semantics and the `regex` module's Unicode classes for
// the intl tokenizer. Parity is checked against vectors that sacrebleu itself
// produced (shared/data/parity/{bleu,chrf,ter,probe}.jsonl).
//
// Every function is pure: no globals, no I/O, safe for concurrent use.
package bleu
