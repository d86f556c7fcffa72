//! Strided matrix views and a checked GEMM over them.

use std::fmt;

/// A read-only `rows x cols` matrix inside a slice: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The backing slice.
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows, in elements.
    pub row_stride: usize,
    /// Distance between consecutive columns, in elements.
    pub col_stride: usize,
}

/// A writable `rows x cols` matrix inside a slice: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]` (`col_stride` 1 for row-major).
#[derive(Debug)]
pub struct MatMut<'a> {
    /// The backing slice.
    pub data: &'a mut [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows, in elements.
    pub row_stride: usize,
    /// Distance between consecutive columns, in elements.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major view of `data` (`row_stride = cols`, `col_stride = 1`).
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }
}

/// A view or product whose shapes do not fit: a programming error in the caller, reported
/// instead of touching memory out of bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewError(pub String);

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ViewError {}

/// The largest index a `rows x cols` view with these strides touches, or `None` when the
/// view is empty.
fn last_index(rows: usize, cols: usize, rs: usize, cs: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return None;
    }
    (rows - 1)
        .checked_mul(rs)?
        .checked_add((cols - 1).checked_mul(cs)?)
}

fn check(
    name: &str,
    len: usize,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
) -> Result<(), ViewError> {
    let fits = match last_index(rows, cols, rs, cs) {
        None => rows == 0 || cols == 0,
        Some(last) => last < len,
    };
    // Stride products that overflow `isize` cannot be passed to the kernel.
    if fits
        && rs <= isize::MAX as usize
        && cs <= isize::MAX as usize
        && (rows <= 1 || cols <= 1 || (rs != 0 && cs != 0))
    {
        Ok(())
    } else {
        Err(ViewError(format!(
            "{name}: a {rows}x{cols} view with strides ({rs}, {cs}) does not fit in {len} elements"
        )))
    }
}

/// `dst = beta * lhs * rhs` (or `dst += beta * lhs * rhs` when `accumulate`), computed on
/// the calling thread.
///
/// `dst` must be `lhs.rows x rhs.cols` and `lhs.cols == rhs.rows`; every view must lie
/// inside its slice. Nothing is written when a check fails.
pub fn matmul(
    dst: MatMut<'_>,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
    beta: f32,
) -> Result<(), ViewError> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    if rhs.rows != k || dst.rows != m || dst.cols != n {
        return Err(ViewError(format!(
            "matmul shapes: dst {}x{}, lhs {}x{}, rhs {}x{}",
            dst.rows, dst.cols, lhs.rows, lhs.cols, rhs.rows, rhs.cols
        )));
    }
    check("dst", dst.data.len(), m, n, dst.row_stride, dst.col_stride)?;
    check("lhs", lhs.data.len(), m, k, lhs.row_stride, lhs.col_stride)?;
    check("rhs", rhs.data.len(), k, n, rhs.row_stride, rhs.col_stride)?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    dst.data[i * dst.row_stride + j * dst.col_stride] = 0.0;
                }
            }
        }
        return Ok(());
    }
    // SAFETY: every index the kernel reads or writes is `(i, j) -> i * rs + j * cs` for
    // i < rows, j < cols of the matching view, and `check` proved the largest such index is
    // inside each slice; all strides fit in `isize`. `dst` is an exclusive borrow, so it
    // cannot alias `lhs` or `rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            dst.col_stride as isize,
            dst.row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            beta,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_the_naive_product_and_accumulates() {
        let (m, k, n) = (7, 33, 5);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.25 - 1.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.5 - 1.5).collect();
        let want = naive(&a, &b, m, k, n);
        let mut c = vec![1.0; m * n];
        let dst = MatMut {
            data: &mut c,
            rows: m,
            cols: n,
            row_stride: n,
            col_stride: 1,
        };
        matmul(
            dst,
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&b, k, n),
            true,
            2.0,
        )
        .unwrap();
        for (got, w) in c.iter().zip(&want) {
            assert!((got - (1.0 + 2.0 * w)).abs() < 1e-3, "{got} vs {w}");
        }
        // The transposed view of b^T gives the same product.
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let rhs = MatRef {
            data: &bt,
            rows: k,
            cols: n,
            row_stride: 1,
            col_stride: k,
        };
        let mut c2 = vec![0.0; m * n];
        let dst = MatMut {
            data: &mut c2,
            rows: m,
            cols: n,
            row_stride: n,
            col_stride: 1,
        };
        matmul(dst, MatRef::row_major(&a, m, k), rhs, false, 1.0).unwrap();
        for (got, w) in c2.iter().zip(&want) {
            assert!((got - w).abs() < 1e-3);
        }
    }

    #[test]
    fn refuses_views_outside_their_slices() {
        let a = vec![0.0; 6];
        let b = vec![0.0; 6];
        let mut c = vec![7.0; 3];
        let dst = MatMut {
            data: &mut c,
            rows: 2,
            cols: 2,
            row_stride: 2,
            col_stride: 1,
        };
        let err = matmul(
            dst,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&b, 3, 2),
            false,
            1.0,
        )
        .unwrap_err();
        assert!(err.0.contains("dst"), "{err}");
        assert_eq!(c, vec![7.0; 3]);
        let mut c = vec![0.0; 4];
        let dst = MatMut {
            data: &mut c,
            rows: 2,
            cols: 2,
            row_stride: 2,
            col_stride: 1,
        };
        assert!(matmul(
            dst,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&b, 2, 2),
            false,
            1.0
        )
        .is_err());
    }
}
