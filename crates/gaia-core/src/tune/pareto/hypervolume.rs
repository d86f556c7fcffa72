//! Exact hypervolumes, hypervolume contributions and the greedy hypervolume subset
//! selection (re-exported by [`super`]).
//!
//! Inside, point sets are flat buffers (`m` values per point, one allocation per set): the
//! recursive algorithms build many small limited sets, and one `Vec` per point made
//! allocation the largest cost.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Points stored one after another, `m` values each.
#[derive(Debug, Clone)]
struct Flat {
    m: usize,
    data: Vec<f64>,
}

impl Flat {
    fn with_capacity(m: usize, n: usize) -> Flat {
        Flat {
            m,
            data: Vec::with_capacity(m * n),
        }
    }

    fn len(&self) -> usize {
        self.data.len() / self.m.max(1)
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.m..(i + 1) * self.m]
    }

    fn push(&mut self, p: &[f64]) {
        self.data.extend_from_slice(p);
    }
}

/// Lexicographic order of two points.
fn lex_cmp(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.total_cmp(y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

/// `a` is no worse than `b` in every objective.
fn weakly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

/// The non-dominated points of `points`, without duplicates, in lexicographic order. A
/// point only needs checking against the front members before it in that order, and in two
/// dimensions against the last one (it has the smallest second objective).
fn front_of(points: &Flat) -> Flat {
    let n = points.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| lex_cmp(points.row(a), points.row(b)));
    let mut front = Flat::with_capacity(points.m, n);
    for i in order {
        let p = points.row(i);
        let k = front.len();
        let covered = if points.m == 2 {
            k > 0 && weakly_dominates(front.row(k - 1), p)
        } else {
            (0..k).any(|j| weakly_dominates(front.row(j), p))
        };
        if !covered {
            front.push(p);
        }
    }
    front
}

/// The volume of the box from `p` to `reference`.
fn inclusive(p: &[f64], reference: &[f64]) -> f64 {
    p.iter().zip(reference).map(|(x, r)| r - x).product()
}

/// Strictly better than `reference` in every objective (and with as many values).
fn inside(p: &[f64], reference: &[f64]) -> bool {
    p.len() == reference.len() && p.iter().zip(reference).all(|(x, r)| x < r)
}

/// The box volume of `p` up to `reference`, 0 outside the box.
fn inclusive_clipped(p: &[f64], reference: &[f64]) -> f64 {
    if inside(p, reference) {
        inclusive(p, reference)
    } else {
        0.0
    }
}

/// The hypervolume of mutually non-dominated, distinct points in lexicographic order, all
/// strictly inside the reference box.
fn volume(points: &Flat, reference: &[f64]) -> f64 {
    let n = points.len();
    match (n, points.m) {
        (0, _) => 0.0,
        (1, _) => inclusive(points.row(0), reference),
        (_, 1) => reference[0] - points.row(0)[0],
        (_, 2) => {
            // By ascending first objective the second descends: a staircase of slabs.
            let mut hv = 0.0;
            for k in 0..n {
                let p = points.row(k);
                let next_x = if k + 1 < n {
                    points.row(k + 1)[0]
                } else {
                    reference[0]
                };
                hv += (next_x - p[0]) * (reference[1] - p[1]);
            }
            hv
        }
        (2, _) => {
            let (a, b) = (points.row(0), points.row(1));
            let both: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.max(*y)).collect();
            inclusive(a, reference) + inclusive(b, reference) - inclusive(&both, reference)
        }
        (_, 3) => volume_3d(points, reference),
        _ => wfg(points, reference),
    }
}

/// WFG (While, Bradstreet and Barone 2012): the sum of each point's volume exclusive of the
/// points after it.
fn wfg(points: &Flat, reference: &[f64]) -> f64 {
    let n = points.len();
    let mut hv = 0.0;
    for k in 0..n {
        hv += exclusive(points.row(k), (k + 1..n).map(|j| points.row(j)), reference);
    }
    hv
}

/// Three objectives in O(n^2): sweep the third objective upwards, keeping the staircase of
/// the first two objectives of the points passed; each slab adds the staircase's area times
/// its depth.
fn volume_3d(points: &Flat, reference: &[f64]) -> f64 {
    let n = points.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| points.row(a)[2].total_cmp(&points.row(b)[2]));
    // (x, y) by ascending x and descending y: no member dominates another.
    let mut stair: Vec<(f64, f64)> = Vec::with_capacity(n);
    let mut hv = 0.0;
    for (k, &i) in order.iter().enumerate() {
        let p = points.row(i);
        let (x, y) = (p[0], p[1]);
        let at = stair.partition_point(|s| s.0 <= x);
        // The member just before (largest x <= x) has the smallest y among those: if it is
        // no worse in y, the new point adds nothing to the staircase.
        if at == 0 || stair[at - 1].1 > y {
            let end = at + stair[at..].iter().take_while(|s| s.1 >= y).count();
            stair.splice(at..end, [(x, y)]);
        }
        let next_z = order.get(k + 1).map_or(reference[2], |&j| points.row(j)[2]);
        if next_z > p[2] {
            let mut area = 0.0;
            for (j, s) in stair.iter().enumerate() {
                let next_x = stair.get(j + 1).map_or(reference[0], |t| t.0);
                area += (next_x - s.0) * (reference[1] - s.1);
            }
            hv += area * (next_z - p[2]);
        }
    }
    hv
}

/// The volume `p`'s box adds to the union of the boxes of `others` (all inside the box):
/// its own box minus the hypervolume of the others limited to it (each coordinate raised
/// to `p`'s).
fn exclusive<'a>(p: &[f64], others: impl Iterator<Item = &'a [f64]>, reference: &[f64]) -> f64 {
    let mut limited = Flat::with_capacity(p.len(), others.size_hint().0);
    for q in others {
        limited.data.extend(q.iter().zip(p).map(|(a, b)| a.max(*b)));
    }
    let own = inclusive(p, reference);
    if limited.len() == 0 {
        return own;
    }
    own - volume(&front_of(&limited), reference)
}

/// The points strictly inside the reference box, flat.
fn inside_points(points: &[Vec<f64>], reference: &[f64]) -> Flat {
    let mut flat = Flat::with_capacity(reference.len(), points.len());
    for p in points.iter().filter(|p| inside(p, reference)) {
        flat.push(p);
    }
    flat
}

/// The exact hypervolume of `points` (to minimise) with respect to `reference`: the volume
/// of the union of the boxes between each point and the reference point. Points that are not
/// better than the reference in every objective add nothing, nor do points with another
/// number of values. Infinite when a reference coordinate is infinite and some point counts.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let flat = inside_points(points, reference);
    if flat.len() == 0 {
        return 0.0;
    }
    if reference.iter().any(|r| r.is_infinite()) {
        return f64::INFINITY;
    }
    volume(&front_of(&flat), reference)
}

/// Each point's hypervolume contribution: how much [`hypervolume`] of all the points loses
/// without it. 0 for points that another point weakly dominates (duplicates included) or
/// that lie outside the reference box.
pub fn hypervolume_contributions(points: &[Vec<f64>], reference: &[f64]) -> Vec<f64> {
    let infinite = reference.iter().any(|r| r.is_infinite());
    (0..points.len())
        .map(|i| {
            let p = &points[i];
            if !inside(p, reference) {
                return 0.0;
            }
            let others = || {
                points
                    .iter()
                    .enumerate()
                    .filter(move |(j, q)| *j != i && inside(q, reference))
                    .map(|(_, q)| q.as_slice())
            };
            if others().any(|q| weakly_dominates(q, p)) {
                return 0.0;
            }
            if infinite {
                return f64::INFINITY;
            }
            exclusive(p, others(), reference)
        })
        .collect()
}

/// The greedy hypervolume subset selection: `k` indices of `points` (in the order chosen),
/// each time the point that adds the most hypervolume to those chosen before (ties: the
/// first index). Distinct points come before duplicates; with more than `k` points and an
/// infinite reference coordinate, the first `k` distinct points. All indices when `k >= n`.
///
/// Lazy greedy: a point's gain only shrinks as the selection grows (the hypervolume is
/// submodular), so stale gains are upper bounds, kept in a max-heap; the top is recomputed
/// until an exact one is on top. After each choice every bound also drops to what the point
/// adds to the chosen point alone, a cheap bound by the same argument.
pub fn hssp_greedy(points: &[Vec<f64>], k: usize, reference: &[f64]) -> Vec<usize> {
    let n = points.len();
    if k >= n {
        return (0..n).collect();
    }
    // Distinct points, first occurrence of each.
    let mut by_value: Vec<usize> = (0..n).collect();
    by_value.sort_by(|&a, &b| lex_cmp(&points[a], &points[b]).then(a.cmp(&b)));
    let mut distinct: Vec<usize> = Vec::with_capacity(n);
    let mut duplicates: Vec<usize> = Vec::new();
    for (pos, &i) in by_value.iter().enumerate() {
        if pos > 0 && points[by_value[pos - 1]] == points[i] {
            duplicates.push(i);
        } else {
            distinct.push(i);
        }
    }
    distinct.sort_unstable();
    duplicates.sort_unstable();
    if distinct.len() <= k {
        distinct.extend(duplicates.into_iter().take(k - distinct.len()));
        return distinct;
    }
    if reference.iter().any(|r| !r.is_finite()) {
        distinct.truncate(k);
        return distinct;
    }
    // Upper bounds on each distinct point's gain, exact at first (the points' own boxes),
    // and the selection size at which each was last computed exactly.
    let mut bounds: Vec<f64> = distinct
        .iter()
        .map(|&i| inclusive_clipped(&points[i], reference))
        .collect();
    let mut exact_at: Vec<usize> = vec![0; distinct.len()];
    let mut taken = vec![false; distinct.len()];
    let entries = |bounds: &[f64], taken: &[bool]| -> BinaryHeap<Gain> {
        (0..distinct.len())
            .filter(|&pos| !taken[pos])
            .map(|pos| Gain {
                bound: bounds[pos],
                index: distinct[pos],
                pos,
            })
            .collect()
    };
    let mut heap = entries(&bounds, &taken);
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    let mut chosen_points = Flat::with_capacity(reference.len(), k);
    let mut both = vec![0.0; reference.len()];
    while chosen.len() < k {
        let Some(top) = heap.pop() else { break };
        let (pos, i) = (top.pos, top.index);
        if exact_at[pos] != chosen.len() && bounds[pos] > 0.0 {
            // Stale: recompute against the current selection and put it back.
            let selected = (0..chosen_points.len()).map(|j| chosen_points.row(j));
            bounds[pos] = exclusive(&points[i], selected, reference).max(0.0);
            exact_at[pos] = chosen.len();
            heap.push(Gain {
                bound: bounds[pos],
                index: i,
                pos,
            });
            continue;
        }
        // The largest gain, exact (ties go to the lower index): take it.
        taken[pos] = true;
        chosen.push(i);
        if inside(&points[i], reference) {
            chosen_points.push(&points[i]);
        }
        for q_pos in (0..distinct.len()).filter(|&q| !taken[q]) {
            let q = &points[distinct[q_pos]];
            for ((c, x), y) in both.iter_mut().zip(q).zip(&points[i]) {
                *c = x.max(*y);
            }
            let pair = inclusive_clipped(q, reference) - inclusive_clipped(&both, reference);
            bounds[q_pos] = bounds[q_pos].min(pair.max(0.0));
        }
        heap = entries(&bounds, &taken);
    }
    chosen
}

/// A candidate of the greedy selection, ordered by its gain bound, then by lower index.
#[derive(Debug, Clone, Copy)]
struct Gain {
    bound: f64,
    index: usize,
    /// Its position among the distinct points.
    pos: usize,
}

impl PartialEq for Gain {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Gain {}

impl PartialOrd for Gain {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Gain {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bound
            .total_cmp(&other.bound)
            .then(other.index.cmp(&self.index))
    }
}

/// For the tests: the three-objective sweep and WFG on the same front.
#[cfg(test)]
pub(super) fn sweep_and_wfg(points: &[Vec<f64>], reference: &[f64]) -> (f64, f64) {
    let front = front_of(&inside_points(points, reference));
    (volume_3d(&front, reference), wfg(&front, reference))
}
