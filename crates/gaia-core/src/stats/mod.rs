//! Shared statistics: one seeded RNG and the distributions every engine samples from.
//!
//! [`Rng`] is xoshiro256++ seeded through SplitMix64: the same seed gives the same stream of
//! `u64` on every platform, and its whole state is four `u64`s, so a saved search or study
//! continues with identical draws after a round trip. The samplers ([`Normal`], [`Gamma`],
//! [`Beta`], [`StudentT`], [`NormalInverseGamma`], [`Uniform`]) take their parameters through
//! checked constructors and draw from an `&mut Rng`. [`linalg`] holds the dense linear
//! algebra the samplers share (symmetric eigendecomposition, Cholesky with jitter retries,
//! triangular and SPD inverses).

mod dist;
pub mod linalg;
mod rng;
mod special;

pub(crate) use dist::standard_normal;
pub use dist::{Beta, Gamma, Normal, NormalInverseGamma, StudentT, Uniform};
pub use rng::{random_seed, Rng};
pub use special::{erfc, erfcx, log_ndtr, normal_cdf};

use crate::error::ErrorKind;

/// Errors of the statistics module: bad distribution parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A distribution parameter is NaN, infinite or out of its domain.
    #[error("{distribution}: parameter \"{param}\" must be {requirement}, got {value}")]
    InvalidParameter {
        /// The distribution, e.g. `"Gamma"`.
        distribution: &'static str,
        /// The parameter's name, e.g. `"shape"`.
        param: &'static str,
        /// What it must be, e.g. `"finite and > 0"`.
        requirement: &'static str,
        /// The value given.
        value: f64,
    },
    /// A matrix or vector of the wrong size for the operation.
    #[error("{what}: expected {expected} values, got {got}")]
    Shape {
        /// The argument, e.g. `"cholesky: matrix"`.
        what: &'static str,
        /// How many values it must have.
        expected: usize,
        /// How many it has.
        got: usize,
    },
    /// A matrix or vector with a NaN or infinite entry.
    #[error("{what} has a NaN or infinite entry")]
    NotFinite {
        /// The argument, e.g. `"symmetric_eigen: matrix"`.
        what: &'static str,
    },
    /// A matrix that must be symmetric positive definite is not: the Cholesky pivot
    /// `pivot` (a diagonal index) came out as `value`, not a positive number.
    #[error("matrix is not positive definite: pivot {pivot} is {value}")]
    NotPositiveDefinite {
        /// The diagonal index where the factorisation failed.
        pivot: usize,
        /// The pivot's value (zero, negative or NaN).
        value: f64,
    },
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// Checks `value` is finite and strictly positive.
pub(crate) fn positive(
    distribution: &'static str,
    param: &'static str,
    value: f64,
) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            distribution,
            param,
            requirement: "finite and > 0",
            value,
        })
    }
}

/// Checks `value` is finite.
pub(crate) fn finite(
    distribution: &'static str,
    param: &'static str,
    value: f64,
) -> Result<f64, Error> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            distribution,
            param,
            requirement: "finite",
            value,
        })
    }
}
