//! AB-MCTS-M (the mixed-model variant of Inoue et al. 2025), with treequest's decision rule
//! and a quadrature fit in place of NUTS ([`super::mixed`]): at node P, the scores of each
//! child's subtree form one group of a hierarchical normal model; each child's score is a
//! posterior-predictive draw for its group and GEN's a draw for a new group; the best wins
//! (GEN only while P may grow). A leaf always generates. The action of a GEN: with one
//! action, it; with `ucb`, UCB1 over each action's scores; otherwise the same model over
//! the actions' scores (an action not tried yet draws as a new group).
//!
//! Pruning, as treequest: a child whose subtree repeats one score (at least 4 scores, 75% of
//! them equal at 0.01) is passed over when it draws best; the next best child that is not
//! prunable is taken instead (GEN is not considered in that fallback), and GEN when every
//! child is prunable. Each node keeps its subtree's score histogram, updated along the new
//! node's path.

use super::ab_mcts_a::Step;
use super::config::{RewardAverage, Selection};
use super::mixed::{Fit, MixedPrior};
use super::posterior::Stats;
use super::search::Search;

impl Search {
    fn mixed_prior(&self) -> MixedPrior {
        let mut p = MixedPrior::default();
        if let Some(RewardAverage::All(v)) = self.config.reward_average_priors {
            p.mu_mean = v;
        }
        p
    }

    /// The decision at `p` for AB-MCTS-M.
    pub(crate) fn m_step(&mut self, p: u32) -> Step {
        let can_gen = self.can_gen(p);
        let open: Vec<u32> = self.nodes[p as usize]
            .children
            .iter()
            .copied()
            .filter(|&c| !self.nodes[c as usize].full)
            .collect();
        if open.is_empty() {
            return Step::Expand(self.m_action());
        }
        let groups: Vec<Stats> = open
            .iter()
            .map(|&c| self.nodes[c as usize].as_child)
            .collect();
        let fit = Fit::new(&groups, &self.mixed_prior());
        let mut options: Vec<(f64, Option<u32>)> = open
            .iter()
            .enumerate()
            .map(|(j, &c)| (fit.draw(Some(j), &mut self.rng), Some(c)))
            .collect();
        if can_gen {
            options.push((fit.draw(None, &mut self.rng), None));
        }
        // Best first; on ties the earlier option (children in order, then GEN).
        options.sort_by(|a, b| b.0.total_cmp(&a.0));
        match options.first() {
            Some((_, Some(c))) if !self.prunable(*c) => Step::Descend(*c),
            Some((_, Some(_))) => options
                .iter()
                .find_map(|(_, c)| c.filter(|c| !self.prunable(*c)))
                .map_or_else(|| Step::Expand(self.m_action()), Step::Descend),
            _ => Step::Expand(self.m_action()),
        }
    }

    /// treequest's rule: at least 4 scores in the subtree, 75% of them the same at 0.01.
    pub(crate) fn prunable(&self, c: u32) -> bool {
        let total = self.nodes[c as usize].as_child.n;
        let mode = self.hist.get(c as usize).map_or(0, |h| h.1);
        total >= 4.0 && f64::from(mode) / total >= 0.75
    }

    /// The action of a GEN under AB-MCTS-M.
    fn m_action(&mut self) -> u16 {
        let n = self.config.actions.len();
        if n == 1 {
            return 0;
        }
        if self.config.selection == Selection::Ucb {
            return self.global_action();
        }
        let groups = self.action_global.clone();
        let fit = Fit::new(&groups, &self.mixed_prior());
        let mut best = (f64::NEG_INFINITY, 0u16);
        for (a, g) in groups.iter().enumerate() {
            let j = (g.n > 0.0).then_some(a);
            let v = fit.draw(j, &mut self.rng);
            if v > best.0 {
                best = (v, a as u16);
            }
        }
        best.1
    }
}
