//! Small dense linear algebra for the samplers: the symmetric eigendecomposition (cyclic
//! Jacobi) that CMA-ES runs once per generation, and the Cholesky factorisation (with
//! triangular solves and the log-determinant) that Gaussian-process models need.
//!
//! Matrices are `n x n`, stored row-major in a slice of `n * n` values: entry `(i, j)` is
//! `a[i * n + j]`. The functions check shapes and finiteness and return [`Error`] rather than
//! panic; they are written for the tens of dimensions a tuning study has (O(n^3) time, no
//! blocking), not for large matrices.

use super::Error;

/// The eigendecomposition `A = V diag(values) V^T` of a symmetric matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricEigen {
    /// The order `n`.
    pub n: usize,
    /// The eigenvalues, ascending.
    pub values: Vec<f64>,
    /// The orthonormal eigenvectors as the columns of a row-major `n x n` matrix: component
    /// `i` of the eigenvector of `values[j]` is `vectors[i * n + j]`.
    pub vectors: Vec<f64>,
}

/// Largest number of Jacobi sweeps; convergence is quadratic, so well-conditioned matrices
/// of tuning size need 5 to 10.
const MAX_SWEEPS: usize = 64;

fn check_square(what: &'static str, a: &[f64], n: usize) -> Result<(), Error> {
    let expected = n.checked_mul(n).ok_or(Error::Shape {
        what,
        expected: usize::MAX,
        got: a.len(),
    })?;
    if a.len() != expected {
        return Err(Error::Shape {
            what,
            expected,
            got: a.len(),
        });
    }
    if a.iter().any(|x| !x.is_finite()) {
        return Err(Error::NotFinite { what });
    }
    Ok(())
}

/// The eigendecomposition of the symmetric matrix `a` (`n x n`, row-major) by the cyclic
/// Jacobi method, accurate to a few ulps of the largest eigenvalue. Only the lower triangle
/// is read (the upper one is taken to mirror it). Errors when `a` does not have `n * n`
/// finite entries.
pub fn symmetric_eigen(a: &[f64], n: usize) -> Result<SymmetricEigen, Error> {
    check_square("symmetric_eigen: matrix", a, n)?;
    // Work on a symmetrised copy built from the lower triangle.
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            m[i * n + j] = a[i * n + j];
            m[j * n + i] = a[i * n + j];
        }
    }
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..MAX_SWEEPS {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += m[p * n + q] * m[p * n + q];
            }
        }
        // Off-diagonal mass (counted once) below (eps |A|_F)^2: the diagonal is exact to
        // rounding.
        if off <= f64::EPSILON * f64::EPSILON * total * 0.25 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                // The rotation that zeroes (p, q) (Rutishauser's stable form).
                let theta = (aqq - app) / (2.0 * apq);
                let t = if theta.is_finite() {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                } else {
                    // |theta| overflowed: apq is negligible next to the diagonal gap.
                    0.5 / theta
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    if k == p || k == q {
                        continue;
                    }
                    let (akp, akq) = (m[k * n + p], m[k * n + q]);
                    let new_p = c * akp - s * akq;
                    let new_q = s * akp + c * akq;
                    m[k * n + p] = new_p;
                    m[p * n + k] = new_p;
                    m[k * n + q] = new_q;
                    m[q * n + k] = new_q;
                }
                m[p * n + p] = app - t * apq;
                m[q * n + q] = aqq + t * apq;
                m[p * n + q] = 0.0;
                m[q * n + p] = 0.0;
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[i * n + i].total_cmp(&m[j * n + j]));
    let values = order.iter().map(|&j| m[j * n + j]).collect();
    let mut vectors = vec![0.0; n * n];
    for (to, &from) in order.iter().enumerate() {
        for i in 0..n {
            vectors[i * n + to] = v[i * n + from];
        }
    }
    Ok(SymmetricEigen { n, values, vectors })
}

/// The Cholesky factor `L` (lower triangular, row-major, zeros above the diagonal) with
/// `A = L L^T`, of the symmetric positive definite `a` (`n x n`, row-major; only the lower
/// triangle is read). Errors when `a` is not `n * n` finite values, or
/// [`Error::NotPositiveDefinite`] with the first pivot that is not positive (add jitter to the
/// diagonal and retry, as GP code usually does).
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, Error> {
    check_square("cholesky: matrix", a, n)?;
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(sum > 0.0 && sum.is_finite()) {
                    return Err(Error::NotPositiveDefinite {
                        pivot: i,
                        value: sum,
                    });
                }
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    Ok(l)
}

fn check_vector(what: &'static str, b: &[f64], n: usize) -> Result<(), Error> {
    if b.len() != n {
        return Err(Error::Shape {
            what,
            expected: n,
            got: b.len(),
        });
    }
    Ok(())
}

/// Solves `L x = b` for a lower-triangular `l` (`n x n`, row-major), by forward substitution.
pub fn solve_lower(l: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>, Error> {
    check_square("solve_lower: matrix", l, n)?;
    check_vector("solve_lower: right-hand side", b, n)?;
    let mut x = b.to_vec();
    for i in 0..n {
        let mut sum = x[i];
        for k in 0..i {
            sum -= l[i * n + k] * x[k];
        }
        x[i] = sum / l[i * n + i];
    }
    Ok(x)
}

/// Solves `L^T x = b` for a lower-triangular `l` (`n x n`, row-major), by back substitution.
pub fn solve_lower_transposed(l: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>, Error> {
    check_square("solve_lower_transposed: matrix", l, n)?;
    check_vector("solve_lower_transposed: right-hand side", b, n)?;
    let mut x = b.to_vec();
    for i in (0..n).rev() {
        let mut sum = x[i];
        for k in i + 1..n {
            sum -= l[k * n + i] * x[k];
        }
        x[i] = sum / l[i * n + i];
    }
    Ok(x)
}

/// Solves `A x = b` given the Cholesky factor `l` of `A` (from [`cholesky`]).
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>, Error> {
    let y = solve_lower(l, n, b)?;
    solve_lower_transposed(l, n, &y)
}

/// `ln det A` given the Cholesky factor `l` of `A` (twice the sum of the logs of its
/// diagonal); finite even where `det A` itself would underflow or overflow.
pub fn cholesky_log_det(l: &[f64], n: usize) -> Result<f64, Error> {
    check_square("cholesky_log_det: matrix", l, n)?;
    Ok(2.0 * (0..n).map(|i| l[i * n + i].ln()).sum::<f64>())
}

/// The dot product of `a` and `b` (over the shorter length), with four independent
/// accumulators so the compiler can vectorise it (the sum is therefore not left to right).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// [`cholesky`] of `a + jitter I`, retrying with a growing `jitter` when `a` is not
/// numerically positive definite (a kernel matrix with repeated points and little noise):
/// first without jitter, then `1e-10`, `1e-9`, ... up to `1e-10 * 10^(tries - 1)`, each
/// relative to the mean of the diagonal. Returns the factor and the jitter added (0 when
/// none was needed); the last error when every try fails or `a` is not finite. Uses the
/// vectorised [`dot`], so its rounding differs slightly from [`cholesky`].
pub fn cholesky_jittered(a: &[f64], n: usize, tries: usize) -> Result<(Vec<f64>, f64), Error> {
    check_square("cholesky_jittered: matrix", a, n)?;
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::NotFinite {
            what: "cholesky_jittered: matrix",
        });
    }
    let mean_diag = if n == 0 {
        1.0
    } else {
        (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n as f64
    };
    let base = if mean_diag > 0.0 { mean_diag } else { 1.0 };
    let mut l = vec![0.0; n * n];
    let mut last = Error::NotPositiveDefinite {
        pivot: 0,
        value: f64::NAN,
    };
    for attempt in 0..tries.max(1) {
        let jitter = if attempt == 0 {
            0.0
        } else {
            base * 1e-10 * 10f64.powi(attempt as i32 - 1)
        };
        match factor_into(a, n, jitter, &mut l) {
            Ok(()) => return Ok((l, jitter)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Cholesky of `a + jitter I` into `l` (which must hold `n * n` values); rows of `l` are
/// written left to right so each pivot's dot products read contiguous memory.
fn factor_into(a: &[f64], n: usize, jitter: f64, l: &mut [f64]) -> Result<(), Error> {
    l.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..n {
        for j in 0..=i {
            let (row_i, row_j) = (&l[i * n..i * n + j], &l[j * n..j * n + j]);
            let sum = a[i * n + j] - dot(row_i, row_j);
            if i == j {
                let d = sum + jitter;
                if !(d > 0.0 && d.is_finite()) {
                    return Err(Error::NotPositiveDefinite { pivot: i, value: d });
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    Ok(())
}

/// The inverse of the lower-triangular `l` (`n x n`, row-major, non-zero diagonal), itself
/// lower triangular. Row `i` is built as a combination of the rows before it, so the inner
/// loops run over contiguous memory.
pub fn lower_inverse(l: &[f64], n: usize) -> Result<Vec<f64>, Error> {
    check_square("lower_inverse: matrix", l, n)?;
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        let d = l[i * n + i];
        if !(d != 0.0 && d.is_finite()) {
            return Err(Error::NotPositiveDefinite { pivot: i, value: d });
        }
        let (done, rest) = inv.split_at_mut(i * n);
        let row = &mut rest[..n];
        for k in 0..i {
            let c = l[i * n + k];
            if c != 0.0 {
                let prev = &done[k * n..k * n + k + 1];
                for (r, p) in row[..=k].iter_mut().zip(prev) {
                    *r -= c * p;
                }
            }
        }
        for r in row[..i].iter_mut() {
            *r /= d;
        }
        row[i] = 1.0 / d;
    }
    Ok(inv)
}

/// `A^-1 = L^-T L^-1` (full and symmetric, `n x n`) from `l_inv`, the inverse of the
/// Cholesky factor of `A` ([`lower_inverse`] of [`cholesky`]), by rank-one updates along
/// the rows of `l_inv`.
pub fn inverse_from_lower_inverse(l_inv: &[f64], n: usize) -> Result<Vec<f64>, Error> {
    check_square("inverse_from_lower_inverse: matrix", l_inv, n)?;
    let mut out = vec![0.0; n * n];
    for k in 0..n {
        let row = &l_inv[k * n..k * n + k + 1];
        for (i, &ri) in row.iter().enumerate() {
            if ri != 0.0 {
                let dst = &mut out[i * n..i * n + i + 1];
                for (o, &rj) in dst.iter_mut().zip(row) {
                    *o += ri * rj;
                }
            }
        }
    }
    for i in 0..n {
        for j in 0..i {
            out[j * n + i] = out[i * n + j];
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Rng;

    fn random_symmetric(n: usize, rng: &mut Rng) -> Vec<f64> {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let x = 2.0 * rng.next_f64() - 1.0;
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        a
    }

    /// `B B^T + n I`: symmetric positive definite.
    fn random_spd(n: usize, rng: &mut Rng) -> Vec<f64> {
        let b: Vec<f64> = (0..n * n).map(|_| rng.next_f64() - 0.5).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>();
            }
            a[i * n + i] += n as f64 * 0.1;
        }
        a
    }

    fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, -1) and (1, 1) / sqrt 2.
        let e = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((e.values[0] - 1.0).abs() < 1e-14 && (e.values[1] - 3.0).abs() < 1e-14);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((e.vectors[0].abs() - h).abs() < 1e-14);
        assert!(
            (e.vectors[0] + e.vectors[2]).abs() < 1e-14,
            "{:?}",
            e.vectors
        );
        assert!(
            (e.vectors[1] - e.vectors[3]).abs() < 1e-14,
            "{:?}",
            e.vectors
        );
        // A diagonal matrix: its diagonal, sorted, and the identity permuted.
        let e = symmetric_eigen(&[5.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 2.0], 3).unwrap();
        assert_eq!(e.values, vec![-1.0, 2.0, 5.0]);
        assert_eq!(e.vectors[3], 1.0);
        assert_eq!(e.vectors[2], 1.0);
        // Sizes 0 and 1.
        assert!(symmetric_eigen(&[], 0).unwrap().values.is_empty());
        assert_eq!(symmetric_eigen(&[4.0], 1).unwrap().values, vec![4.0]);
    }

    #[test]
    fn eigen_reconstructs_random_matrices() {
        let mut rng = Rng::seed_from_u64(3);
        for n in [2, 3, 7, 10, 25] {
            let a = random_symmetric(n, &mut rng);
            let e = symmetric_eigen(&a, n).unwrap();
            let v = &e.vectors;
            let mut rebuilt = vec![0.0; n * n];
            let mut gram = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    rebuilt[i * n + j] = (0..n)
                        .map(|k| v[i * n + k] * e.values[k] * v[j * n + k])
                        .sum();
                    gram[i * n + j] = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                }
            }
            assert!(max_abs_diff(&rebuilt, &a) < 1e-12, "n {n}: A != V L V^T");
            let identity: Vec<f64> = (0..n * n)
                .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
                .collect();
            assert!(
                max_abs_diff(&gram, &identity) < 1e-12,
                "n {n}: V not orthonormal"
            );
            assert!(
                e.values.windows(2).all(|w| w[0] <= w[1]),
                "n {n}: not sorted"
            );
            // The trace is the sum of the eigenvalues.
            let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
            assert!((trace - e.values.iter().sum::<f64>()).abs() < 1e-12);
        }
    }

    #[test]
    fn eigen_handles_ill_conditioned_and_degenerate_matrices() {
        // Eigenvalues 1e-10, 1, 1e10 in a rotated basis, and a repeated eigenvalue.
        let n = 3;
        let (c, s) = (0.6f64, 0.8f64);
        let q = [c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0];
        for d in [[1e-10, 1.0, 1e10], [2.0, 2.0, 7.0]] {
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    a[i * n + j] = (0..n).map(|k| q[i * n + k] * d[k] * q[j * n + k]).sum();
                }
            }
            let e = symmetric_eigen(&a, n).unwrap();
            let mut want = d.to_vec();
            want.sort_by(f64::total_cmp);
            for (got, want) in e.values.iter().zip(&want) {
                assert!(
                    (got - want).abs() <= 1e-5 + 1e-12 * want.abs(),
                    "{got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn cholesky_factors_solves_and_gives_the_log_det() {
        let mut rng = Rng::seed_from_u64(11);
        for n in [1, 2, 5, 12] {
            let a = random_spd(n, &mut rng);
            let l = cholesky(&a, n).unwrap();
            for i in 0..n {
                for j in i + 1..n {
                    assert_eq!(l[i * n + j], 0.0);
                }
            }
            let mut llt = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    llt[i * n + j] = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                }
            }
            assert!(max_abs_diff(&llt, &a) < 1e-12);
            let b: Vec<f64> = (0..n).map(|i| i as f64 - 1.5).collect();
            let x = cholesky_solve(&l, n, &b).unwrap();
            let ax: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum())
                .collect();
            assert!(max_abs_diff(&ax, &b) < 1e-10, "n {n}: A x != b");
            // log det from the eigenvalues.
            let e = symmetric_eigen(&a, n).unwrap();
            let want: f64 = e.values.iter().map(|v| v.ln()).sum();
            assert!((cholesky_log_det(&l, n).unwrap() - want).abs() < 1e-10);
        }
        // 2x2 by hand: [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt 2]].
        let l = cholesky(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        assert_eq!(l[0], 2.0);
        assert_eq!(l[2], 1.0);
        assert!((l[3] - 2f64.sqrt()).abs() < 1e-15);
        assert!((cholesky_log_det(&l, 2).unwrap() - 8f64.ln()).abs() < 1e-14);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            cholesky(&[1.0, 2.0, 2.0, 1.0], 2),
            Err(Error::NotPositiveDefinite { pivot: 1, .. })
        ));
        assert!(matches!(
            cholesky(&[0.0], 1),
            Err(Error::NotPositiveDefinite { pivot: 0, .. })
        ));
        assert!(matches!(
            cholesky(&[1.0, 2.0, 3.0], 2),
            Err(Error::Shape {
                expected: 4,
                got: 3,
                ..
            })
        ));
        assert!(matches!(
            symmetric_eigen(&[1.0, f64::NAN, f64::NAN, 1.0], 2),
            Err(Error::NotFinite { .. })
        ));
        let l = cholesky(&[4.0, 0.0, 0.0, 9.0], 2).unwrap();
        assert!(matches!(
            cholesky_solve(&l, 2, &[1.0]),
            Err(Error::Shape {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert_eq!(cholesky_solve(&l, 2, &[4.0, 9.0]).unwrap(), vec![1.0, 1.0]);
    }
    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f64> = (0..11).map(|i| i as f64 * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..11).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - want).abs() < 1e-14);
        assert_eq!(
            dot(&a[..3], &b),
            a[..3].iter().zip(&b).map(|(x, y)| x * y).sum::<f64>()
        );
        assert_eq!(dot(&[], &[1.0]), 0.0);
    }

    #[test]
    fn jittered_cholesky_recovers_singular_matrices() {
        let mut rng = Rng::seed_from_u64(5);
        // A positive definite matrix needs no jitter and matches the plain factor.
        let a = random_spd(6, &mut rng);
        let (l, jitter) = cholesky_jittered(&a, 6, 5).unwrap();
        assert_eq!(jitter, 0.0);
        assert!(max_abs_diff(&l, &cholesky(&a, 6).unwrap()) < 1e-12);
        // All-ones (rank one: identical points of a kernel) fails plainly, then succeeds.
        let n = 5;
        let ones = vec![1.0; n * n];
        assert!(cholesky(&ones, n).is_err());
        let (l, jitter) = cholesky_jittered(&ones, n, 8).unwrap();
        assert!(jitter > 0.0 && jitter <= 1e-3, "jitter {jitter}");
        let mut llt = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                llt[i * n + j] = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
            }
        }
        assert!(max_abs_diff(&llt, &ones) <= 2.0 * jitter);
        // Hopeless input (negative definite) errors after the retries, never panics.
        assert!(matches!(
            cholesky_jittered(&[-1.0, 0.0, 0.0, -1.0], 2, 4),
            Err(Error::NotPositiveDefinite { .. })
        ));
        assert!(matches!(
            cholesky_jittered(&[f64::NAN], 1, 4),
            Err(Error::NotFinite { .. })
        ));
    }

    #[test]
    fn inverses_from_the_cholesky_factor() {
        let mut rng = Rng::seed_from_u64(8);
        for n in [1, 3, 9, 20] {
            let a = random_spd(n, &mut rng);
            let l = cholesky(&a, n).unwrap();
            let l_inv = lower_inverse(&l, n).unwrap();
            for i in 0..n {
                for j in 0..n {
                    let v: f64 = (0..n).map(|k| l[i * n + k] * l_inv[k * n + j]).sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((v - want).abs() < 1e-12, "n {n}: L L^-1 at {i},{j} is {v}");
                    if j > i {
                        assert_eq!(l_inv[i * n + j], 0.0);
                    }
                }
            }
            let inv = inverse_from_lower_inverse(&l_inv, n).unwrap();
            for i in 0..n {
                for j in 0..n {
                    let v: f64 = (0..n).map(|k| a[i * n + k] * inv[k * n + j]).sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((v - want).abs() < 1e-10, "n {n}: A A^-1 at {i},{j} is {v}");
                }
            }
        }
        assert!(matches!(
            lower_inverse(&[1.0, 0.0, 2.0, 0.0], 2),
            Err(Error::NotPositiveDefinite { pivot: 1, .. })
        ));
    }
}
