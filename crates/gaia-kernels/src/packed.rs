//! Linear layers (`y = x W + b`) whose weights are packed once, at load time, into the
//! layout the micro-kernel reads.
//!
//! A transformer runs the same few weight matrices for every input, often over a handful of
//! rows (one short sentence is ~40 tokens). A general GEMM repacks or strides through the
//! weights on every call; here they are stored as panels of [`PANEL`] output columns, each
//! panel `in_dim` rows of [`PANEL`] contiguous floats, 64-byte aligned, so one product walks
//! every weight exactly once, front to back, and the hardware prefetcher sees one stream.
//!
//! The micro-kernel keeps a tile of up to 12 rows x 32 columns in 24 AVX-512 registers
//! (6 x 16 in 12 AVX2 registers) for the whole inner dimension, starting from the bias.
//! Paths are picked on the CPU at run time; they differ only in the last bits (the vector
//! paths fuse each multiply-add, the portable one does not).

use crate::ViewError;

/// Output columns per packed panel: two AVX-512 or four AVX2 vectors.
pub const PANEL: usize = 32;

/// Floats per 64-byte cache line (the packed weights start on a line).
const LINE: usize = 16;

/// A `Linear` layer's weight and bias, packed for [`PackedLinear::forward`].
pub struct PackedLinear {
    /// `LINE`-float aligned storage; the packed panels start at `offset`.
    store: Vec<f32>,
    offset: usize,
    /// The bias, zero-padded to whole panels.
    bias: Vec<f32>,
    in_dim: usize,
    out_dim: usize,
}

impl std::fmt::Debug for PackedLinear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedLinear")
            .field("in_dim", &self.in_dim)
            .field("out_dim", &self.out_dim)
            .finish_non_exhaustive()
    }
}

/// The instruction set a product runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Path {
    fn detect() -> Path {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Path::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Path::Avx2;
            }
        }
        Path::Portable
    }

    /// The paths this CPU can run (for tests).
    #[cfg(test)]
    fn available() -> Vec<Path> {
        let mut all = vec![Path::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                all.push(Path::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Path::Avx512);
            }
        }
        all
    }

    /// Rows per register tile.
    fn tile_rows(self) -> usize {
        match self {
            Path::Portable => 4,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => 6,
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => 12,
        }
    }
}

/// Runs `f` inside a process-wide pool of `threads` worker threads (made on first use and
/// kept), so the products it runs with `threads > 1` split across warm workers instead of
/// waking a pool from outside for every product. `threads <= 1` runs `f` right here.
///
/// Pools belong to the process that made them: a child forked after one was made (a
/// PHP-FPM worker forked from a master that preloaded and embedded) gets pools of its own,
/// since the parent's worker threads do not exist in it.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Pools = HashMap<(u32, usize), &'static rayon::ThreadPool>;
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    if threads <= 1 {
        return f();
    }
    let key = (std::process::id(), threads);
    let pool = {
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match pools.get(&key) {
            Some(p) => Some(*p),
            None => rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("gaia-infer-{i}"))
                .build()
                .ok()
                .map(|p| *pools.entry(key).or_insert(Box::leak(Box::new(p)))),
        }
    };
    match pool {
        Some(p) => p.install(f),
        // No threads to be had: the work still runs, on this thread.
        None => f(),
    }
}

/// A raw output pointer that threads share; each writes its own columns.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: the pointer is only used to write disjoint column ranges of one exclusively
// borrowed slice, and the scope that shares it ends before the borrow does.
unsafe impl Send for OutPtr {}
// SAFETY: as above.
unsafe impl Sync for OutPtr {}

impl PackedLinear {
    /// Packs a PyTorch `Linear` layer: `weight` is `out_dim x in_dim`, row-major (the
    /// layout safetensors checkpoints store), `bias` has `out_dim` values.
    pub fn from_torch(
        weight: &[f32],
        bias: &[f32],
        out_dim: usize,
        in_dim: usize,
    ) -> Result<PackedLinear, ViewError> {
        if out_dim == 0 || in_dim == 0 {
            return Err(ViewError(format!(
                "packed linear: a {out_dim}x{in_dim} weight is empty"
            )));
        }
        let numel = out_dim.checked_mul(in_dim);
        if numel != Some(weight.len()) || bias.len() != out_dim {
            return Err(ViewError(format!(
                "packed linear: a {out_dim}x{in_dim} layer needs {out_dim}x{in_dim} weights and {out_dim} biases, got {} and {}",
                weight.len(),
                bias.len()
            )));
        }
        let panels = out_dim.div_ceil(PANEL);
        let len = panels * in_dim * PANEL;
        let mut store = vec![0f32; len + LINE];
        let offset = store.as_ptr().align_offset(LINE * 4).min(LINE);
        let packed = &mut store[offset..offset + len];
        for p in 0..panels {
            let panel = &mut packed[p * in_dim * PANEL..(p + 1) * in_dim * PANEL];
            let cols = PANEL.min(out_dim - p * PANEL);
            let src = &weight[p * PANEL * in_dim..(p * PANEL + cols) * in_dim];
            // A blocked transpose: 16 inputs x 32 outputs (2 KB) at a time stay in L1.
            for i0 in (0..in_dim).step_by(16) {
                let i1 = (i0 + 16).min(in_dim);
                for j in 0..cols {
                    for (i, &v) in src[j * in_dim + i0..j * in_dim + i1].iter().enumerate() {
                        panel[(i0 + i) * PANEL + j] = v;
                    }
                }
            }
        }
        let mut padded = vec![0f32; panels * PANEL];
        padded[..out_dim].copy_from_slice(bias);
        Ok(PackedLinear {
            store,
            offset,
            bias: padded,
            in_dim,
            out_dim,
        })
    }

    /// Width of an input row.
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Width of an output row.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    fn packed(&self) -> &[f32] {
        let len = self.bias.len() * self.in_dim;
        &self.store[self.offset..self.offset + len]
    }

    /// `out[r * out_stride + j] = bias[j] + sum_i x[r * in_dim + i] * weight[j][i]` for every
    /// row `r < rows` and column `j < out_dim`; nothing else of `out` is touched.
    ///
    /// With `threads > 1` the output columns are split across rayon's pool when the product
    /// is large enough to gain from it. Errors (nothing written) when `x` holds fewer than
    /// `rows` rows, `out_stride < out_dim`, or `out` is too short.
    pub fn forward(
        &self,
        x: &[f32],
        rows: usize,
        out: &mut [f32],
        out_stride: usize,
        threads: usize,
    ) -> Result<(), ViewError> {
        self.forward_on(Path::detect(), x, rows, out, out_stride, threads)
    }

    fn forward_on(
        &self,
        path: Path,
        x: &[f32],
        rows: usize,
        out: &mut [f32],
        out_stride: usize,
        threads: usize,
    ) -> Result<(), ViewError> {
        if rows == 0 {
            return Ok(());
        }
        let (k, n) = (self.in_dim, self.out_dim);
        let x_need = rows.checked_mul(k);
        let out_need = (rows - 1)
            .checked_mul(out_stride)
            .and_then(|s| s.checked_add(n));
        if x_need.is_none_or(|need| x.len() < need) {
            return Err(ViewError(format!(
                "packed linear: input of {} floats for {rows} rows of {k}",
                x.len()
            )));
        }
        if out_stride < n || out_need.is_none_or(|need| out.len() < need) {
            return Err(ViewError(format!(
                "packed linear: output of {} floats with row stride {out_stride} for {rows} rows of {n}",
                out.len()
            )));
        }
        let panels = self.bias.len() / PANEL;
        let ptr = OutPtr(out.as_mut_ptr());
        let work = rows.saturating_mul(k).saturating_mul(n);
        let parts = threads.min(panels).max(1);
        if parts == 1 || work < 1 << 18 {
            // SAFETY: the checks above bound every read of x and write of out.
            unsafe { self.panels(path, x, rows, ptr, out_stride, 0..panels) };
            return Ok(());
        }
        rayon::scope(|s| {
            for t in 1..parts {
                let range = panels * t / parts..panels * (t + 1) / parts;
                s.spawn(move |_| {
                    // SAFETY: as below; each part writes its own columns.
                    unsafe { self.panels(path, x, rows, ptr, out_stride, range) }
                });
            }
            // SAFETY: the checks above bound every access; parts write disjoint columns.
            unsafe { self.panels(path, x, rows, ptr, out_stride, 0..panels / parts) };
        });
        Ok(())
    }

    /// Computes the panels in `range` for every row.
    ///
    /// # Safety
    /// `x` holds `rows * in_dim` floats, `out` points at `(rows - 1) * out_stride + out_dim`
    /// writable floats, `out_stride >= out_dim`, and no one else writes these panels' columns.
    unsafe fn panels(
        &self,
        path: Path,
        x: &[f32],
        rows: usize,
        out: OutPtr,
        out_stride: usize,
        range: std::ops::Range<usize>,
    ) {
        let k = self.in_dim;
        let packed = self.packed();
        let mr = path.tile_rows();
        // Rows go in blocks whose inputs stay in L2 (~384 KB) while the panels pass by.
        let block = ((96 * 1024 / k).max(mr) / mr) * mr;
        for b0 in (0..rows).step_by(block) {
            let b_rows = block.min(rows - b0);
            // Even tiles: 35 rows in 12s run as 12 + 12 + 11, 13 as 7 + 6.
            let tiles = b_rows.div_ceil(mr);
            for p in range.clone() {
                let w = &packed[p * k * PANEL..(p + 1) * k * PANEL];
                let bias = &self.bias[p * PANEL..(p + 1) * PANEL];
                let cols = PANEL.min(self.out_dim - p * PANEL);
                let mut r0 = b0;
                for t in 0..tiles {
                    let r = b_rows / tiles + usize::from(t < b_rows % tiles);
                    let xt = &x[r0 * k..(r0 + r) * k];
                    // SAFETY: rows r0..r0+r exist (caller's contract); their columns
                    // p*PANEL..p*PANEL+cols are inside out and belong to this call.
                    let o = unsafe { out.0.add(r0 * out_stride + p * PANEL) };
                    // SAFETY: as above; xt holds r rows of k and w one panel of k rows.
                    unsafe { tile(path, r, xt, k, w, bias, o, out_stride, cols) };
                    r0 += r;
                }
            }
        }
    }
}

/// One register tile: `r` rows of `x` (row length `k`) times one panel, plus its bias,
/// written to the first `cols` columns of `r` rows of `out` (`ldo` apart).
///
/// # Safety
/// `out` points at `(r - 1) * ldo + cols` writable floats; `r <= path.tile_rows()`.
#[allow(clippy::too_many_arguments, reason = "a tile's shape and strides")]
unsafe fn tile(
    path: Path,
    r: usize,
    x: &[f32],
    k: usize,
    w: &[f32],
    bias: &[f32],
    out: *mut f32,
    ldo: usize,
    cols: usize,
) {
    match path {
        Path::Portable => {
            let mut acc = [[0f32; PANEL]; 4];
            for (row, acc) in acc.iter_mut().enumerate().take(r) {
                acc.copy_from_slice(bias);
                let xr = &x[row * k..(row + 1) * k];
                for (&a, wr) in xr.iter().zip(w.chunks_exact(PANEL)) {
                    for (s, &v) in acc.iter_mut().zip(wr) {
                        *s += a * v;
                    }
                }
            }
            for (row, acc) in acc.iter().enumerate().take(r) {
                // SAFETY: the caller's contract on `out`.
                let dst = unsafe { std::slice::from_raw_parts_mut(out.add(row * ldo), cols) };
                dst.copy_from_slice(&acc[..cols]);
            }
        }
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => {
            for half in 0..2 {
                let c = cols.saturating_sub(half * 16).min(16);
                if c == 0 {
                    break;
                }
                let (w, b) = (&w[half * 16..], &bias[half * 16..]);
                // SAFETY: the CPU has AVX2 and FMA (Path::detect); x holds r rows of k, w
                // k rows of PANEL from this half, out r rows of c floats from this half.
                unsafe {
                    let o = out.add(half * 16);
                    let x = x.as_ptr();
                    let (w, b) = (w.as_ptr(), b.as_ptr());
                    match r {
                        1 => x86::tile_avx2::<1>(x, k, w, b, o, ldo, c),
                        2 => x86::tile_avx2::<2>(x, k, w, b, o, ldo, c),
                        3 => x86::tile_avx2::<3>(x, k, w, b, o, ldo, c),
                        4 => x86::tile_avx2::<4>(x, k, w, b, o, ldo, c),
                        5 => x86::tile_avx2::<5>(x, k, w, b, o, ldo, c),
                        _ => x86::tile_avx2::<6>(x, k, w, b, o, ldo, c),
                    }
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => {
            let lanes = |from: usize| -> u16 {
                let c = cols.saturating_sub(from).min(16);
                ((1u32 << c) - 1) as u16
            };
            let (m0, m1) = (lanes(0), lanes(16));
            let (xp, wp, bp) = (x.as_ptr(), w.as_ptr(), bias.as_ptr());
            // SAFETY: the CPU has AVX-512F (Path::detect); x holds r rows of k, w k rows of
            // PANEL, bias PANEL values; the masks limit the stores to `cols` columns.
            unsafe {
                match r {
                    1 => x86::tile_avx512::<1>(xp, k, wp, bp, out, ldo, m0, m1),
                    2 => x86::tile_avx512::<2>(xp, k, wp, bp, out, ldo, m0, m1),
                    3 => x86::tile_avx512::<3>(xp, k, wp, bp, out, ldo, m0, m1),
                    4 => x86::tile_avx512::<4>(xp, k, wp, bp, out, ldo, m0, m1),
                    5 => x86::tile_avx512::<5>(xp, k, wp, bp, out, ldo, m0, m1),
                    6 => x86::tile_avx512::<6>(xp, k, wp, bp, out, ldo, m0, m1),
                    7 => x86::tile_avx512::<7>(xp, k, wp, bp, out, ldo, m0, m1),
                    8 => x86::tile_avx512::<8>(xp, k, wp, bp, out, ldo, m0, m1),
                    9 => x86::tile_avx512::<9>(xp, k, wp, bp, out, ldo, m0, m1),
                    10 => x86::tile_avx512::<10>(xp, k, wp, bp, out, ldo, m0, m1),
                    11 => x86::tile_avx512::<11>(xp, k, wp, bp, out, ldo, m0, m1),
                    _ => x86::tile_avx512::<12>(xp, k, wp, bp, out, ldo, m0, m1),
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::PANEL;
    use std::arch::x86_64::*;

    /// `R` rows x 32 columns with two AVX-512 accumulators per row.
    ///
    /// # Safety
    /// AVX-512F; `x` has `R` rows of `k` floats, `w` `k` rows of `PANEL`, `b` `PANEL`
    /// floats; `out` has `R` rows (`ldo` apart) writable where the masks are set.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments, reason = "a tile's shape and strides")]
    pub(super) unsafe fn tile_avx512<const R: usize>(
        x: *const f32,
        k: usize,
        w: *const f32,
        b: *const f32,
        out: *mut f32,
        ldo: usize,
        m0: u16,
        m1: u16,
    ) {
        // SAFETY (whole body): every offset stays inside the regions the contract names.
        unsafe {
            let mut lo = [_mm512_loadu_ps(b); R];
            let mut hi = [_mm512_loadu_ps(b.add(16)); R];
            for i in 0..k {
                let w0 = _mm512_loadu_ps(w.add(i * PANEL));
                let w1 = _mm512_loadu_ps(w.add(i * PANEL + 16));
                for r in 0..R {
                    let a = _mm512_set1_ps(*x.add(r * k + i));
                    lo[r] = _mm512_fmadd_ps(a, w0, lo[r]);
                    hi[r] = _mm512_fmadd_ps(a, w1, hi[r]);
                }
            }
            for r in 0..R {
                _mm512_mask_storeu_ps(out.add(r * ldo), m0, lo[r]);
                _mm512_mask_storeu_ps(out.add(r * ldo + 16), m1, hi[r]);
            }
        }
    }

    /// `R` rows x 16 columns (half a panel) with two AVX2 accumulators per row.
    ///
    /// # Safety
    /// AVX2 and FMA; `x` has `R` rows of `k` floats, `w` `k` rows `PANEL` apart with 16
    /// readable floats each, `b` 16 floats; `out` has `R` rows (`ldo` apart) of `cols`
    /// writable floats.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments, reason = "a tile's shape and strides")]
    pub(super) unsafe fn tile_avx2<const R: usize>(
        x: *const f32,
        k: usize,
        w: *const f32,
        b: *const f32,
        out: *mut f32,
        ldo: usize,
        cols: usize,
    ) {
        // SAFETY (whole body): every offset stays inside the regions the contract names.
        unsafe {
            let mut lo = [_mm256_loadu_ps(b); R];
            let mut hi = [_mm256_loadu_ps(b.add(8)); R];
            for i in 0..k {
                let w0 = _mm256_loadu_ps(w.add(i * PANEL));
                let w1 = _mm256_loadu_ps(w.add(i * PANEL + 8));
                for r in 0..R {
                    let a = _mm256_broadcast_ss(&*x.add(r * k + i));
                    lo[r] = _mm256_fmadd_ps(a, w0, lo[r]);
                    hi[r] = _mm256_fmadd_ps(a, w1, hi[r]);
                }
            }
            for r in 0..R {
                if cols == 16 {
                    _mm256_storeu_ps(out.add(r * ldo), lo[r]);
                    _mm256_storeu_ps(out.add(r * ldo + 8), hi[r]);
                } else {
                    let mut tmp = [0f32; 16];
                    _mm256_storeu_ps(tmp.as_mut_ptr(), lo[r]);
                    _mm256_storeu_ps(tmp.as_mut_ptr().add(8), hi[r]);
                    std::ptr::copy_nonoverlapping(tmp.as_ptr(), out.add(r * ldo), cols);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], w: &[f32], b: &[f32], rows: usize, k: usize, n: usize) -> Vec<f64> {
        let mut y = vec![0.0; rows * n];
        for r in 0..rows {
            for j in 0..n {
                y[r * n + j] = b[j] as f64
                    + (0..k)
                        .map(|i| x[r * k + i] as f64 * w[j * k + i] as f64)
                        .sum::<f64>();
            }
        }
        y
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_path_matches_the_naive_product_on_ragged_shapes() {
        for path in Path::available() {
            for &(rows, k, n) in &[
                (1, 1, 1),
                (1, 7, 33),
                (5, 384, 32),
                (13, 20, 70),
                (35, 64, 96),
                (40, 9, 31),
                (100, 48, 65),
            ] {
                let (x, w, b) = (values(rows * k, 1), values(n * k, 2), values(n, 3));
                let lin = PackedLinear::from_torch(&w, &b, n, k).unwrap();
                let want = naive(&x, &w, &b, rows, k, n);
                for threads in [1, 2, 3] {
                    // Row stride n + 3; the gaps must stay untouched.
                    let stride = n + 3;
                    let mut out = vec![f32::NAN; (rows - 1) * stride + n + 2];
                    lin.forward_on(path, &x, rows, &mut out, stride, threads)
                        .unwrap();
                    for r in 0..rows {
                        for j in 0..n {
                            let (got, w) = (out[r * stride + j] as f64, want[r * n + j]);
                            assert!(
                                (got - w).abs() <= 1e-4 * (1.0 + w.abs()),
                                "{path:?} {rows}x{k}x{n} t{threads} ({r},{j}): {got} vs {w}"
                            );
                        }
                        let gap_end = if r + 1 < rows { stride } else { n + 2 };
                        for j in n..gap_end {
                            assert!(out[r * stride + j].is_nan(), "{path:?} wrote a gap");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn splits_across_threads_on_large_products() {
        let (rows, k, n) = (64, 256, 200);
        let (x, w, b) = (values(rows * k, 4), values(n * k, 5), values(n, 6));
        let lin = PackedLinear::from_torch(&w, &b, n, k).unwrap();
        let mut one = vec![0.0; rows * n];
        let mut two = vec![0.0; rows * n];
        lin.forward(&x, rows, &mut one, n, 1).unwrap();
        lin.forward(&x, rows, &mut two, n, 2).unwrap();
        // Same tiles, same order of operations: the split changes nothing.
        assert_eq!(one, two);
        let want = naive(&x, &w, &b, rows, k, n);
        for (g, w) in one.iter().zip(&want) {
            assert!((*g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()));
        }
    }

    #[test]
    fn with_threads_runs_in_a_kept_pool_of_that_size() {
        assert_eq!(with_threads(1, || 7), 7);
        let (n, name) = with_threads(3, || {
            (
                rayon::current_num_threads(),
                std::thread::current().name().map(str::to_owned),
            )
        });
        assert_eq!(n, 3);
        assert!(name.is_some_and(|n| n.starts_with("gaia-infer-")));
        // The same pool serves the next call, and products split inside it.
        let (rows, k, n) = (40, 300, 100);
        let (x, w, b) = (values(rows * k, 7), values(n * k, 8), values(n, 9));
        let lin = PackedLinear::from_torch(&w, &b, n, k).unwrap();
        let mut one = vec![0.0; rows * n];
        lin.forward(&x, rows, &mut one, n, 1).unwrap();
        let three = with_threads(3, || {
            let mut y = vec![0.0; rows * n];
            lin.forward(&x, rows, &mut y, n, 3).unwrap();
            y
        });
        assert_eq!(one, three);
    }

    #[test]
    fn refuses_bad_shapes_and_writes_nothing() {
        assert!(PackedLinear::from_torch(&[1.0; 6], &[0.0; 2], 2, 4).is_err());
        assert!(PackedLinear::from_torch(&[1.0; 6], &[0.0; 3], 2, 3).is_err());
        assert!(PackedLinear::from_torch(&[], &[], 0, 3).is_err());
        let lin = PackedLinear::from_torch(&[1.0; 6], &[0.5; 2], 2, 3).unwrap();
        assert_eq!((lin.in_dim(), lin.out_dim()), (3, 2));
        let mut out = vec![7.0; 4];
        let e = lin.forward(&[1.0; 5], 2, &mut out, 2, 1).unwrap_err();
        assert!(e.0.contains("input"), "{e}");
        let e = lin.forward(&[1.0; 6], 2, &mut out[..3], 2, 1).unwrap_err();
        assert!(e.0.contains("output"), "{e}");
        let e = lin.forward(&[1.0; 6], 2, &mut out, 1, 1).unwrap_err();
        assert!(e.0.contains("stride"), "{e}");
        assert_eq!(out, vec![7.0; 4]);
        lin.forward(&[1.0; 6], 2, &mut out, 2, 1).unwrap();
        assert_eq!(out, vec![3.5; 4]);
        // Zero rows: nothing to do, nothing written.
        lin.forward(&[], 0, &mut [], 2, 1).unwrap();
    }
}
