#![allow(clippy::unwrap_used, reason = "bench")]
use gaia_kernels::{matmul, MatMut, MatRef};
fn main() {
    for &(m, k, n) in &[
        (1000usize, 384usize, 1152usize),
        (1000, 384, 1536),
        (1000, 1536, 384),
        (30, 32, 30),
        (30, 384, 1152),
    ] {
        let a = vec![0.5f32; m * k];
        let b = vec![0.25f32; k * n];
        let mut c = vec![0.0f32; m * n];
        let reps = (2e9 / (2.0 * (m * k * n) as f64)).max(1.0) as usize;
        let t = std::time::Instant::now();
        for _ in 0..reps {
            matmul(
                MatMut {
                    data: &mut c,
                    rows: m,
                    cols: n,
                    row_stride: n,
                },
                MatRef::row_major(&a, m, k),
                MatRef::row_major(&b, k, n),
                false,
                1.0,
            )
            .unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{m}x{k}x{n}: {:.1} GFLOP/s ({:.1} us/call)",
            2.0 * (m * k * n * reps) as f64 / s / 1e9,
            s / reps as f64 * 1e6
        );
        let t = std::time::Instant::now();
        for _ in 0..reps {
            let bt = MatRef {
                data: &b,
                rows: k,
                cols: n,
                row_stride: 1,
                col_stride: k,
            };
            matmul(
                MatMut {
                    data: &mut c,
                    rows: m,
                    cols: n,
                    row_stride: n,
                },
                MatRef::row_major(&a, m, k),
                bt,
                false,
                1.0,
            )
            .unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "  transposed rhs: {:.1} GFLOP/s",
            2.0 * (m * k * n * reps) as f64 / s / 1e9
        );
    }
}
