//! Special functions the engines share: the complementary error function (a fast fit and
//! a scaled, tail-accurate form) and the log of the normal CDF.

/// Complementary error function, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    if z > 27.0 {
        // exp(-z^2) underflows: skip the slow subnormal path.
        return if x > 0.0 { 0.0 } else { 2.0 };
    }
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The standard normal CDF, `erfc(-x / sqrt 2) / 2` (same accuracy as [`erfc`]).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// erfc(x) exp(x^2) for `x >= 0`, to about 1e-13 relative: the Taylor series of erf below
/// 2, Laplace's continued fraction above.
pub fn erfcx(x: f64) -> f64 {
    const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
    if x < 2.0 {
        let x2 = x * x;
        let (mut term, mut sum) = (x, x);
        for k in 1..80 {
            term *= -x2 / k as f64;
            let add = term / (2 * k + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        (1.0 - FRAC_2_SQRT_PI * sum) * x2.exp()
    } else {
        let mut t = x;
        for k in (1..=80).rev() {
            t = x + (k as f64 * 0.5) / t;
        }
        FRAC_2_SQRT_PI * 0.5 / t
    }
}

/// ln Phi(z), the log of the standard normal CDF, accurate far into both tails.
pub fn log_ndtr(z: f64) -> f64 {
    let w = z.abs() * std::f64::consts::FRAC_1_SQRT_2;
    if z < 0.0 {
        -w * w + (0.5 * erfcx(w)).ln()
    } else {
        (-0.5 * erfcx(w) * (-w * w).exp()).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_is_accurate() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_1),
            (-1.0, 1.842_700_792_949_715),
            (3.0, 2.209_049_699_858_544e-5),
        ] {
            assert!(
                (erfc(x) - want).abs() < 2e-7 * want.max(1e-3),
                "erfc({x}) = {} want {want}",
                erfc(x)
            );
        }
    }

    #[test]
    fn erfcx_and_log_ndtr_are_accurate() {
        // erfc(x) from Python's math.erfc, as erfcx = erfc exp(x^2).
        for (x, erfc) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.5, 0.033_894_853_524_689_274),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (6.0, 2.151_973_671_249_891_3e-17),
        ] {
            let want = erfc * f64::exp(x * x);
            assert!(
                (erfcx(x) - want).abs() < 1e-12 * want,
                "erfcx({x}) = {} want {want}",
                erfcx(x)
            );
        }
        // Far tail: erfcx(x) ~ 1 / (x sqrt pi).
        assert!((erfcx(1e6) * 1e6 * std::f64::consts::PI.sqrt() - 1.0).abs() < 1e-11);
        // ln Phi: the middle, and the tail where Phi underflows.
        assert!((log_ndtr(0.0) - 0.5f64.ln()).abs() < 1e-15);
        assert!((log_ndtr(1.0) - 0.841_344_746_068_542_9f64.ln()).abs() < 1e-14);
        let far = log_ndtr(-40.0);
        let asymptotic = -800.0 - 0.5 * (2.0 * std::f64::consts::PI).ln() - 40f64.ln();
        assert!((far - asymptotic).abs() < 1e-3, "{far} vs {asymptotic}");
    }
}
