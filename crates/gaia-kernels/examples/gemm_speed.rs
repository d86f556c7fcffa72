#![allow(clippy::unwrap_used, reason = "bench")]
//! GEMM throughput of the shapes the BERT encoder runs, in the layouts it could use.
use gaia_kernels::{matmul, MatMut, MatRef};
fn run(name: &str, flops: f64, mut f: impl FnMut()) {
    let reps = (3e9 / flops).max(3.0) as usize;
    f();
    let t = std::time::Instant::now();
    for _ in 0..reps {
        f();
    }
    let s = t.elapsed().as_secs_f64();
    println!("  {name}: {:.1} GFLOP/s", flops * reps as f64 / s / 1e9);
}
fn main() {
    for &(t, k, n) in &[
        (37usize, 384usize, 1536usize),
        (37, 1536, 384),
        (600, 384, 1536),
        (600, 1536, 384),
    ] {
        println!("tokens {t}, in {k}, out {n}");
        let x = vec![0.5f32; t * k];
        let w = vec![0.25f32; n * k]; // out x in, row-major (PyTorch)
        let wt = vec![0.25f32; k * n]; // in x out, row-major
        let mut c = vec![0.0f32; t * n];
        let fl = 2.0 * (t * k * n) as f64;
        run("x . W^T (W as stored)", fl, || {
            matmul(
                MatMut {
                    data: &mut c,
                    rows: t,
                    cols: n,
                    row_stride: n,
                    col_stride: 1,
                },
                MatRef::row_major(&x, t, k),
                MatRef {
                    data: &w,
                    rows: k,
                    cols: n,
                    row_stride: 1,
                    col_stride: k,
                },
                true,
                1.0,
            )
            .unwrap()
        });
        run("(W x^T)^T", fl, || {
            matmul(
                MatMut {
                    data: &mut c,
                    rows: n,
                    cols: t,
                    row_stride: 1,
                    col_stride: n,
                },
                MatRef {
                    data: &w,
                    rows: n,
                    cols: k,
                    row_stride: k,
                    col_stride: 1,
                },
                MatRef {
                    data: &x,
                    rows: k,
                    cols: t,
                    row_stride: 1,
                    col_stride: k,
                },
                true,
                1.0,
            )
            .unwrap()
        });
        run("x . Wt (W transposed at load)", fl, || {
            matmul(
                MatMut {
                    data: &mut c,
                    rows: t,
                    cols: n,
                    row_stride: n,
                    col_stride: 1,
                },
                MatRef::row_major(&x, t, k),
                MatRef::row_major(&wt, k, n),
                true,
                1.0,
            )
            .unwrap()
        });
        run("(Wt^T x^T)^T, Wt col-major lhs", fl, || {
            matmul(
                MatMut {
                    data: &mut c,
                    rows: n,
                    cols: t,
                    row_stride: 1,
                    col_stride: n,
                },
                MatRef {
                    data: &wt,
                    rows: n,
                    cols: k,
                    row_stride: 1,
                    col_stride: n,
                },
                MatRef {
                    data: &x,
                    rows: k,
                    cols: t,
                    row_stride: 1,
                    col_stride: k,
                },
                true,
                1.0,
            )
            .unwrap()
        });
    }
}
