use super::*;
use crate::stats::Rng;

fn pts(v: &[&[f64]]) -> Vec<Vec<f64>> {
    v.iter().map(|p| p.to_vec()).collect()
}

/// The hypervolume by inclusion-exclusion over every subset (exact, exponential: a check
/// for small sets that shares no code with the WFG path).
fn brute_hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let n = points.len();
    let mut hv = 0.0;
    for mask in 1u32..(1 << n) {
        let mut corner = vec![f64::NEG_INFINITY; reference.len()];
        for (i, p) in points.iter().enumerate() {
            if mask & (1 << i) != 0 {
                for (c, x) in corner.iter_mut().zip(p) {
                    *c = c.max(*x);
                }
            }
        }
        let vol: f64 = corner
            .iter()
            .zip(reference)
            .map(|(c, r)| (r - c).max(0.0))
            .product();
        hv += if mask.count_ones() % 2 == 1 {
            vol
        } else {
            -vol
        };
    }
    hv
}

fn random_points(rng: &mut Rng, n: usize, m: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|_| {
            (0..m)
                .map(|_| (rng.next_f64() * 8.0).round() / 8.0)
                .collect()
        })
        .collect()
}

#[test]
fn domination_and_constrained_domination() {
    assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
    assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
    assert!(!dominates(&[1.0, 4.0], &[2.0, 3.0]));
    // Feasible beats infeasible whatever the values; infeasible by violation.
    assert!(constrained_dominates(&[9.0, 9.0], 0.0, &[0.0, 0.0], 0.1));
    assert!(!constrained_dominates(&[0.0, 0.0], 0.1, &[9.0, 9.0], 0.0));
    assert!(constrained_dominates(&[9.0, 9.0], 0.2, &[0.0, 0.0], 0.3));
    assert!(!constrained_dominates(&[0.0, 0.0], 0.3, &[0.0, 0.0], 0.3));
    assert!(constrained_dominates(&[1.0, 1.0], 0.0, &[1.0, 2.0], 0.0));
}

#[test]
fn ranks_peel_fronts_and_put_infeasible_points_last() {
    let p = pts(&[
        &[1.0, 5.0],
        &[2.0, 2.0],
        &[5.0, 1.0],
        &[3.0, 3.0],
        &[4.0, 4.0],
        &[2.0, 2.0],
    ]);
    assert_eq!(non_dominated_ranks(&p, &[]), vec![0, 0, 0, 1, 2, 0]);
    // Only the first front is needed: the rest share the next rank.
    assert_eq!(non_dominated_sort(&p, &[], 1), vec![0, 0, 0, 1, 1, 0]);
    // Points 0 and 2 violate by 0.5, point 3 by 0.1: the feasible ones are ranked alone,
    // then one rank per distinct violation.
    let v = [0.5, 0.0, 0.5, 0.1, 0.0, 0.0];
    assert_eq!(non_dominated_ranks(&p, &v), vec![3, 0, 3, 2, 1, 0]);
    // Three objectives: (1,1,1) dominates (2,2,2) dominates (3,3,3); (0,5,5) is alone.
    let q = pts(&[
        &[2.0, 2.0, 2.0],
        &[3.0, 3.0, 3.0],
        &[1.0, 1.0, 1.0],
        &[0.0, 5.0, 5.0],
    ]);
    assert_eq!(non_dominated_ranks(&q, &[]), vec![1, 2, 0, 0]);
    // One objective: ranks by value, ties share a rank.
    let r = pts(&[&[3.0], &[1.0], &[3.0], &[2.0]]);
    assert_eq!(non_dominated_ranks(&r, &[]), vec![2, 0, 2, 1]);
}

#[test]
fn ranks_agree_with_pairwise_domination() {
    // Rank 0 is the front; every point of rank r > 0 is dominated by one of rank r - 1 and
    // by none of rank >= r.
    let mut rng = Rng::seed_from_u64(5);
    for m in [2, 3] {
        let p = random_points(&mut rng, 60, m);
        let ranks = non_dominated_ranks(&p, &[]);
        assert_eq!(
            front(&p),
            (0..p.len()).filter(|&i| ranks[i] == 0).collect::<Vec<_>>()
        );
        for i in 0..p.len() {
            for j in 0..p.len() {
                if dominates(&p[j], &p[i]) {
                    assert!(ranks[j] < ranks[i], "{:?} dominates {:?}", p[j], p[i]);
                }
            }
            if ranks[i] > 0 {
                assert!((0..p.len()).any(|j| ranks[j] == ranks[i] - 1 && dominates(&p[j], &p[i])));
            }
        }
    }
}

#[test]
fn crowding_distance_by_hand() {
    // Objective 0 spans 10: the inner points get (4 - 0)/10 and (10 - 1)/10; objective 1
    // spans 10: (10 - 2)/10 and (6 - 0)/10.
    let p = pts(&[&[0.0, 10.0], &[1.0, 6.0], &[4.0, 2.0], &[10.0, 0.0]]);
    let d = crowding_distance(&p);
    assert!(d[0].is_infinite() && d[3].is_infinite());
    assert!(
        (d[1] - 1.2).abs() < 1e-12 && (d[2] - 1.5).abs() < 1e-12,
        "{d:?}"
    );
    // A constant objective adds nothing; a lone point has distance 0.
    let q = pts(&[&[1.0, 1.0], &[1.0, 2.0], &[1.0, 3.0]]);
    let d = crowding_distance(&q);
    assert!(d[0].is_infinite() && d[2].is_infinite() && (d[1] - 1.0).abs() < 1e-12);
    assert_eq!(crowding_distance(&pts(&[&[1.0, 2.0]])), vec![0.0]);
}

#[test]
fn reference_point_moves_the_worst_values_out() {
    let p = pts(&[&[1.0, -2.0, -4.0], &[3.0, 0.0, -5.0], &[2.0, -5.0, -6.0]]);
    let r = reference_point(&p);
    assert!((r[0] - 3.3).abs() < 1e-12);
    assert_eq!(r[1], EPS);
    assert!((r[2] - -3.6).abs() < 1e-12);
}

#[test]
fn hypervolume_by_hand() {
    // A staircase: 1 + 2 + 3; a dominated point, a duplicate and a point outside the box
    // change nothing.
    let p = pts(&[
        &[1.0, 3.0],
        &[2.0, 2.0],
        &[3.0, 1.0],
        &[3.0, 3.0],
        &[2.0, 2.0],
        &[5.0, 0.0],
    ]);
    assert!((hypervolume(&p, &[4.0, 4.0]) - 6.0).abs() < 1e-12);
    assert_eq!(hypervolume(&[], &[1.0, 1.0]), 0.0);
    assert_eq!(hypervolume(&pts(&[&[2.0, 0.0]]), &[1.0, 1.0]), 0.0);
    // Three dimensions.
    let r = [2.0, 2.0, 2.0];
    assert!((hypervolume(&pts(&[&[0.0, 0.0, 0.0]]), &[1.0, 2.0, 3.0]) - 6.0).abs() < 1e-12);
    assert!((hypervolume(&pts(&[&[0.0, 0.0, 1.0], &[1.0, 1.0, 0.0]]), &r) - 5.0).abs() < 1e-12);
    // Three unit-thick slabs: the 4 unit cubes of [0, 2]^3 with two coordinates >= 1.
    let three = pts(&[&[0.0, 1.0, 1.0], &[1.0, 0.0, 1.0], &[1.0, 1.0, 0.0]]);
    assert!((hypervolume(&three, &r) - 4.0).abs() < 1e-12);
    // One objective: the distance from the best to the reference.
    assert!((hypervolume(&pts(&[&[3.0], &[1.0]]), &[4.0]) - 3.0).abs() < 1e-12);
}

#[test]
fn hypervolume_matches_inclusion_exclusion() {
    let mut rng = Rng::seed_from_u64(11);
    for m in 2..=5 {
        for n in [1, 3, 5, 8, 10] {
            let p = random_points(&mut rng, n, m);
            let r = vec![1.1; m];
            let (fast, brute) = (hypervolume(&p, &r), brute_hypervolume(&p, &r));
            assert!(
                (fast - brute).abs() < 1e-9,
                "m {m} n {n}: {fast} vs {brute}"
            );
        }
    }
}

#[test]
fn the_three_objective_sweep_agrees_with_wfg() {
    let mut rng = Rng::seed_from_u64(21);
    for n in [3, 20, 80] {
        let p = random_points(&mut rng, n, 3);
        let r = [1.2, 1.1, 1.3];
        let (sweep, generic) = hypervolume::sweep_and_wfg(&p, &r);
        assert!(
            (sweep - generic).abs() < 1e-9,
            "n {n}: {sweep} vs {generic}"
        );
        assert!((hypervolume(&p, &r) - generic).abs() < 1e-9);
    }
}

#[test]
fn contributions_by_hand_and_as_leave_one_out_differences() {
    // Exclusive boxes: [1,2]x[3,4], [2,3]x[1.5,3], [3,4]x[1,1.5].
    let p = pts(&[&[1.0, 3.0], &[2.0, 1.5], &[3.0, 1.0], &[3.0, 3.0]]);
    let c = hypervolume_contributions(&p, &[4.0, 4.0]);
    let want = [1.0, 1.5, 0.5, 0.0];
    assert!(
        c.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
        "{c:?}"
    );
    // Duplicates add nothing to each other.
    let d = pts(&[&[1.0, 1.0], &[1.0, 1.0], &[0.5, 2.0]]);
    let c = hypervolume_contributions(&d, &[3.0, 3.0]);
    assert_eq!(&c[..2], &[0.0, 0.0]);
    assert!((c[2] - 0.5).abs() < 1e-12);
    let mut rng = Rng::seed_from_u64(3);
    for m in [2, 3, 4] {
        let p = random_points(&mut rng, 9, m);
        let r = vec![1.05; m];
        let all = hypervolume(&p, &r);
        for (i, ci) in hypervolume_contributions(&p, &r).iter().enumerate() {
            let mut rest = p.clone();
            rest.remove(i);
            let want = all - hypervolume(&rest, &r);
            assert!((ci - want).abs() < 1e-9, "m {m} point {i}: {ci} vs {want}");
        }
    }
}

#[test]
fn greedy_subset_selection() {
    // Boxes 3, 5 and 3: the middle first; then the first adds 1 and the last 0.5.
    let p = pts(&[&[1.0, 3.0], &[2.0, 1.5], &[3.0, 1.0]]);
    let r = [4.0, 4.0];
    assert_eq!(hssp_greedy(&p, 1, &r), vec![1]);
    assert_eq!(hssp_greedy(&p, 2, &r), vec![1, 0]);
    assert_eq!(hssp_greedy(&p, 3, &r), vec![0, 1, 2]);
    // Distinct points before duplicates.
    let d = pts(&[&[1.0, 1.0], &[1.0, 1.0], &[2.0, 0.0]]);
    assert_eq!(hssp_greedy(&d, 2, &[3.0, 3.0]), vec![0, 2]);
    // An infinite reference: the first k distinct points.
    assert_eq!(hssp_greedy(&p, 2, &[f64::INFINITY, 4.0]), vec![0, 1]);
    // The lazy greedy picks what the plain greedy (recomputing every gain) picks.
    let mut rng = Rng::seed_from_u64(8);
    for m in [2, 3] {
        let p: Vec<Vec<f64>> = (0..25)
            .map(|_| (0..m).map(|_| rng.next_f64()).collect())
            .collect();
        let r = vec![1.1; m];
        let mut chosen: Vec<usize> = Vec::new();
        for _ in 0..8 {
            let base: Vec<Vec<f64>> = chosen.iter().map(|&i| p[i].clone()).collect();
            let hv0 = hypervolume(&base, &r);
            let best = (0..p.len())
                .filter(|i| !chosen.contains(i))
                .map(|i| {
                    let mut with = base.clone();
                    with.push(p[i].clone());
                    (hypervolume(&with, &r) - hv0, i)
                })
                .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a });
            chosen.push(best.1);
        }
        assert_eq!(hssp_greedy(&p, 8, &r), chosen, "m {m}");
    }
}

#[test]
fn ragged_input_does_not_panic() {
    let p = pts(&[&[1.0, 2.0], &[0.5], &[2.0, 1.0, 7.0], &[]]);
    let r = [3.0, 3.0];
    // Only (1, 2) has as many values as the reference: its box, 2 x 1.
    assert!((hypervolume(&p, &r) - 2.0).abs() < 1e-12);
    assert_eq!(hypervolume_contributions(&p, &r)[1], 0.0);
    assert_eq!(hssp_greedy(&p, 2, &r).len(), 2);
    assert_eq!(crowding_distance(&p).len(), 4);
    assert_eq!(reference_point(&p).len(), 2);
    assert_eq!(non_dominated_ranks(&p, &[]).len(), 4);
}
