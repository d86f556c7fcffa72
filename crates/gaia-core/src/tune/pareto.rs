//! Pareto dominance for studies with several objectives: the front that `best` returns, and
//! the tools the multi-objective samplers share.
//!
//! Every function takes points *to minimise* (see [`to_minimize`]), one `Vec<f64>` of
//! objective values per point, all of the same length and finite (a study records a trial
//! with a NaN or infinite value as failed, so none reaches here). Other input gives
//! meaningless numbers but never a panic.
//!
//! * [`non_dominated_ranks`] / [`non_dominated_sort`]: the fronts of Deb et al. (2002)'s fast
//!   non-dominated sort, with their constrained domination: every feasible point ranks
//!   before every infeasible one, and infeasible points rank by their total violation.
//! * [`crowding_distance`]: NSGA-II's crowding distance (the extremes of each objective are
//!   infinitely far), as Optuna computes it.
//! * [`hypervolume`]: the exact volume the points dominate up to a reference point: a sweep
//!   in two dimensions, a sweep over the third objective keeping the staircase of the first
//!   two in three (O(n^2)), the WFG algorithm (While, Bradstreet and Barone 2012: a sum of
//!   exclusive volumes, each the point's box minus the volume of the later points limited to
//!   it) in four or more.
//! * [`hypervolume_contributions`]: each point's exclusive volume (what the hypervolume
//!   loses without it).
//! * [`hssp_greedy`]: the greedy (1 - 1/e)-approximation of the hypervolume subset
//!   selection problem (pick `k` points of largest joint hypervolume), with lazy updates (a
//!   point's contribution only shrinks as the selection grows).
//! * [`reference_point`]: the reference point Optuna's TPE derives from the worst values.

use super::study::Direction;

mod hypervolume;

pub use hypervolume::{hssp_greedy, hypervolume, hypervolume_contributions};

/// The value a zero coordinate of [`reference_point`] becomes (Optuna's `EPS`).
pub const EPS: f64 = 1e-12;

/// The objective values turned so that smaller is better in every one.
pub fn to_minimize(values: &[f64], directions: &[Direction]) -> Vec<f64> {
    values
        .iter()
        .zip(directions)
        .map(|(v, d)| d.minimized(*v))
        .collect()
}

/// `a` dominates `b` (both to minimise): no worse in every objective, better in one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// Deb's constrained domination of `a` (total constraint violation `va`, 0 when feasible)
/// over `b` (violation `vb`): `a` is feasible and `b` is not, or both are infeasible and `a`
/// violates less, or both are feasible and `a` dominates `b`.
pub fn constrained_dominates(a: &[f64], va: f64, b: &[f64], vb: f64) -> bool {
    match (va <= 0.0, vb <= 0.0) {
        (true, true) => dominates(a, b),
        (true, false) => true,
        (false, true) => false,
        (false, false) => va < vb,
    }
}

/// The indices of the points (to minimize) that no other point dominates, ascending.
/// Duplicates of a front point are all on the front.
pub fn front(points: &[Vec<f64>]) -> Vec<usize> {
    (0..points.len())
        .filter(|&i| !points.iter().any(|q| dominates(q, &points[i])))
        .collect()
}

/// The non-domination rank of every point (0 for the Pareto front, 1 for the front of the
/// rest, ...), under constrained domination when `violations` is not empty (one total
/// violation per point, `<= 0` feasible): feasible points take the first ranks, then the
/// infeasible ones one rank per distinct violation, smallest first.
pub fn non_dominated_ranks(points: &[Vec<f64>], violations: &[f64]) -> Vec<usize> {
    non_dominated_sort(points, violations, points.len())
}

/// [`non_dominated_ranks`] that stops peeling feasible fronts once they hold at least
/// `needed` points: the ranks of those fronts are exact, every feasible point after them
/// gets the next rank, and the infeasible ones rank after that. Samplers that only need the
/// best `needed` points use this.
///
/// The fronts are peeled from the points in lexicographic order, where a point can only be
/// dominated by one before it; a point joins the current front unless a member dominates it.
/// That is O(n * |front|) per front (O(n) in two dimensions, where only the front's last
/// member needs checking), never worse than the O(m n^2) of Deb's bookkeeping, and with no
/// n^2 memory.
pub fn non_dominated_sort(points: &[Vec<f64>], violations: &[f64], needed: usize) -> Vec<usize> {
    let n = points.len();
    let infeasible = |i: usize| violations.get(i).is_some_and(|v| *v > 0.0);
    let mut ranks = vec![0usize; n];
    let mut remaining: Vec<usize> = (0..n).filter(|&i| !infeasible(i)).collect();
    remaining.sort_by(|&a, &b| lex_cmp(&points[a], &points[b]).then(a.cmp(&b)));
    let mut rank = 0;
    let mut placed = 0;
    while !remaining.is_empty() && placed < needed.max(1) {
        let (on, off) = peel(points, &remaining);
        for &i in &on {
            ranks[i] = rank;
        }
        placed += on.len();
        remaining = off;
        rank += 1;
    }
    for &i in &remaining {
        ranks[i] = rank;
    }
    if !remaining.is_empty() {
        rank += 1;
    }
    // Infeasible points: one rank per distinct violation, smallest first.
    let mut bad: Vec<usize> = (0..n).filter(|&i| infeasible(i)).collect();
    bad.sort_by(|&a, &b| violations[a].total_cmp(&violations[b]));
    for (k, &i) in bad.iter().enumerate() {
        if k > 0 && violations[i] > violations[bad[k - 1]] {
            rank += 1;
        }
        ranks[i] = rank;
    }
    ranks
}

/// Lexicographic order of two points.
fn lex_cmp(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.total_cmp(y) {
            std::cmp::Ordering::Equal => {}
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

/// Splits `sorted` (indices in lexicographic order of their points) into the first front
/// and the rest, both keeping the order.
fn peel(points: &[Vec<f64>], sorted: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut on: Vec<usize> = Vec::new();
    let mut off: Vec<usize> = Vec::new();
    let two = sorted
        .first()
        .and_then(|&i| points.get(i))
        .is_some_and(|p| p.len() == 2);
    for &i in sorted {
        let p = &points[i];
        let dominated = if two {
            // Front members come by ascending first and descending second objective, so
            // the last one has the smallest second objective.
            on.last().is_some_and(|&j| dominates(&points[j], p))
        } else {
            on.iter().any(|&j| dominates(&points[j], p))
        };
        if dominated {
            off.push(i);
        } else {
            on.push(i);
        }
    }
    (on, off)
}

/// NSGA-II's crowding distance of each point within its set: per objective, the gap between
/// its two neighbours in that objective over the objective's spread, summed over the
/// objectives; the first and last point of an objective are infinitely far, and an
/// objective where every point has the same value adds nothing (Optuna's definition; ties
/// keep the input order).
pub fn crowding_distance(points: &[Vec<f64>]) -> Vec<f64> {
    let n = points.len();
    let mut distance = vec![0.0; n];
    let m = points.first().map_or(0, Vec::len);
    let mut order: Vec<usize> = (0..n).collect();
    let value = |p: &Vec<f64>, d: usize| p.get(d).copied().unwrap_or(f64::NAN);
    for column in (0..m).map(|d| points.iter().map(|p| value(p, d)).collect::<Vec<f64>>()) {
        order.sort_by(|&a, &b| column[a].total_cmp(&column[b]).then(a.cmp(&b)));
        let (first, last) = (column[order[0]], column[order[n - 1]]);
        if first == last {
            continue;
        }
        let width = last - first;
        let width = if width > 0.0 && width.is_finite() {
            width
        } else {
            1.0
        };
        for j in 0..n {
            let lo = if j == 0 {
                f64::NEG_INFINITY
            } else {
                column[order[j - 1]]
            };
            let hi = if j + 1 == n {
                f64::INFINITY
            } else {
                column[order[j + 1]]
            };
            let gap = if lo == hi { 0.0 } else { hi - lo };
            distance[order[j]] += gap / width;
        }
    }
    distance
}

/// The reference point Optuna's TPE uses for a set of points: per objective the worst
/// (largest) value w moved away by a tenth of its size, max(1.1 w, 0.9 w), and [`EPS`]
/// where that is 0. Every point lies strictly inside the box it spans.
pub fn reference_point(points: &[Vec<f64>]) -> Vec<f64> {
    let m = points.first().map_or(0, Vec::len);
    (0..m)
        .map(|d| {
            let worst = points
                .iter()
                .filter_map(|p| p.get(d).copied())
                .fold(f64::NEG_INFINITY, f64::max);
            let r = (1.1 * worst).max(0.9 * worst);
            if r == 0.0 {
                EPS
            } else {
                r
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
