//! The baselines beside AB-MCTS-A, so users can compare on their own task: standard MCTS
//! with UCT and softmax priors (treequest's `StandardMCTS`), best-first (the frontier is a
//! heap in `Search`) and repeated sampling (in `Search::ask`).

use super::search::{Search, NO_PARENT};

impl Search {
    /// UCT from the root down to a leaf: for each child, mean score plus
    /// `w * prior * sqrt(ln(parent visits) / visits)`, the prior being the softmax of the
    /// siblings' scores (1 for an only child); the first child on ties.
    pub(crate) fn uct_select(&self) -> u32 {
        let w = self.config.exploration_weight;
        let mut node = 0u32;
        while !self.nodes[node as usize].children.is_empty() {
            let p = &self.nodes[node as usize];
            let parent_visits = f64::from(self.uct[node as usize].visits.max(1));
            let mut best = (f64::NEG_INFINITY, p.children[0]);
            for &c in &p.children {
                let n = &self.uct[c as usize];
                let visits = f64::from(n.visits.max(1));
                let uct = n.value_sum / visits + w * n.prior * (parent_visits.ln() / visits).sqrt();
                if uct > best.0 {
                    best = (uct, c);
                }
            }
            node = best.1;
        }
        node
    }

    /// Visits and score sums from new node `c` up to the root, then the softmax priors of
    /// `c`'s siblings.
    pub(crate) fn uct_backpropagate(&mut self, c: u32, score: f64) {
        let mut cur = c;
        while cur != NO_PARENT {
            let u = &mut self.uct[cur as usize];
            u.visits += 1;
            u.value_sum += score;
            cur = self.nodes[cur as usize].parent;
        }
        let p = self.nodes[c as usize].parent as usize;
        if self.nodes[p].children.len() > 1 {
            let kids = self.nodes[p].children.clone();
            let max = kids
                .iter()
                .map(|&k| self.nodes[k as usize].score)
                .fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = kids
                .iter()
                .map(|&k| (self.nodes[k as usize].score - max).exp())
                .collect();
            let total: f64 = exps.iter().sum();
            for (&k, e) in kids.iter().zip(exps) {
                self.uct[k as usize].prior = e / total;
            }
        }
    }
}
