//! AB-MCTS-M (the mixed-model variant of Inoue et al. 2025), with treequest's decision rule
//! and a quadrature fit in place of NUTS ([`super::mixed`]): at node P, the scores of each
//! child's subtree form one group of a hierarchical normal model; each child's score is a
//! posterior-predictive draw for its group and GEN's a draw for a new group; the best wins
//! (GEN only while P may grow). A leaf always generates. The action of a GEN: with one
//! action, it; with `ucb`, UCB1 over each action's scores; otherwise the same model over
//! the actions' scores (an action not tried yet draws as a new group).
//!
//! treequest also prunes a child whose subtree repeats one score (75% of at least 4 scores
//! equal to 0.01); that rule needs every subtree's score histogram and is not implemented.

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
        let mut best: Option<(f64, Option<u32>)> = None;
        for (j, &c) in open.iter().enumerate() {
            let v = fit.draw(Some(j), &mut self.rng);
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, Some(c)));
            }
        }
        if can_gen {
            let v = fit.draw(None, &mut self.rng);
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, None));
            }
        }
        match best {
            Some((_, Some(c))) => Step::Descend(c),
            _ => Step::Expand(self.m_action()),
        }
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
