//! Gaia's engines in safe Rust.
//!
//! This crate knows nothing about C, PHP or Go: `gaia-ffi` and `php-ext` adapt it.
//! Every engine validates its input up front and answers a bad one with an [`Error`]
//! whose message names the offending field; nothing here panics on user input.
//!
//! * [`stats`]: the seeded, portable RNG and the distributions every engine samples from.
//! * [`tune`]: parameter optimisation: bandits, ask/tell studies (TPE, Sobol, grid).
//! * [`mcts`]: AB-MCTS tree search over LLM answers, ask/tell.
//! * [`infer`]: sentence embeddings (BERT, as sentence-transformers) and vector search.
//! * [`sync`]: keeps a Solr index equal to MariaDB tables (full rebuild, incremental, deletes).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod checksum;
pub mod error;
#[cfg(feature = "infer")]
pub mod infer;
#[cfg(feature = "mcts")]
pub mod mcts;
pub mod stats;
#[cfg(feature = "sync")]
pub mod sync;
#[cfg(feature = "tune")]
pub mod tune;

pub use error::{utf8_arg, Error, ErrorKind, Result};

/// The version of this crate (`CARGO_PKG_VERSION`), which is also the library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
