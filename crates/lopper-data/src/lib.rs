//! # lopper-data
//!
//! Tasks and their data for lopper: tokenisation with a checkpoint's own tokenizer
//! ([`TextTokenizer`]), and (as the training stage lands) task readers, batches and metrics.

mod error;
mod tokenize;

pub use error::{DataError, Result};
pub use tokenize::{Encoded, TextTokenizer};
