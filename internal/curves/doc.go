// Package curves owns tunecheck's training diagnostics: it reads trainer logs
// in the formats people already have on disk, aligns train and eval loss by
// step, and says whether the fine-tune overfitted, diverged, was noisy or is
// healthy, and what early stopping would have kept.
//
// References it follows:
//   - Hugging Face Trainer trainer_state.json (log_history, best_model_checkpoint),
//     including Python's non-standard JSON tokens NaN, Infinity and -Infinity.
//   - LLaMA-Factory trainer_log.jsonl (current_steps, loss, eval_loss).
//   - TensorBoard event files: TFRecord framing with masked CRC32C, Event
//     protobufs with scalars as simple_value or as a scalar TensorProto.
//   - PyTorch Lightning and Keras CSVLogger files, the OpenAI fine-tuning
//     results CSV, Weights & Biases history exports (CSV or JSONL).
//   - TensorBoard's debiased exponential moving average for smoothing.
//   - Early stopping exactly as transformers' EarlyStoppingCallback and
//     Keras' EarlyStopping callback decide it.
//
// Readers return a Run with whatever they could read and a list of damage
// notes; only a file with no usable loss at all is an error.
package curves
