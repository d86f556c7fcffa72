//! Log-densities of a mixture of axis-aligned Gaussian kernels at a batch of points: the
//! inner loop of a Tree-structured Parzen Estimator, which scores its candidates under two
//! mixtures of one kernel per past trial on every ask.
//!
//! The work is split in two steps so the caller can add terms of its own (categorical
//! dimensions, exact cell masses) between them:
//!
//! * [`quadratic_terms`] writes, for every kernel and point, the kernel's log weight minus
//!   its quadratic form, kernel-major. Each kernel's parameters are read once for the whole
//!   batch (eight points to a vector register, the kernel's centre and width broadcast), so
//!   a batch of 24 candidates reads the model once instead of 24 times.
//! * [`log_sum_exp_columns`] folds each point's column into `log sum_k e^{t_k}`, leaving out
//!   the kernels more than e^-40 below the largest, eight points at a time (no horizontal
//!   reductions, so small models cost little), with a single-precision `exp` written here
//!   (no libm call, so it vectorises): the sum is accurate to about 3e-6 relative, which is
//!   all ranking candidates by their density ratio needs.
//!
//! Both use only IEEE operations in a fixed order, fused multiply-adds where written
//! (`mul_add`: one FMA instruction on the AVX2 and AVX-512 paths, libm's correctly rounded
//! `fma` on the baseline one): every path returns bit-identical results, so seeded searches
//! replay the same on every x86-64 CPU (CPUs without FMA, from before 2013, are slower).

/// Points per step (one AVX-512 register of `f64`, two AVX2 ones).
const LANES: usize = 8;

/// Terms this far below a point's largest are left out of [`log_sum_exp_columns`]:
/// together they change the sum by less than `n * 4.3e-18` of it.
pub const CUTOFF: f64 = -40.0;

/// The arguments of [`quadratic_terms`] do not fit together; the message says how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}

/// For `k = base.len()` kernels over `dims` dimensions and `points` points, writes
/// `out[j * points + c] = base[j] - sum_d half[d * k + j] * (xs[c * dims + d] - mus[d * k + j])^2`
/// (kernel-major: one row of every point per kernel), the dimensions taken one after the
/// other in order (`t = fma(-(h * dx), dx, t)`). `mus` and `half` are dimension-major
/// (`dims` rows of `k`), `xs` point-major.
pub fn quadratic_terms(
    base: &[f64],
    mus: &[f64],
    half: &[f64],
    xs: &[f64],
    dims: usize,
    points: usize,
    out: &mut [f64],
) -> Result<(), ShapeError> {
    let k = base.len();
    let want = |what: &str, got: usize, need: Option<usize>| match need {
        Some(n) if n == got => Ok(()),
        Some(n) => Err(ShapeError(format!(
            "{what} holds {got} values, expected {n}"
        ))),
        None => Err(ShapeError(format!("{what}: size overflows"))),
    };
    want("mus", mus.len(), dims.checked_mul(k))?;
    want("half", half.len(), dims.checked_mul(k))?;
    want("xs", xs.len(), dims.checked_mul(points))?;
    want("out", out.len(), points.checked_mul(k))?;
    if k == 0 || points == 0 {
        return Ok(());
    }
    quadratic_terms_checked(base, mus, half, &by_dim(xs, dims, points), dims, out);
    Ok(())
}

/// Point-major `xs` (`points` rows of `dims`) laid out dimension-major, so eight points of
/// one dimension fill a vector register.
fn by_dim(xs: &[f64], dims: usize, points: usize) -> Vec<f64> {
    let mut out = vec![0.0; dims * points];
    for (c, x) in xs.chunks_exact(dims.max(1)).enumerate().take(points) {
        for (d, &v) in x.iter().enumerate() {
            out[d * points + c] = v;
        }
    }
    out
}

/// The body of [`quadratic_terms`] once the shapes are known to fit (slicing still checks
/// every access); `by_dim[d * points + c]` is point c's value in dimension d.
#[inline(always)]
fn quadratic_terms_impl(
    base: &[f64],
    mus: &[f64],
    half: &[f64],
    by_dim: &[f64],
    dims: usize,
    out: &mut [f64],
) {
    let k = base.len();
    if k == 0 {
        return;
    }
    let points = out.len() / k;
    let full = points - points % LANES;
    // Eight points by four kernels at a time: four independent chains of fused
    // multiply-adds (one alone would wait on each one's latency), the points loaded once for
    // the four.
    let quads = k - k % 4;
    for c0 in (0..full).step_by(LANES) {
        for j0 in (0..quads).step_by(4) {
            let mut t = [[0.0; LANES]; 4];
            for (q, tq) in t.iter_mut().enumerate() {
                *tq = [base[j0 + q]; LANES];
            }
            for d in 0..dims {
                let x = &by_dim[d * points + c0..d * points + c0 + LANES];
                for (q, tq) in t.iter_mut().enumerate() {
                    let (m, h) = (mus[d * k + j0 + q], half[d * k + j0 + q]);
                    for l in 0..LANES {
                        let dx = x[l] - m;
                        tq[l] = (-(h * dx)).mul_add(dx, tq[l]);
                    }
                }
            }
            for (q, tq) in t.iter().enumerate() {
                let at = (j0 + q) * points + c0;
                out[at..at + LANES].copy_from_slice(tq);
            }
        }
        for j in quads..k {
            let mut t = [base[j]; LANES];
            for d in 0..dims {
                let x = &by_dim[d * points + c0..d * points + c0 + LANES];
                let (m, h) = (mus[d * k + j], half[d * k + j]);
                for l in 0..LANES {
                    let dx = x[l] - m;
                    t[l] = (-(h * dx)).mul_add(dx, t[l]);
                }
            }
            out[j * points + c0..j * points + c0 + LANES].copy_from_slice(&t);
        }
    }
    for c in full..points {
        for (j, &b) in base.iter().enumerate() {
            let mut t = b;
            for d in 0..dims {
                let dx = by_dim[d * points + c] - mus[d * k + j];
                t = (-(half[d * k + j] * dx)).mul_add(dx, t);
            }
            out[j * points + c] = t;
        }
    }
}

/// ln(x) for positive normal x (0, subnormals and negatives give garbage: callers keep to
/// positive normal numbers), relative error about 1e-16: x = 2^e m with m in
/// [sqrt(1/2), sqrt(2)), ln m = 2 atanh(z) with z = (m - 1) / (m + 1) by its odd series to
/// z^23, plus e ln 2. Integer bit operations, multiplies, adds and one division: it
/// vectorises.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    // ln 2 split so e * LN2_HI is exact (LN2_HI has 32 significant bits).
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    let bits = x.to_bits();
    // Shift the mantissa's range to [sqrt(1/2), sqrt(2)): subtract the bits of sqrt(1/2)
    // before taking the exponent.
    const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
    let shifted = bits.wrapping_sub(SQRT_HALF_BITS);
    let e = (shifted as i64 >> 52) as f64;
    let m = f64::from_bits(bits.wrapping_sub(shifted & 0xfff0_0000_0000_0000));
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    // 1 / (2k + 1) for k = 11 down to 1.
    const C: [f64; 11] = [
        1.0 / 23.0,
        1.0 / 21.0,
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
    ];
    let mut p = C[0];
    for c in &C[1..] {
        p = p * z2 + c;
    }
    let lnm = 2.0 * z + 2.0 * z * (z2 * p);
    (e * LN2_LO + lnm) + e * LN2_HI
}

/// e^d for d in [-700, 700] (clamped there), relative error under 1e-14: d = n ln 2 + r
/// (ln 2 in two parts so `n * LN2_HI` is exact), e^r by its Taylor polynomial of degree 11
/// (|r| <= 0.347), 2^n put in the exponent bits. Plain multiplies and adds, so it
/// vectorises.
#[inline(always)]
fn exp_f64(d: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52: adding it rounds to an integer.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    #[allow(
        clippy::manual_clamp,
        reason = "max then min maps NaN to -700; clamp would keep NaN"
    )]
    let d = d.max(-700.0).min(700.0);
    let shifted = d * std::f64::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = (d - n * LN2_HI) - n * LN2_LO;
    // 1/k! for k = 11 down to 2.
    const C: [f64; 10] = [
        2.505_210_838_544_172e-8,
        2.755_731_922_398_589e-7,
        2.755_731_922_398_589_3e-6,
        2.480_158_730_158_73e-5,
        1.984_126_984_126_984e-4,
        1.388_888_888_888_889e-3,
        8.333_333_333_333_333e-3,
        4.166_666_666_666_666_4e-2,
        1.666_666_666_666_666_6e-1,
        0.5,
    ];
    let mut p = C[0];
    for c in &C[1..] {
        p = p * r + c;
    }
    let er = (p * r) * r + r + 1.0;
    // The integer n sits in the low bits of `shifted`; 2^n is (n + 1023) << 52.
    let n_bits = shifted.to_bits().wrapping_sub(MAGIC.to_bits());
    er * f64::from_bits(n_bits.wrapping_add(1023) << 52)
}

/// The standard normal CDF by Numerical Recipes' Chebyshev fit of erfc (relative error
/// under 1.2e-7, as `gaia_core::stats::erfc`), branch-free so it vectorises.
#[inline(always)]
fn normal_cdf(x: f64) -> f64 {
    let v = -x * std::f64::consts::FRAC_1_SQRT_2;
    let z = v.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * exp_f64(-z * z + poly);
    let erfc = if v >= 0.0 { r } else { 2.0 - r };
    0.5 * erfc
}

/// The mass of each kernel `N(mus[j], sigmas[j])` inside `[low, high]`, at least 1e-300,
/// into `out` (over the common length).
#[inline(always)]
fn kernel_masses_impl(mus: &[f64], sigmas: &[f64], low: f64, high: f64, out: &mut [f64]) {
    for ((o, &m), &s) in out.iter_mut().zip(mus).zip(sigmas) {
        let mass = normal_cdf((high - m) / s) - normal_cdf((low - m) / s);
        *o = if mass > 1e-300 { mass } else { 1e-300 };
    }
}

/// One dimension's share of each kernel's normaliser, branch-free: for a kernel of width
/// `s`, unless `s < narrow_below` (a kernel scored by exact cell mass, which has none of
/// it), `factors *= s * inv_range`, `corr += ln_range` and `half = 1 / (2 s^2)`; narrow
/// kernels get `half = 0`. Over the common length of the slices.
#[inline(always)]
fn kernel_scales_impl(
    sigmas: &[f64],
    inv_range: f64,
    ln_range: f64,
    narrow_below: f64,
    factors: &mut [f64],
    corr: &mut [f64],
    half: &mut [f64],
) {
    for (((f, c), h), &s) in factors
        .iter_mut()
        .zip(corr.iter_mut())
        .zip(half.iter_mut())
        .zip(sigmas)
    {
        let narrow = s < narrow_below;
        let hs = 0.5 / (s * s);
        *f *= if narrow { 1.0 } else { s * inv_range };
        *c += if narrow { 0.0 } else { ln_range };
        *h = if narrow { 0.0 } else { hs };
    }
}

/// [`ln`] of every value in place.
#[inline(always)]
fn ln_in_place_impl(xs: &mut [f64]) {
    for x in xs {
        *x = ln(*x);
    }
}

/// e^d in single precision for d <= 0 (clamped to [-87, 0]; NaN gives e^-87), relative
/// error 1e-7 near 0 growing to 2.4e-6 at -40 (d is rounded to single precision first):
/// what a log-sum-exp needs of terms it only adds. Multiplies, adds and
/// integer bit operations only, so it vectorises sixteen to a register.
#[inline(always)]
fn exp_f32(d: f64) -> f32 {
    #[allow(
        clippy::manual_clamp,
        reason = "max then min maps NaN to -87 (left out by the caller); clamp would keep NaN"
    )]
    let x = (d as f32).max(-87.0).min(0.0);
    crate::elementwise::exp_in_range(x)
}

/// For each point c of kernel-major `terms` (`terms[j * points + c]`, as
/// [`quadratic_terms`] writes them), `ln(sum_j e^{terms[j * points + c]})` into `out[c]`,
/// leaving out the terms more than [`CUTOFF`] below the point's largest (and NaN terms);
/// -inf for a point whose terms are all -inf. Eight points to a vector: no horizontal
/// reductions; each e^d in single precision (the sum to about 3e-6 relative); every point's
/// sum runs over the kernels in order in two interleaved halves (even and odd kernels,
/// added last), the same on every CPU.
#[inline(always)]
fn log_sum_exp_columns_impl(terms: &[f64], points: usize, out: &mut [f64]) {
    if points == 0 {
        return;
    }
    let k = terms.len() / points;
    let full = points - points % LANES;
    for c0 in (0..full).step_by(LANES) {
        let sums = lane_log_sum_exp(k, |j| {
            let mut v = [0.0; LANES];
            v.copy_from_slice(&terms[j * points + c0..j * points + c0 + LANES]);
            v
        });
        for (o, v) in out.iter_mut().skip(c0).zip(sums) {
            *o = v;
        }
    }
    if full < points {
        // The last few points, padded with -inf (left out of every step).
        let width = points - full;
        let sums = lane_log_sum_exp(k, |j| {
            let mut v = [f64::NEG_INFINITY; LANES];
            v[..width].copy_from_slice(&terms[j * points + full..j * points + points]);
            v
        });
        for (o, v) in out.iter_mut().skip(full).zip(&sums[..width]) {
            *o = *v;
        }
    }
}

/// The log-sum-exp of eight columns over `k` kernels, `column(j)` giving kernel j's eight
/// terms: the largest per lane, then the exps of the terms within [`CUTOFF`] of it summed
/// over even and odd kernels apart (two chains), added last.
#[inline(always)]
fn lane_log_sum_exp(k: usize, column: impl Fn(usize) -> [f64; LANES]) -> [f64; LANES] {
    let mut max = [f64::NEG_INFINITY; LANES];
    for j in 0..k {
        let v = column(j);
        for l in 0..LANES {
            max[l] = if v[l] > max[l] { v[l] } else { max[l] };
        }
    }
    let mut even = [0.0; LANES];
    let mut odd = [0.0; LANES];
    let mut j = 0;
    while j + 1 < k {
        let (v, w) = (column(j), column(j + 1));
        for l in 0..LANES {
            let d = v[l] - max[l];
            let e = exp_f32(d) as f64;
            even[l] += if d > CUTOFF { e } else { 0.0 };
            let d = w[l] - max[l];
            let e = exp_f32(d) as f64;
            odd[l] += if d > CUTOFF { e } else { 0.0 };
        }
        j += 2;
    }
    if j < k {
        let v = column(j);
        for l in 0..LANES {
            let d = v[l] - max[l];
            let e = exp_f32(d) as f64;
            even[l] += if d > CUTOFF { e } else { 0.0 };
        }
    }
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        out[l] = if max[l].is_finite() {
            max[l] + ln(even[l] + odd[l])
        } else {
            max[l]
        };
    }
    out
}

dispatched! {
    /// [`quadratic_terms`] after its checks, on the points laid out dimension-major.
    fn quadratic_terms_checked / quadratic_terms_impl(base: &[f64], mus: &[f64], half: &[f64], by_dim: &[f64], dims: usize, out: &mut [f64]);
    /// For each point c of kernel-major `terms` (`terms[j * points + c]`, as
    /// [`quadratic_terms`] writes them), `ln(sum_j e^{terms[j * points + c]})` into `out[c]`
    /// over the terms within e^-40 ([`CUTOFF`]) of the point's largest (NaN terms left
    /// out), to about 3e-6 relative in the sum; -inf for a point whose terms are all -inf.
    /// `out` must hold `points` values (extra ones are left alone, missing ones not
    /// written). Bit-identical on every CPU.
    fn log_sum_exp_columns / log_sum_exp_columns_impl(terms: &[f64], points: usize, out: &mut [f64]);
    /// [`ln`] of every value in place (positive normal numbers; anything else gives an
    /// unspecified value, never a panic). Bit-identical on every CPU.
    fn ln_in_place / ln_in_place_impl(xs: &mut [f64]);
    /// The mass of each kernel `N(mus[j], sigmas[j])` inside `[low, high]` (Numerical
    /// Recipes' erfc fit, 1.2e-7 relative), at least 1e-300, into `out` (over the common
    /// length). Bit-identical on every CPU.
    fn kernel_masses / kernel_masses_impl(mus: &[f64], sigmas: &[f64], low: f64, high: f64, out: &mut [f64]);
    /// One dimension's share of each kernel's normaliser (see the body's docs): for each
    /// kernel of width `s` not under `narrow_below`, `factors *= s * inv_range`,
    /// `corr += ln_range`, `half = 1 / (2 s^2)`; `half = 0` for the others. Over the
    /// common length of the slices; bit-identical on every CPU.
    fn kernel_scales / kernel_scales_impl(sigmas: &[f64], inv_range: f64, ln_range: f64, narrow_below: f64, factors: &mut [f64], corr: &mut [f64], half: &mut [f64]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_is_accurate() {
        let mut worst: f64 = 0.0;
        let mut xs: Vec<f64> = (0..100_000)
            .map(|i| 10f64.powf(-300.0 + 600.0 * i as f64 / 100_000.0))
            .collect();
        xs.extend([
            1.0,
            2.0,
            0.5,
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::SQRT_2,
            1e-200,
        ]);
        let mut got = xs.clone();
        ln_in_place(&mut got);
        for (x, g) in xs.iter().zip(&got) {
            let want = x.ln();
            let err = (g - want).abs() / want.abs().max(1.0);
            worst = worst.max(err);
        }
        assert!(worst < 4e-16, "worst error {worst}");
        assert_eq!(ln(1.0), 0.0);
        let mut portable = xs.clone();
        ln_in_place_impl(&mut portable);
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn exp_f64_and_masses_are_accurate() {
        let mut worst: f64 = 0.0;
        for i in 0..=100_000 {
            let d = -60.0 + 70.0 * i as f64 / 100_000.0;
            worst = worst.max((exp_f64(d) - d.exp()).abs() / d.exp());
        }
        assert!(worst < 1e-14, "exp: worst relative error {worst}");
        // Masses against the erf series, for kernels inside, across and beyond the bounds.
        let mus = [0.0, 0.9, -3.0, 0.5, 5.0, 0.0];
        let sigmas = [1.0, 0.1, 1.0, 10.0, 0.5, 1e-3];
        let mut got = [0.0; 6];
        kernel_masses(&mus, &sigmas, -1.0, 1.0, &mut got);
        for ((m, s), g) in mus.iter().zip(&sigmas).zip(&got) {
            let phi = |x: f64| 0.5 * erfc_ref(-x / std::f64::consts::SQRT_2);
            let want = (phi((1.0 - m) / s) - phi((-1.0 - m) / s)).max(1e-300);
            // The fit's error (1.2e-7 of erfc) in each of the two CDFs: absolute for a mass
            // of moderate size, relative for a tiny one (both CDFs tiny).
            let tol = 3e-7 * want + if want > 1e-3 { 2.5e-7 } else { 0.0 };
            assert!((g - want).abs() <= tol, "mu {m} sigma {s}: {g} vs {want}");
        }
        let mut portable = [0.0; 6];
        kernel_masses_impl(&mus, &sigmas, -1.0, 1.0, &mut portable);
        assert_eq!(got.map(f64::to_bits), portable.map(f64::to_bits));
    }

    /// erfc by the Taylor series of erf below 2 in magnitude, by Laplace's continued
    /// fraction above (so tiny values keep their relative precision).
    fn erfc_ref(x: f64) -> f64 {
        let a = x.abs();
        if a < 2.0 {
            let (mut term, mut sum) = (x, x);
            for k in 1..100 {
                term *= -x * x / k as f64;
                sum += term / (2 * k + 1) as f64;
            }
            return 1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI;
        }
        let mut t = a;
        for k in (1..=80).rev() {
            t = a + (k as f64 * 0.5) / t;
        }
        let tail = (-a * a).exp() * std::f64::consts::FRAC_2_SQRT_PI * 0.5 / t;
        if x > 0.0 {
            tail
        } else {
            2.0 - tail
        }
    }

    #[test]
    fn exp_f32_is_accurate_enough() {
        let mut worst: f64 = 0.0;
        for i in 0..=100_000 {
            let d = -40.0 * i as f64 / 100_000.0;
            worst = worst.max((exp_f32(d) as f64 - d.exp()).abs() / d.exp());
        }
        // d itself is rounded to single precision first: 2.4e-6 at d = -40.
        assert!(worst < 3e-6, "worst relative error {worst}");
        assert_eq!(exp_f32(0.0), 1.0);
    }

    /// The scalar definition, term by term.
    fn terms_plain(base: &[f64], mus: &[f64], half: &[f64], xs: &[f64], dims: usize) -> Vec<f64> {
        let k = base.len();
        let points = xs.len() / dims.max(1);
        let mut out = vec![0.0; points * k];
        for c in 0..points {
            for j in 0..k {
                let mut t = base[j];
                for d in 0..dims {
                    let dx = xs[c * dims + d] - mus[d * k + j];
                    t = (-(half[d * k + j] * dx)).mul_add(dx, t);
                }
                out[j * points + c] = t;
            }
        }
        out
    }

    /// A random model of `k` kernels over `dims` dimensions and `points` points in
    /// [-5, 5]: (base, mus, half, xs).
    #[allow(clippy::type_complexity, reason = "a test fixture's four arrays")]
    fn random_model(
        s: &mut u64,
        k: usize,
        dims: usize,
        points: usize,
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let base: Vec<f64> = (0..k).map(|_| -3.0 * pseudo(s)).collect();
        let mus: Vec<f64> = (0..k * dims).map(|_| 10.0 * pseudo(s) - 5.0).collect();
        let half: Vec<f64> = (0..k * dims).map(|_| 0.1 + pseudo(s)).collect();
        let xs: Vec<f64> = (0..points * dims).map(|_| 10.0 * pseudo(s) - 5.0).collect();
        (base, mus, half, xs)
    }

    fn pseudo(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn terms_match_the_definition_bit_for_bit() {
        let mut s = 7;
        for (k, dims, points) in [
            (0, 3, 2),
            (1, 1, 1),
            (7, 2, 3),
            (8, 5, 24),
            (29, 5, 24),
            (1001, 3, 5),
        ] {
            let (base, mus, half, xs) = random_model(&mut s, k, dims, points);
            let mut out = vec![f64::NAN; points * k];
            quadratic_terms(&base, &mus, &half, &xs, dims, points, &mut out).unwrap();
            let want = terms_plain(&base, &mus, &half, &xs, dims);
            assert_eq!(
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "k {k} dims {dims} points {points}"
            );
            // The portable build gives the same bits as the dispatched one.
            let mut portable = vec![f64::NAN; points * k];
            quadratic_terms_impl(
                &base,
                &mus,
                &half,
                &by_dim(&xs, dims, points),
                dims,
                &mut portable,
            );
            assert_eq!(
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    /// Every compiled path this CPU can run gives the portable path's bits.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn every_path_gives_the_same_bits() {
        let mut s = 11;
        let (k, dims, points) = (203, 5, 24);
        let (base, mus, half, xs) = random_model(&mut s, k, dims, points);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut want = vec![0.0; points * k];
        let xt = by_dim(&xs, dims, points);
        quadratic_terms_impl(&base, &mus, &half, &xt, dims, &mut want);
        let mut want_lse = vec![0.0; points];
        log_sum_exp_columns_impl(&want, points, &mut want_lse);
        let mut want_ln: Vec<f64> = half.clone();
        ln_in_place_impl(&mut want_ln);
        let mut paths = Vec::new();
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            paths.push("v3");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            paths.push("v4");
        }
        for path in paths {
            let mut got = vec![0.0; points * k];
            let mut lse = vec![0.0; points];
            let mut lns = half.clone();
            // SAFETY: the CPU has the features of `path` (checked above).
            unsafe {
                if path == "v3" {
                    x86::quadratic_terms_checked::v3(&base, &mus, &half, &xt, dims, &mut got);
                    x86::log_sum_exp_columns::v3(&got, points, &mut lse);
                    x86::ln_in_place::v3(&mut lns);
                } else {
                    x86::quadratic_terms_checked::v4(&base, &mus, &half, &xt, dims, &mut got);
                    x86::log_sum_exp_columns::v4(&got, points, &mut lse);
                    x86::ln_in_place::v4(&mut lns);
                }
            }
            assert_eq!(bits(&got), bits(&want), "{path} terms");
            assert_eq!(bits(&lse), bits(&want_lse), "{path} log-sum-exp");
            assert_eq!(bits(&lns), bits(&want_ln), "{path} ln");
        }
    }

    #[test]
    fn wrong_shapes_are_refused() {
        let mut out = vec![0.0; 4];
        let e = quadratic_terms(&[0.0; 2], &[0.0; 3], &[0.0; 4], &[0.0; 4], 2, 2, &mut out)
            .unwrap_err();
        assert!(e.0.contains("mus holds 3 values, expected 4"), "{e}");
        let e = quadratic_terms(
            &[0.0; 2],
            &[0.0; 4],
            &[0.0; 4],
            &[0.0; 4],
            2,
            2,
            &mut out[..3],
        )
        .unwrap_err();
        assert!(e.0.contains("out holds 3"), "{e}");
        let e = quadratic_terms(&[0.0; 2], &[0.0; 4], &[0.0; 4], &[0.0; 3], 2, 2, &mut out)
            .unwrap_err();
        assert!(e.0.contains("xs holds 3"), "{e}");
    }

    #[test]
    fn log_sum_exp_matches_the_naive_sum() {
        let mut s = 3;
        for (k, points) in [(1, 1), (2, 3), (7, 8), (9, 11), (100, 24), (1001, 5)] {
            let terms: Vec<f64> = (0..k * points)
                .map(|_| -60.0 * pseudo(&mut s) + 5.0)
                .collect();
            let mut got = vec![f64::NAN; points];
            log_sum_exp_columns(&terms, points, &mut got);
            for (c, g) in got.iter().enumerate() {
                let column: Vec<f64> = (0..k).map(|j| terms[j * points + c]).collect();
                let max = column.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let naive = max
                    + column
                        .iter()
                        .filter(|v| **v - max > CUTOFF)
                        .map(|v| (v - max).exp())
                        .sum::<f64>()
                        .ln();
                // Single-precision exps: the sum to about 3e-6 relative.
                assert!((g - naive).abs() < 3e-6, "k {k} point {c}: {g} vs {naive}");
            }
            let mut portable = vec![f64::NAN; points];
            log_sum_exp_columns_impl(&terms, points, &mut portable);
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
        // Two points: one all -inf, one with NaN terms (left out; a single finite term is
        // returned exactly).
        let terms = [
            f64::NEG_INFINITY,
            f64::NAN,
            f64::NEG_INFINITY,
            -2.5,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut got = [0.0; 2];
        log_sum_exp_columns(&terms, 2, &mut got);
        assert_eq!(got, [f64::NEG_INFINITY, -2.5]);
        // No kernels: every point -inf; a short `out` is filled as far as it goes.
        let mut got = [0.0; 3];
        log_sum_exp_columns(&[], 3, &mut got);
        assert_eq!(got, [f64::NEG_INFINITY; 3]);
        let mut short = [0.0; 1];
        log_sum_exp_columns(&[1.0, 2.0, 3.0, 4.0], 2, &mut short);
        assert!((short[0] - (1.0f64.exp() + 3.0f64.exp()).ln()).abs() < 1e-5);
    }
}
