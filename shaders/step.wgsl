// The per-step uniform, prepended to the kernels that read one (gather, loss_reduce, sgd, adam). Each step (or
// micro-batch) of a submit has its own 256-byte slot, bound through a dynamic offset, so one bind group serves
// every step and several steps can share one command encoder.
//   lr: learning rate after the schedule; t: optimizer step from 1 (Adam's bias correction);
//   slot: where loss_reduce writes (loss, accuracy); start: first row of the batch in the dataset's order.

struct Step {
  lr: f32,
  t: f32,
  slot: u32,
  start: u32,
}
