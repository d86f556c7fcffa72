//! The numeric kernels behind Gaia's `infer` and `tune` engines, and the only `unsafe` code the
//! engines rely on.
//!
//! `gaia-core` forbids `unsafe`; the two things it needs that cannot be written well in safe
//! Rust live here, each behind a safe function that checks every index it will touch:
//!
//! * [`matmul`]: single-precision GEMM on strided views through the `gemm` crate (the kernel
//!   candle uses), with AVX2 / AVX-512 micro-kernels picked at run time, always on the
//!   calling thread: callers parallelise across work items, not inside one product.
//! * [`PackedLinear`]: a `Linear` layer packed once at load time for its own AVX-512 /
//!   AVX2 micro-kernel; one product reads every weight once, front to back (the encoder's
//!   dense layers, where `matmul` would restride the weights on every call).
//! * [`dot`], [`dot_f16`], [`dot_i8`]: dot products with a runtime-dispatched AVX2+FMA path.
//! * [`mixture`]: log-densities of Gaussian kernel mixtures at a batch of points (TPE's
//!   scoring), bit-identical on every CPU.
//! * [`elementwise`]: GELU, softmax, layer normalisation, compiled for baseline x86-64,
//!   AVX2 and AVX-512 and dispatched at run time.
#![deny(missing_docs)]

/// Defines safe public functions that run a safe `#[inline(always)]` body compiled three
/// times (baseline x86-64, AVX2+FMA, AVX-512) and picked on the CPU at run time. The bodies
/// never call `mul_add`, and Rust never fuses a multiply and an add by itself, so every
/// path computes the same IEEE operations: results are bit-identical on every CPU.
macro_rules! dispatched {
    ($($(#[$doc:meta])* fn $name:ident / $imp:ident ($($arg:ident : $ty:ty),*) $(-> $ret:ty)?;)*) => {
        $(
            $(#[$doc])*
            pub fn $name($($arg: $ty),*) $(-> $ret)? {
                #[cfg(target_arch = "x86_64")]
                {
                    if std::arch::is_x86_feature_detected!("avx512f") {
                        // SAFETY: the CPU has AVX-512F (checked just above); the body is
                        // safe code compiled with more instructions allowed.
                        return unsafe { x86::$name::v4($($arg),*) };
                    }
                    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                        // SAFETY: the CPU has AVX2 and FMA (checked just above).
                        return unsafe { x86::$name::v3($($arg),*) };
                    }
                }
                $imp($($arg),*)
            }
        )*
        #[cfg(target_arch = "x86_64")]
        mod x86 {
            #[allow(unused_imports, reason = "each module uses some of the types")]
            use super::*;
            $(
                pub mod $name {
                    #[allow(unused_imports, reason = "each module uses some of the types")]
                    use super::*;
                    /// # Safety
                    /// The CPU must support AVX-512F.
                    #[target_feature(enable = "avx512f,avx2,fma")]
                    pub unsafe fn v4($($arg: $ty),*) $(-> $ret)? {
                        super::super::$imp($($arg),*)
                    }
                    /// # Safety
                    /// The CPU must support AVX2 and FMA.
                    #[target_feature(enable = "avx2,fma")]
                    pub unsafe fn v3($($arg: $ty),*) $(-> $ret)? {
                        super::super::$imp($($arg),*)
                    }
                }
            )*
        }
    };
}

mod dot;
pub mod elementwise;
mod gemm_view;
pub mod mixture;
mod packed;

pub use dot::{dot, dot_f16, dot_i8, f16_to_f32};
pub use gemm_view::{matmul, MatMut, MatRef, ViewError};
pub use packed::{with_threads, PackedLinear, PANEL};
