//! Black-box integration tests for datasync; see `tests/`.
