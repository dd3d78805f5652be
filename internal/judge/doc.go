// Package judge owns LLM-as-judge: the judge prompts, how model outputs are
// put into them, how judgments are parsed, and how pairwise, jury and
// logprob verdicts are combined. It is pure: no network and no model calls;
// a judge stage sends what Render returns and a scorer parses what came back.
//
// Templates. Builtin returns MT-Bench's eight judge prompts byte for byte
// from FastChat's judge_prompts.jsonl, Prometheus 2's absolute and relative
// grading prompts from prometheus-eval's prompts.py (both embedded, see
// assets/NOTICE.md), and tunecheck's general rubric (GeneralRubric); Custom
// checks a plan's own (system, user) strings. Render fills placeholders as
// Python's str.format does in FastChat; Hash identifies a template's text in
// runs.
//
// Delimiting. Answers are model outputs and untrusted: Render inserts
// NeutralMark (U+200B) into any occurrence of the template's own markers
// (Markers) and of verdict tokens ("[[8]]", "[[A]]", "[RESULT]") inside them,
// so an output cannot close the delimiter around it. Answers without such
// text are inserted byte for byte.
//
// Parsing never invents a score. ParseScore and ParseChoice strip reasoning
// blocks (StripReasoning) and then read the judgment in one of two modes:
// ModeFastChat, exactly FastChat's llm_judge/common.py (first "[[n]]", else
// first "[n]"; "[[A]]", then "[[B]]", then "[[C]]"), with "no score" an error
// instead of -1; and ModeStrict, which knows more formats and refuses
// out-of-range, ambiguous and unparsable judgments with a *ParseError saying
// why. RepairPrompt is the one retry strict mode allows; ErrTruncated is for
// judgments cut off by max_tokens.
//
// Combining. Resolve turns a pair judged in both orders into an Outcome as
// FastChat's show_result.py does (inconsistent → tie, failed → failed, never
// tie); ComputePositionStats measures position bias. AggregateScores and
// AggregateOutcomes combine a jury. SoftChoice and SoftScore turn the top
// logprobs at the verdict token into a soft preference and a G-Eval score.
//
// Win rates, length control, calibration and agreement live in the other
// files of this package (winrate*, lc*, calibrate*, agree*).
package judge
