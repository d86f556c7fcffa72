//! Samplers for the distributions the engines need.
//!
//! All constructors check their parameters and return [`Error`] for NaN, infinities and
//! out-of-domain values, so a sampler that exists always draws finite numbers.

use super::{finite, positive, Error, Rng};

/// The continuous uniform distribution on `[low, high)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uniform {
    low: f64,
    width: f64,
}

impl Uniform {
    /// Uniform on `[low, high)`; needs finite bounds with `low < high`.
    pub fn new(low: f64, high: f64) -> Result<Self, Error> {
        finite("Uniform", "low", low)?;
        finite("Uniform", "high", high)?;
        let width = positive("Uniform", "high - low", high - low)?;
        Ok(Uniform { low, width })
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        self.low + self.width * rng.next_f64()
    }
}

/// The normal distribution `N(mean, sd^2)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normal {
    mean: f64,
    sd: f64,
}

impl Normal {
    /// `N(mean, sd^2)`; needs a finite mean and a finite `sd > 0`.
    pub fn new(mean: f64, sd: f64) -> Result<Self, Error> {
        Ok(Normal {
            mean: finite("Normal", "mean", mean)?,
            sd: positive("Normal", "sd", sd)?,
        })
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        self.mean + self.sd * standard_normal(rng)
    }
}

/// The ziggurat of [`standard_normal`]: Doornik's ZIGNOR (2005) with 128 layers of equal
/// area `ZIG_V`, the base layer reaching out to `ZIG_R`.
struct Ziggurat {
    /// Layer edges: `x[0] = V / f(R)` (the base layer's virtual width), `x[1] = R`, ...,
    /// `x[128] = 0`.
    x: [f64; 129],
    /// `x[i + 1] / x[i]`: a draw `u * x[i]` with `|u|` below it lies under the curve.
    ratio: [f64; 128],
}

const ZIG_R: f64 = 3.442_619_855_899;
const ZIG_V: f64 = 9.912_563_035_262_17e-3;

static ZIGGURAT: std::sync::LazyLock<Ziggurat> = std::sync::LazyLock::new(|| {
    let mut x = [0.0; 129];
    let mut f = (-0.5 * ZIG_R * ZIG_R).exp();
    x[0] = ZIG_V / f;
    x[1] = ZIG_R;
    for i in 2..128 {
        x[i] = (-2.0 * (ZIG_V / x[i - 1] + f).ln()).sqrt();
        f = (-0.5 * x[i] * x[i]).exp();
    }
    let mut ratio = [0.0; 128];
    for (i, r) in ratio.iter_mut().enumerate() {
        *r = x[i + 1] / x[i];
    }
    Ziggurat { x, ratio }
});

/// One draw of `N(0, 1)` by the ziggurat method (Marsaglia and Tsang 2000, in Doornik's
/// ZIGNOR form): one 64-bit draw gives the layer (its low 7 bits) and a uniform in [-1, 1)
/// (its high 53 bits); about 98% of draws end there with a multiply and a compare. No hidden
/// cache, so the RNG state alone determines the stream.
pub(crate) fn standard_normal(rng: &mut Rng) -> f64 {
    let zig = &*ZIGGURAT;
    loop {
        let bits = rng.next_u64();
        let i = (bits & 127) as usize;
        let u = (bits >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0;
        if u.abs() < zig.ratio[i] {
            return u * zig.x[i];
        }
        if i == 0 {
            return normal_tail(rng, u < 0.0);
        }
        // The wedge between this layer's rectangle and the curve.
        let x = u * zig.x[i];
        let f0 = (-0.5 * (zig.x[i] * zig.x[i] - x * x)).exp();
        let f1 = (-0.5 * (zig.x[i + 1] * zig.x[i + 1] - x * x)).exp();
        if f1 + rng.next_f64() * (f0 - f1) < 1.0 {
            return x;
        }
    }
}

/// A draw of `N(0, 1)` beyond `ZIG_R` (Marsaglia 1964), negative if asked.
fn normal_tail(rng: &mut Rng, negative: bool) -> f64 {
    loop {
        let x = rng.next_f64_open().ln() / ZIG_R;
        let y = rng.next_f64_open().ln();
        if -2.0 * y >= x * x {
            return if negative { x - ZIG_R } else { ZIG_R - x };
        }
    }
}

/// The gamma distribution with `shape` (k) and `scale` (theta): mean `k*theta`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    shape: f64,
    scale: f64,
}

impl Gamma {
    /// `Gamma(shape, scale)`; both finite and `> 0`.
    pub fn new(shape: f64, scale: f64) -> Result<Self, Error> {
        Ok(Gamma {
            shape: positive("Gamma", "shape", shape)?,
            scale: positive("Gamma", "scale", scale)?,
        })
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        self.scale * standard_gamma(rng, self.shape)
    }
}

/// `Gamma(shape, 1)` by Marsaglia and Tsang (2000); for `shape < 1` it boosts with
/// `Gamma(shape + 1) * U^(1/shape)`. `shape` must be finite and positive.
pub(crate) fn standard_gamma(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let boost = rng.next_f64_open().powf(1.0 / shape);
        return standard_gamma(rng, shape + 1.0) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let (x, v) = loop {
            let x = standard_normal(rng);
            let v = 1.0 + c * x;
            if v > 0.0 {
                break (x, v * v * v);
            }
        };
        let u = rng.next_f64_open();
        if u < 1.0 - 0.0331 * x * x * x * x || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// The beta distribution `Beta(alpha, beta)` on `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beta {
    alpha: f64,
    beta: f64,
}

impl Beta {
    /// `Beta(alpha, beta)`; both finite and `> 0`.
    pub fn new(alpha: f64, beta: f64) -> Result<Self, Error> {
        Ok(Beta {
            alpha: positive("Beta", "alpha", alpha)?,
            beta: positive("Beta", "beta", beta)?,
        })
    }

    /// One draw, as `X / (X + Y)` with `X ~ Gamma(alpha)`, `Y ~ Gamma(beta)`.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        let x = standard_gamma(rng, self.alpha);
        let y = standard_gamma(rng, self.beta);
        let sum = x + y;
        if sum > 0.0 {
            x / sum
        } else {
            // Both gammas underflowed (tiny shapes): the mass sits at the ends.
            if self.alpha >= self.beta {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// Student's t distribution with `nu` degrees of freedom, location and scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StudentT {
    nu: f64,
    loc: f64,
    scale: f64,
}

impl StudentT {
    /// `t(nu, loc, scale)`; `nu` and `scale` finite and `> 0`, `loc` finite.
    pub fn new(nu: f64, loc: f64, scale: f64) -> Result<Self, Error> {
        Ok(StudentT {
            nu: positive("StudentT", "nu", nu)?,
            loc: finite("StudentT", "loc", loc)?,
            scale: positive("StudentT", "scale", scale)?,
        })
    }

    /// One draw, as `Z / sqrt(V / nu)` with `V ~ chi^2(nu)`.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        let z = standard_normal(rng);
        let v = 2.0 * standard_gamma(rng, 0.5 * self.nu);
        self.loc + self.scale * z / (v / self.nu).sqrt()
    }
}

/// The Normal-Inverse-Gamma distribution: `sigma^2 ~ InvGamma(alpha, beta)` and
/// `mu | sigma^2 ~ N(mu0, sigma^2 / kappa)`, the conjugate prior of a normal with unknown
/// mean and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalInverseGamma {
    mu0: f64,
    kappa: f64,
    alpha: f64,
    beta: f64,
}

impl NormalInverseGamma {
    /// `NIG(mu0, kappa, alpha, beta)`; `mu0` finite, the others finite and `> 0`.
    pub fn new(mu0: f64, kappa: f64, alpha: f64, beta: f64) -> Result<Self, Error> {
        Ok(NormalInverseGamma {
            mu0: finite("NormalInverseGamma", "mu0", mu0)?,
            kappa: positive("NormalInverseGamma", "kappa", kappa)?,
            alpha: positive("NormalInverseGamma", "alpha", alpha)?,
            beta: positive("NormalInverseGamma", "beta", beta)?,
        })
    }

    /// One joint draw `(mu, sigma^2)`.
    pub fn sample(&self, rng: &mut Rng) -> (f64, f64) {
        let g = standard_gamma(rng, self.alpha);
        // InvGamma(alpha, beta) = beta / Gamma(alpha, 1); guard a gamma that underflowed.
        let sigma2 = self.beta / g.max(f64::MIN_POSITIVE);
        let mu = self.mu0 + (sigma2 / self.kappa).sqrt() * standard_normal(rng);
        (mu, sigma2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const N: usize = 40_000;

    fn draws(mut f: impl FnMut(&mut Rng) -> f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng::seed_from_u64(seed);
        (0..N).map(|_| f(&mut rng)).collect()
    }

    fn mean_var(x: &[f64]) -> (f64, f64) {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
        (m, v)
    }

    /// The Kolmogorov-Smirnov statistic of `x` against `cdf`; asserted below the 0.1% critical
    /// value 1.95/sqrt(n), so a correct sampler fails about once in a thousand seeds (these
    /// seeds are fixed, so the tests are deterministic) and a wrong one fails for sure.
    fn assert_ks(mut x: Vec<f64>, cdf: impl Fn(f64) -> f64, what: &str) {
        x.sort_by(f64::total_cmp);
        let n = x.len() as f64;
        let d = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let f = cdf(v);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.95 / n.sqrt(), "{what}: KS statistic {d}");
    }

    fn assert_moments(x: &[f64], mean: f64, var: f64, what: &str) {
        let (m, v) = mean_var(x);
        let se = (var / x.len() as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se, "{what}: mean {m} vs {mean}");
        assert!(
            (v - var).abs() < 0.05 * var,
            "{what}: variance {v} vs {var}"
        );
    }

    /// The normal CDF of the KS checks (the shared fit, relative error < 1.2e-7).
    use crate::stats::normal_cdf;

    #[test]
    fn uniform() {
        let u = Uniform::new(-2.0, 3.0).unwrap();
        let x = draws(|r| u.sample(r), 1);
        assert_moments(&x, 0.5, 25.0 / 12.0, "Uniform");
        assert_ks(x, |v| ((v + 2.0) / 5.0).clamp(0.0, 1.0), "Uniform");
    }

    #[test]
    fn normal() {
        let d = Normal::new(3.0, 2.0).unwrap();
        let x = draws(|r| d.sample(r), 2);
        assert_moments(&x, 3.0, 4.0, "Normal");
        assert_ks(x, |v| normal_cdf((v - 3.0) / 2.0), "Normal");
    }

    /// The ziggurat's tails and layers: two million draws, the share beyond the base layer
    /// (|x| > R, drawn by the tail method) and in bands through every layer match the
    /// normal's to within five standard errors; KS on the first 200,000.
    #[test]
    fn standard_normal_tails_and_layers() {
        let mut rng = Rng::seed_from_u64(77);
        let x: Vec<f64> = (0..2_000_000).map(|_| standard_normal(&mut rng)).collect();
        let n = x.len() as f64;
        for (lo, hi) in [
            (ZIG_R, f64::INFINITY),
            (4.0, f64::INFINITY),
            (2.0, 2.5),
            (1.0, 1.2),
            (0.0, 0.1),
            (0.5, 0.6),
        ] {
            let p = 2.0 * (normal_cdf(hi.min(40.0)) - normal_cdf(lo));
            let got = x.iter().filter(|v| v.abs() >= lo && v.abs() < hi).count() as f64 / n;
            let se = (p * (1.0 - p) / n).sqrt();
            assert!(
                (got - p).abs() < 5.0 * se,
                "|x| in [{lo}, {hi}): {got} vs {p}"
            );
        }
        let negative = x.iter().filter(|v| **v < -ZIG_R).count();
        let positive = x.iter().filter(|v| **v > ZIG_R).count();
        assert!(negative > 400 && positive > 400, "{negative} / {positive}");
        assert_ks(x[..200_000].to_vec(), normal_cdf, "standard_normal");
    }

    #[test]
    fn gamma_shapes_above_and_below_one() {
        let g = Gamma::new(2.0, 1.5).unwrap();
        let x = draws(|r| g.sample(r), 3);
        assert_moments(&x, 3.0, 4.5, "Gamma(2, 1.5)");
        assert_ks(
            x,
            |v| 1.0 - (-v / 1.5).exp() * (1.0 + v / 1.5),
            "Gamma(2, 1.5)",
        );

        // Gamma(1/2, 1) is chi^2(1)/2: CDF erf(sqrt(x)) = 1 - erfc(sqrt(x)).
        let g = Gamma::new(0.5, 1.0).unwrap();
        let x = draws(|r| g.sample(r), 4);
        assert_moments(&x, 0.5, 0.5, "Gamma(0.5)");
        assert_ks(
            x,
            |v| 1.0 - crate::stats::erfc(v.max(0.0).sqrt()),
            "Gamma(0.5)",
        );
    }

    #[test]
    fn beta() {
        let b = Beta::new(2.0, 2.0).unwrap();
        let x = draws(|r| b.sample(r), 5);
        assert_moments(&x, 0.5, 0.05, "Beta(2,2)");
        assert_ks(x, |v| 3.0 * v * v - 2.0 * v * v * v, "Beta(2,2)");

        // Jeffreys' Beta(1/2, 1/2): CDF (2/pi) asin(sqrt x).
        let b = Beta::new(0.5, 0.5).unwrap();
        let x = draws(|r| b.sample(r), 6);
        assert_moments(&x, 0.5, 0.125, "Beta(.5,.5)");
        assert_ks(
            x,
            |v| 2.0 / PI * v.clamp(0.0, 1.0).sqrt().asin(),
            "Beta(.5,.5)",
        );

        let b = Beta::new(3.0, 7.0).unwrap();
        let x = draws(|r| b.sample(r), 7);
        assert_moments(&x, 0.3, 0.3 * 0.7 / 11.0, "Beta(3,7)");
    }

    #[test]
    fn student_t() {
        // nu = 2: CDF 1/2 + x / (2 sqrt(2 + x^2)); infinite variance, so only KS.
        let t = StudentT::new(2.0, 0.0, 1.0).unwrap();
        assert_ks(
            draws(|r| t.sample(r), 8),
            |v| 0.5 + v / (2.0 * (2.0 + v * v).sqrt()),
            "t(2)",
        );
        // nu = 1 is Cauchy: CDF 1/2 + atan(x)/pi, shifted and scaled here.
        let t = StudentT::new(1.0, 1.0, 2.0).unwrap();
        assert_ks(
            draws(|r| t.sample(r), 9),
            |v| 0.5 + ((v - 1.0) / 2.0).atan() / PI,
            "t(1)",
        );
        // nu = 10: variance nu / (nu - 2).
        let t = StudentT::new(10.0, 0.0, 1.0).unwrap();
        assert_moments(&draws(|r| t.sample(r), 10), 0.0, 1.25, "t(10)");
    }

    #[test]
    fn normal_inverse_gamma() {
        let d = NormalInverseGamma::new(1.0, 2.0, 4.0, 3.0).unwrap();
        let mut rng = Rng::seed_from_u64(11);
        let pairs: Vec<(f64, f64)> = (0..N).map(|_| d.sample(&mut rng)).collect();
        let mu: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let s2: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        // sigma^2 ~ InvGamma(4, 3): mean 3/3 = 1, variance 9 / (9 * 2) = 0.5.
        assert_moments(&s2, 1.0, 0.5, "NIG sigma^2");
        // mu is Student-t(2 alpha) located at mu0: variance beta / ((alpha - 1) kappa) = 0.5.
        assert_moments(&mu, 1.0, 0.5, "NIG mu");
        // And its standardised marginal is t(8) with scale sqrt(beta / (alpha kappa)).
        let scale = (3.0f64 / (4.0 * 2.0)).sqrt();
        let t8 = StudentT::new(8.0, 1.0, scale).unwrap();
        let mut r2 = Rng::seed_from_u64(12);
        let reference: Vec<f64> = (0..N).map(|_| t8.sample(&mut r2)).collect();
        let (_, v_ref) = mean_var(&reference);
        let (_, v_mu) = mean_var(&mu);
        assert!((v_ref - v_mu).abs() < 0.05 * v_ref);
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Gamma::new(f64::NAN, 1.0).unwrap_err();
        assert!(e.to_string().contains("Gamma: parameter \"shape\""), "{e}");
        assert!(Beta::new(1.0, 0.0).is_err());
        assert!(Normal::new(0.0, -1.0).is_err());
        assert!(Uniform::new(1.0, 1.0).is_err());
        assert!(StudentT::new(f64::INFINITY, 0.0, 1.0).is_err());
        assert!(NormalInverseGamma::new(0.0, 1.0, 1.0, -2.0).is_err());
    }

    #[test]
    fn same_seed_same_draws() {
        let b = Beta::new(0.7, 1.3).unwrap();
        assert_eq!(
            draws(|r| b.sample(r), 99)[..50],
            draws(|r| b.sample(r), 99)[..50]
        );
    }
}
