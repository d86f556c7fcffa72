//! Log-densities of a mixture of axis-aligned Gaussian kernels at a batch of points: the
//! inner loop of a Tree-structured Parzen Estimator, which scores its candidates under two
//! mixtures of one kernel per past trial on every ask.
//!
//! The work is split in two steps so the caller can add terms of its own (categorical
//! dimensions, exact cell masses) between them:
//!
//! * [`quadratic_terms`] writes, for every point and kernel, the kernel's log weight minus
//!   its quadratic form. Each kernel's parameters are read once for the whole batch (eight
//!   kernels to a vector register, the points broadcast), so a batch of 24 candidates reads
//!   the model once instead of 24 times.
//! * [`log_sum_exp`] folds one point's row into `log sum_k e^{t_k}`, leaving out the kernels
//!   more than e^-40 below the largest, with a single-precision `exp` written here (no libm
//!   call, so it vectorises sixteen to a register): the sum is accurate to about 3e-6
//!   relative, which is all ranking candidates by their density ratio needs.
//!
//! Both use only IEEE operations in a fixed order, fused multiply-adds where written
//! (`mul_add`: one FMA instruction on the AVX2 and AVX-512 paths, libm's correctly rounded
//! `fma` on the baseline one): every path returns bit-identical results, so seeded searches
//! replay the same on every x86-64 CPU (CPUs without FMA, from before 2013, are slower).

/// Kernels per step (one AVX-512 register of `f64`, two AVX2 ones).
const LANES: usize = 8;

/// Points scored together by [`quadratic_terms`].
const GROUP: usize = 4;

/// Lanes of [`log_sum_exp`]'s sum (four vectors' worth).
const WIDE: usize = 4 * LANES;

/// Terms this far below a row's largest are left out of [`log_sum_exp`]: together they
/// change the sum by less than `n * 4.3e-18` of it.
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
/// `out[c * k + j] = base[j] - sum_d half[d * k + j] * (xs[c * dims + d] - mus[d * k + j])^2`,
/// the dimensions subtracted one after the other in order (`t = fma(-(h * dx), dx, t)`).
/// `mus` and `half` are dimension-major (`dims` rows of `k`), `xs` point-major.
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
    quadratic_terms_checked(base, mus, half, xs, dims, out);
    Ok(())
}

/// The body of [`quadratic_terms`] once the shapes are known to fit (slicing still checks
/// every access).
#[inline(always)]
fn quadratic_terms_impl(
    base: &[f64],
    mus: &[f64],
    half: &[f64],
    xs: &[f64],
    dims: usize,
    out: &mut [f64],
) {
    let k = base.len();
    if k == 0 {
        return;
    }
    let full = k - k % LANES;
    let points = out.len() / k;
    // GROUP (4) points at a time: four independent chains of fused multiply-adds (one alone
    // would wait on each one's latency), and each kernel row loaded once for the four.
    let quads = points - points % GROUP;
    for j0 in (0..full).step_by(LANES) {
        for c in (0..quads).step_by(GROUP) {
            let x = &xs[c * dims..(c + GROUP) * dims];
            let mut t = [[0.0; LANES]; GROUP];
            for tq in &mut t {
                tq.copy_from_slice(&base[j0..j0 + LANES]);
            }
            for d in 0..dims {
                let m = &mus[d * k + j0..d * k + j0 + LANES];
                let h = &half[d * k + j0..d * k + j0 + LANES];
                for (q, tq) in t.iter_mut().enumerate() {
                    let xd = x[q * dims + d];
                    for l in 0..LANES {
                        let dx = xd - m[l];
                        tq[l] = (-(h[l] * dx)).mul_add(dx, tq[l]);
                    }
                }
            }
            for (q, tq) in t.iter().enumerate() {
                out[(c + q) * k + j0..(c + q) * k + j0 + LANES].copy_from_slice(tq);
            }
        }
        for c in quads..points {
            let x = &xs[c * dims..(c + 1) * dims];
            let mut t = [0.0; LANES];
            t.copy_from_slice(&base[j0..j0 + LANES]);
            for (d, &xd) in x.iter().enumerate() {
                let m = &mus[d * k + j0..d * k + j0 + LANES];
                let h = &half[d * k + j0..d * k + j0 + LANES];
                for l in 0..LANES {
                    let dx = xd - m[l];
                    t[l] = (-(h[l] * dx)).mul_add(dx, t[l]);
                }
            }
            out[c * k + j0..c * k + j0 + LANES].copy_from_slice(&t);
        }
    }
    for j in full..k {
        for c in 0..points {
            let mut t = base[j];
            for d in 0..dims {
                let dx = xs[c * dims + d] - mus[d * k + j];
                t = (-(half[d * k + j] * dx)).mul_add(dx, t);
            }
            out[c * k + j] = t;
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

/// `ln(sum_j e^{row[j]})`, leaving out the terms more than [`CUTOFF`] below the largest
/// (NaN terms are left out too); -inf for an empty row or one of -inf only. Each e^d in
/// single precision (the sum to about 3e-6 relative); the sum runs in fixed lanes added in
/// a fixed order, the same on every CPU.
#[inline(always)]
fn log_sum_exp_impl(row: &[f64]) -> f64 {
    let mut lanes = [f64::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            lanes[l] = if c[l] > lanes[l] { c[l] } else { lanes[l] };
        }
    }
    // The last partial chunk padded with -inf (which every step leaves out), so it too runs
    // as a vector.
    let mut pad = [f64::NEG_INFINITY; LANES];
    pad[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    for l in 0..LANES {
        lanes[l] = if pad[l] > lanes[l] { pad[l] } else { lanes[l] };
    }
    let max = lanes
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    if !max.is_finite() {
        return max;
    }
    // Four vectors' worth of lanes: four independent chains through the exp polynomial.
    let mut acc = [0.0; WIDE];
    let mut chunks = row.chunks_exact(WIDE);
    for c in &mut chunks {
        for l in 0..WIDE {
            let d = c[l] - max;
            let e = exp_f32(d) as f64;
            acc[l] += if d > CUTOFF { e } else { 0.0 };
        }
    }
    let mut eights = chunks.remainder().chunks(LANES);
    for c in &mut eights {
        pad = [f64::NEG_INFINITY; LANES];
        pad[..c.len()].copy_from_slice(c);
        for l in 0..LANES {
            let d = pad[l] - max;
            let e = exp_f32(d) as f64;
            acc[l] += if d > CUTOFF { e } else { 0.0 };
        }
    }
    let mut lanes = [0.0; LANES];
    for part in acc.chunks_exact(LANES) {
        for l in 0..LANES {
            lanes[l] += part[l];
        }
    }
    let sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    max + sum.ln()
}

/// [`log_sum_exp`] of each `k`-wide row of `terms`, into `out` (one call for a batch).
#[inline(always)]
fn log_sum_exp_rows_impl(terms: &[f64], k: usize, out: &mut [f64]) {
    if k == 0 {
        out.fill(f64::NEG_INFINITY);
        return;
    }
    for (o, row) in out.iter_mut().zip(terms.chunks_exact(k)) {
        *o = log_sum_exp_impl(row);
    }
}

dispatched! {
    /// [`quadratic_terms`] after its checks.
    fn quadratic_terms_checked / quadratic_terms_impl(base: &[f64], mus: &[f64], half: &[f64], xs: &[f64], dims: usize, out: &mut [f64]);
    /// `ln(sum_j e^{row[j]})` over the terms within e^-40 ([`CUTOFF`]) of the largest (NaN
    /// terms left out), to about 3e-6 relative in the sum; -inf for an empty row.
    /// Bit-identical on every CPU.
    fn log_sum_exp / log_sum_exp_impl(row: &[f64]) -> f64;
    /// [`log_sum_exp`] of each `k`-wide row of `terms` into `out` (as many as both hold;
    /// all -inf when `k` is 0).
    fn log_sum_exp_rows / log_sum_exp_rows_impl(terms: &[f64], k: usize, out: &mut [f64]);
    /// [`ln`] of every value in place (positive normal numbers; anything else gives an
    /// unspecified value, never a panic). Bit-identical on every CPU.
    fn ln_in_place / ln_in_place_impl(xs: &mut [f64]);
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
                out[c * k + j] = t;
            }
        }
        out
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
            let base: Vec<f64> = (0..k).map(|_| -3.0 * pseudo(&mut s)).collect();
            let mus: Vec<f64> = (0..k * dims).map(|_| 10.0 * pseudo(&mut s) - 5.0).collect();
            let half: Vec<f64> = (0..k * dims).map(|_| 0.1 + pseudo(&mut s)).collect();
            let xs: Vec<f64> = (0..points * dims)
                .map(|_| 10.0 * pseudo(&mut s) - 5.0)
                .collect();
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
            quadratic_terms_impl(&base, &mus, &half, &xs, dims, &mut portable);
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
        let base: Vec<f64> = (0..k).map(|_| -3.0 * pseudo(&mut s)).collect();
        let mus: Vec<f64> = (0..k * dims).map(|_| 10.0 * pseudo(&mut s) - 5.0).collect();
        let half: Vec<f64> = (0..k * dims).map(|_| 0.1 + pseudo(&mut s)).collect();
        let xs: Vec<f64> = (0..points * dims)
            .map(|_| 10.0 * pseudo(&mut s) - 5.0)
            .collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut want = vec![0.0; points * k];
        quadratic_terms_impl(&base, &mus, &half, &xs, dims, &mut want);
        let mut want_lse = vec![0.0; points];
        log_sum_exp_rows_impl(&want, k, &mut want_lse);
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
                    x86::quadratic_terms_checked::v3(&base, &mus, &half, &xs, dims, &mut got);
                    x86::log_sum_exp_rows::v3(&got, k, &mut lse);
                    x86::ln_in_place::v3(&mut lns);
                } else {
                    x86::quadratic_terms_checked::v4(&base, &mus, &half, &xs, dims, &mut got);
                    x86::log_sum_exp_rows::v4(&got, k, &mut lse);
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
        for n in [1, 2, 7, 8, 9, 100, 1001] {
            let row: Vec<f64> = (0..n).map(|_| -60.0 * pseudo(&mut s) + 5.0).collect();
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let naive = max
                + row
                    .iter()
                    .filter(|v| **v - max > CUTOFF)
                    .map(|v| (v - max).exp())
                    .sum::<f64>()
                    .ln();
            let got = log_sum_exp(&row);
            // Single-precision exps: the sum to about 3e-6 relative.
            assert!((got - naive).abs() < 3e-6, "n {n}: {got} vs {naive}");
            assert_eq!(
                got.to_bits(),
                log_sum_exp_impl(&row).to_bits(),
                "same on every path"
            );
        }
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
        // NaN terms are left out; a single finite term is returned exactly.
        assert_eq!(log_sum_exp(&[f64::NAN, -2.5, f64::NAN]), -2.5);
    }
}
