//! Cosine and dot similarity of vectors and of matrices.

use gaia_kernels::{matmul, MatMut, MatRef};

use super::Error;

/// Dot product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    gaia_kernels::dot(a, b)
}

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot(a, b) / (na * nb)
    }
}

/// Scales `v` to unit length (as PyTorch's `F.normalize`: divides by max(norm, 1e-12)).
pub fn normalize(v: &mut [f32]) {
    let n = dot(v, v).sqrt().max(1e-12);
    for x in v.iter_mut() {
        *x /= n;
    }
}

/// Which similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Cosine similarity.
    Cosine,
    /// Plain dot product.
    Dot,
}

fn rows(what: &'static str, m: &[f32], dim: usize) -> Result<usize, Error> {
    if dim == 0 {
        return Err(Error::InvalidArgument(
            "similarity: dim must be positive".into(),
        ));
    }
    if !m.len().is_multiple_of(dim) {
        return Err(Error::Dimension {
            what,
            expected: dim,
            got: m.len() % dim,
        });
    }
    if let Some(i) = m.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "similarity: {what} holds a non-finite value at element {i}"
        )));
    }
    Ok(m.len() / dim)
}

/// The `na x nb` similarities of the rows of `a` (`na x dim`) with the rows of `b`
/// (`nb x dim`), row-major into `out`; one matrix product.
pub fn matrix(
    kind: Kind,
    a: &[f32],
    b: &[f32],
    dim: usize,
    out: &mut [f32],
) -> Result<(usize, usize), Error> {
    let (na, nb) = (rows("a", a, dim)?, rows("b", b, dim)?);
    let need = na * nb;
    if out.len() < need {
        return Err(Error::BufferTooSmall {
            need,
            got: out.len(),
            what: format!("{na} x {nb} similarities"),
        });
    }
    let (an, bn);
    let (a, b) = match kind {
        Kind::Dot => (a, b),
        Kind::Cosine => {
            let unit = |m: &[f32]| -> Vec<f32> {
                let mut m = m.to_vec();
                for r in m.chunks_exact_mut(dim) {
                    if dot(r, r) > 0.0 {
                        normalize(r);
                    }
                }
                m
            };
            an = unit(a);
            bn = unit(b);
            (an.as_slice(), bn.as_slice())
        }
    };
    let bt = MatRef {
        data: b,
        rows: dim,
        cols: nb,
        row_stride: 1,
        col_stride: dim,
    };
    matmul(
        MatMut {
            data: &mut out[..need],
            rows: na,
            cols: nb,
            row_stride: nb,
            col_stride: 1,
        },
        MatRef::row_major(a, na, dim),
        bt,
        false,
        1.0,
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    Ok((na, nb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_and_matrices_agree() {
        let a = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let b = [2.0, 0.0, 0.0, 0.0, 3.0, 0.0];
        assert!((cosine(&a[..3], &b[..3]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&a[..3], &[0.0; 3]), 0.0);
        let mut out = [0.0; 4];
        assert_eq!(matrix(Kind::Cosine, &a, &b, 3, &mut out).unwrap(), (2, 2));
        let want = [1.0, 0.0, cosine(&a[3..], &b[..3]), cosine(&a[3..], &b[3..])];
        for (g, w) in out.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{out:?}");
        }
        matrix(Kind::Dot, &a, &b, 3, &mut out).unwrap();
        assert_eq!(out, [2.0, 0.0, 2.0, 3.0]);
        assert!(matches!(
            matrix(Kind::Dot, &a, &b[..5], 3, &mut out),
            Err(Error::Dimension { .. })
        ));
        assert!(matches!(
            matrix(Kind::Dot, &a, &b, 3, &mut out[..3]),
            Err(Error::BufferTooSmall { .. })
        ));
        assert!(matrix(Kind::Dot, &[f32::NAN, 0.0, 0.0], &b, 3, &mut out).is_err());
    }
}
