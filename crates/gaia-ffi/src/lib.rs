//! The C ABI of Gaia: `libgaia.so` / `libgaia.a` and `include/gaia.h`.
//!
//! This crate only translates: it checks arguments (NULL, UTF-8, handle tags), catches
//! panics, boxes handles, (de)serialises JSON at the boundary and maps
//! [`gaia_core::ErrorKind`] to [`gaia_status`]. All engine logic lives in `gaia-core`.
//!
//! Every exported function follows the conventions in the header's preamble; each one's
//! doc comment states ownership and thread-safety.
#![deny(missing_docs)]
#![allow(
    non_camel_case_types,
    reason = "C ABI names follow the gaia_<thing> convention"
)]
#![allow(
    clippy::missing_safety_doc,
    reason = "every pointer argument follows the one contract stated in the header preamble"
)]

mod boundary;
mod handle;
mod strings;

pub mod bandit;
pub mod infer;
pub mod logger;
pub mod mcts;
pub mod status;
pub mod study;
pub mod sync;
pub mod version;

pub use bandit::gaia_bandit;
pub use boundary::gaia_test_panic;
pub use infer::{gaia_embedder, gaia_index};
pub use mcts::gaia_mcts;
pub use status::gaia_status;
pub use strings::gaia_string_free;
pub use study::gaia_study;
pub use sync::gaia_sync;
