//! The numeric kernels behind Gaia's `infer` engine, and the only `unsafe` code the
//! engines rely on.
//!
//! `gaia-core` forbids `unsafe`; the two things it needs that cannot be written well in safe
//! Rust live here, each behind a safe function that checks every index it will touch:
//!
//! * [`matmul`]: single-precision GEMM on strided views through the `gemm` crate (the kernel
//!   candle uses), with AVX2 / AVX-512 micro-kernels picked at run time, always on the
//!   calling thread: callers parallelise across work items, not inside one product.
//! * [`dot`], [`dot_f16`], [`dot_i8`]: dot products with a runtime-dispatched AVX2+FMA path.
//! * [`elementwise`]: GELU, softmax, layer normalisation, compiled for baseline x86-64,
//!   AVX2 and AVX-512 and dispatched at run time.
#![deny(missing_docs)]

mod dot;
pub mod elementwise;
mod gemm_view;

pub use dot::{dot, dot_f16, dot_i8, f16_to_f32};
pub use gemm_view::{matmul, matmul_threads, MatMut, MatRef, ViewError};
