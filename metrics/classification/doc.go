// Package classification computes classification, ranking and probability
// metrics with scikit-learn 1.2.1 semantics: accuracy, balanced accuracy,
// precision/recall/F-beta (binary, micro, macro, weighted, per class) with
// zero_division, the confusion matrix, Matthews correlation, Cohen's kappa
// (unweighted, linear, quadratic), ROC-AUC (binary, one-vs-rest, one-vs-one,
// partial AUC with McClish correction), average precision (sklearn's
// step-wise definition), log loss (eps clipping and row renormalisation as
// 1.2.1 does), the Brier score, the calibration curve and the expected
// calibration error.
//
// "The classes" of a problem are the sorted distinct values of y_true and
// y_pred together, in numpy order (numbers ascending, false before true,
// strings by code point). Where scikit-learn warns (an undefined 0/0 that it
// replaces by a value) the functions return the warning as a value in the
// result; where scikit-learn raises, they return an error. The parity tests
// check every case of shared/data/parity/sklearn.jsonl.
package classification
