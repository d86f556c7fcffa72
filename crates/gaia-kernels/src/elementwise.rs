//! Element-wise maths of a transformer encoder: GELU (erf and tanh forms), exp, softmax,
//! layer normalisation. Each is a straight loop the compiler vectorises, compiled three
//! times (baseline, AVX2+FMA, AVX-512) and dispatched on the CPU at run time.

/// erf(x) as a rational function of x on [-4, 4] (erf is +-1 to f32 precision beyond),
/// max error about 2 ulp; only multiplies, adds and one division, so loops vectorise.
/// The coefficients are those of the well-known single-precision fit used by Eigen and
/// XLA.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_3e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_600_2e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329_4e-3;
    q = x2 * q + -1.426_473_9e-2;
    p / q
}

/// e^x for x in f32's range (flushes to 0 below about -87.3), relative error about 1e-7:
/// x = n ln2 + r, e^r by a degree-6 polynomial, 2^n built in the exponent bits.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    exp_in_range(x.clamp(-87.3, 88.3))
}

/// [`exp`] for x already in [-87.3, 88.3]: multiplies, adds and integer bit operations
/// only, so it vectorises in any surrounding loop.
#[inline(always)]
pub(crate) fn exp_in_range(x: f32) -> f32 {
    // Round to nearest by the 1.5 * 2^23 trick: no libm call, vectorises.
    const MAGIC: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    // ln 2 split in two (Cody-Waite) so n * C1 is exact.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    // n sits in the low bits of `shifted`; 2^n is (n + 127) << 23.
    let n_bits = shifted.to_bits().wrapping_sub(MAGIC.to_bits());
    er * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// GELU with erf, as PyTorch's default `gelu`: 0.5 x (1 + erf(x / sqrt 2)).
#[inline(always)]
fn gelu_erf_impl(xs: &mut [f32]) {
    for x in xs {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// GELU with tanh (`gelu_new`, `gelu_pytorch_tanh`).
#[inline(always)]
fn gelu_tanh_impl(xs: &mut [f32]) {
    const C: f32 = 0.797_884_6; // sqrt(2 / pi)
    for x in xs {
        let u = C * (*x + 0.044_715 * *x * *x * *x);
        // tanh(u) = 1 - 2 / (e^{2u} + 1)
        let t = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
        *x = 0.5 * *x * (1.0 + t);
    }
}

/// max(x, 0).
#[inline(always)]
fn relu_impl(xs: &mut [f32]) {
    for x in xs {
        *x = x.max(0.0);
    }
}

/// Softmax of one row in place, scaled by `scale` first.
/// Sum of `xs` in 16 independent lanes (a vector register's worth), so the loop vectorises
/// without reassociating floating-point additions behind the compiler's back.
#[inline(always)]
fn lane_sum(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            acc[l] += f(c[l]);
        }
    }
    let mut s = 0.0;
    for &v in chunks.remainder() {
        s += f(v);
    }
    acc.iter().sum::<f32>() + s
}

#[inline(always)]
fn lane_max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for l in 0..16 {
            acc[l] = if c[l] > acc[l] { c[l] } else { acc[l] };
        }
    }
    let mut m = f32::NEG_INFINITY;
    for &v in chunks.remainder().iter().chain(acc.iter()) {
        m = if v > m { v } else { m };
    }
    m
}

/// Softmax of one row in place, scaled by `scale` first.
#[inline(always)]
fn softmax_scaled_impl(row: &mut [f32], scale: f32) {
    let max = lane_max(row);
    for v in row.iter_mut() {
        *v = exp((*v - max) * scale);
    }
    let inv = 1.0 / lane_sum(row, |v| v);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// Layer normalisation of every `gamma.len()`-wide row of `x` in place.
#[inline(always)]
fn layer_norm_impl(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = gamma.len();
    for row in x.chunks_exact_mut(h) {
        let mean = lane_sum(row, |v| v) / h as f32;
        let var = lane_sum(row, |v| (v - mean) * (v - mean)) / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// `x = LN(x + y)` row by row: the residual add fused into the normalisation.
#[inline(always)]
fn add_layer_norm_impl(x: &mut [f32], y: &[f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = gamma.len();
    for (row, add) in x.chunks_exact_mut(h).zip(y.chunks_exact(h)) {
        for (v, a) in row.iter_mut().zip(add) {
            *v += a;
        }
    }
    layer_norm_impl(x, gamma, beta, eps);
}

dispatched! {
    /// GELU with erf, as PyTorch's default `gelu`: 0.5 x (1 + erf(x / sqrt 2)), in place.
    fn gelu_erf / gelu_erf_impl(xs: &mut [f32]);
    /// GELU with tanh (`gelu_new`, `gelu_pytorch_tanh`), in place.
    fn gelu_tanh / gelu_tanh_impl(xs: &mut [f32]);
    /// max(x, 0) in place.
    fn relu / relu_impl(xs: &mut [f32]);
    /// Softmax of one row in place, scaled by `scale` first.
    fn softmax_scaled / softmax_scaled_impl(row: &mut [f32], scale: f32);
    /// Layer normalisation of every `gamma.len()`-wide row of `x` in place.
    fn layer_norm / layer_norm_impl(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32);
    /// `x = LN(x + y)` row by row (residual add and layer normalisation in one pass over x).
    fn add_layer_norm / add_layer_norm_impl(x: &mut [f32], y: &[f32], gamma: &[f32], beta: &[f32], eps: f32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf in f64 by its Taylor series (exact enough for |x| <= 4).
    fn erf64(x: f64) -> f64 {
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        while term.abs() > 1e-17 * sum.abs().max(1e-300) || n < 5.0 {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
            if n > 200.0 {
                break;
            }
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_and_exp_are_accurate() {
        let mut worst = 0.0f64;
        for i in -6000..=6000 {
            let x = i as f32 / 1000.0;
            let want = if x.abs() > 4.0 {
                x.signum() as f64
            } else {
                erf64(x as f64)
            };
            worst = worst.max((erf(x) as f64 - want).abs());
        }
        assert!(worst < 5e-7, "erf max error {worst}");
        let mut worst = 0.0f64;
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let want = (x as f64).exp();
            worst = worst.max(((exp(x) as f64 - want) / want).abs());
        }
        assert!(worst < 5e-7, "exp max relative error {worst}");
        assert_eq!(exp(-200.0), exp(-87.3));
    }

    #[test]
    fn softmax_and_layer_norm() {
        let mut row = vec![1.0, 2.0, 3.0];
        softmax_scaled(&mut row, 1.0);
        let z: f32 = [1.0f32, 2.0, 3.0].iter().map(|v| v.exp()).sum();
        for (got, v) in row.iter().zip([1.0f32, 2.0, 3.0]) {
            assert!((got - v.exp() / z).abs() < 1e-6);
        }
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        layer_norm(&mut x, &[1.0, 1.0], &[0.5, 0.5], 1e-12);
        assert!(
            (x[0] + 0.5).abs() < 1e-5 && (x[1] - 1.5).abs() < 1e-5 && (x[2] + 0.5).abs() < 1e-5
        );
        let mut y = vec![0.0, 1.0, 3.0, 2.0];
        add_layer_norm(
            &mut y,
            &[1.0, 1.0, 0.0, 2.0],
            &[1.0, 1.0],
            &[0.5, 0.5],
            1e-12,
        );
        assert!(y.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-5), "{y:?}");
        // The dispatched and the baseline GELU agree.
        let mut a: Vec<f32> = (-300..300).map(|i| i as f32 / 50.0).collect();
        let mut b = a.clone();
        gelu_erf(&mut a);
        gelu_erf_impl(&mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6));
    }
}
