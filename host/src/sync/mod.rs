//! Running the queue: the per-order driver, the worker loop and the retry policy.

mod order;
mod retry;
mod worker;

pub use order::{sync_order, EventSession, OrderSynced};
pub use retry::RetryPolicy;
pub use worker::{event_context, RunSummary, Worker, WorkerError};
