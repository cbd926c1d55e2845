//! Cross-crate integration tests of lopper live in `tests/`; this library is empty.
