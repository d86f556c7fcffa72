//! AB-MCTS-A (Inoue et al. 2025, "Wider or Deeper? Scaling LLM Inference-Time Compute with
//! Adaptive Branching Tree Search", node aggregation), with treequest's semantics:
//!
//! * Every node P holds a GEN posterior (the scores of P's direct children), a CONT
//!   posterior (every score two or more levels below P), and, per child c, c's posterior
//!   (c's score and every score in c's subtree).
//! * Selection from the root: Thompson sampling GEN vs CONT at P (GEN on ties); GEN, or no
//!   child, ends the walk with an expansion of P; CONT moves to the child with the highest
//!   draw. A leaf always generates.
//! * The action of a GEN: with one action, it; with `thompson`, the best draw of each
//!   action's posterior over every score it produced in the whole tree (its prior mean from
//!   `reward_average_priors`); with `ucb`, UCB1 over the same; with `stack`, per node, an
//!   action first (Thompson over the node's per-action posteriors) and then GEN/CONT for
//!   that action among the children it made.
//!
//! Every posterior is sufficient statistics ([`super::posterior::Stats`]): a step costs
//! the draws along one root-to-node path, and an update the nodes on the new node's path.

use super::config::Selection;
use super::search::{Search, NO_PARENT};

const GEN: usize = 0;
const CONT: usize = 1;

impl Search {
    /// The node to expand and the action, from the root down.
    pub(crate) fn ab_select(&mut self) -> (u32, u16) {
        let mut node = 0u32;
        loop {
            match self.ab_step(node) {
                Step::Expand(action) => return (node, action),
                Step::Descend(child) => node = child,
            }
        }
    }
}

/// One step of the selection at a node: expand it with an action, or go to a child.
pub(crate) enum Step {
    Expand(u16),
    Descend(u32),
}

impl Search {
    /// The decision at `p` (treequest's `NodeProbState.select_next`, with caps).
    pub(crate) fn ab_step(&mut self, p: u32) -> Step {
        let stack = self.config.selection == Selection::Stack;
        let can_gen = self.can_gen(p);
        if stack {
            let action = self.stack_action(p);
            let [gen, cont] = self.nodes[p as usize].gen_cont[action as usize];
            let g = gen.draw(&self.config.prior, &mut self.rng);
            let c = cont.draw(&self.config.prior, &mut self.rng);
            let open = self.open_children(p, Some(action));
            if (g >= c && can_gen) || open.is_empty() {
                if can_gen {
                    return Step::Expand(action);
                }
                // This action's children are all full: any open child will do.
                let any = self.open_children(p, None);
                return Step::Descend(self.thompson_child(&any));
            }
            return Step::Descend(self.thompson_child(&open));
        }
        let [gen, cont] = self.nodes[p as usize].gen_cont[0];
        let g = gen.draw(&self.config.prior, &mut self.rng);
        let c = cont.draw(&self.config.prior, &mut self.rng);
        let open = self.open_children(p, None);
        if (g >= c && can_gen) || open.is_empty() {
            return Step::Expand(self.global_action());
        }
        Step::Descend(self.thompson_child(&open))
    }

    /// Children of `p` that can still grow (all of them without caps), optionally only
    /// those made by `action`.
    fn open_children(&self, p: u32, action: Option<u16>) -> Vec<u32> {
        self.nodes[p as usize]
            .children
            .iter()
            .copied()
            .filter(|&c| {
                let n = &self.nodes[c as usize];
                !n.full && action.is_none_or(|a| n.action == a)
            })
            .collect()
    }

    /// The child with the highest posterior draw (the first on ties).
    fn thompson_child(&mut self, children: &[u32]) -> u32 {
        let mut best = (f64::NEG_INFINITY, children[0]);
        for &c in children {
            let v = self.nodes[c as usize]
                .as_child
                .draw(&self.config.prior, &mut self.rng);
            if v > best.0 {
                best = (v, c);
            }
        }
        best.1
    }

    /// `stack`: the action with the best draw of `p`'s per-action posteriors.
    fn stack_action(&mut self, p: u32) -> u16 {
        let mut best = (f64::NEG_INFINITY, 0u16);
        for a in 0..self.config.actions.len() {
            let s = self.nodes[p as usize].action_post[a];
            let v = s.draw(&self.action_priors[a], &mut self.rng);
            if v > best.0 {
                best = (v, a as u16);
            }
        }
        best.1
    }

    /// The action of a GEN: the global bandit over every score each action produced.
    fn global_action(&mut self) -> u16 {
        let n = self.config.actions.len();
        if n == 1 {
            return 0;
        }
        let mut best = (f64::NEG_INFINITY, 0u16);
        match self.config.selection {
            Selection::Ucb => {
                let total: f64 = self.action_global.iter().map(|s| s.n).sum();
                for (a, s) in self.action_global.iter().enumerate() {
                    let v = if s.n == 0.0 {
                        f64::INFINITY
                    } else {
                        s.mean + std::f64::consts::SQRT_2 * (total.ln() / s.n).sqrt()
                    };
                    if v > best.0 {
                        best = (v, a as u16);
                    }
                }
            }
            _ => {
                for a in 0..n {
                    let v = self.action_global[a].draw(&self.action_priors[a], &mut self.rng);
                    if v > best.0 {
                        best = (v, a as u16);
                    }
                }
            }
        }
        best.1
    }

    /// Records the score of new node `c` along its path (treequest's `tell` and
    /// `_backpropagate`).
    pub(crate) fn ab_backpropagate(&mut self, c: u32, score: f64) {
        let stack = self.config.selection == Selection::Stack;
        let action = self.nodes[c as usize].action as usize;
        self.action_global[action].observe(score);
        // The parent's posterior of its new child starts with the child's own score.
        self.nodes[c as usize].as_child.observe(score);
        let p = self.nodes[c as usize].parent;
        {
            let pn = &mut self.nodes[p as usize];
            let pair = if stack { action } else { 0 };
            pn.gen_cont[pair][GEN].observe(score);
            if stack {
                pn.action_post[action].observe(score);
            }
        }
        // Every ancestor Q above P learns the score through its child on the path.
        let mut cur = p;
        loop {
            let q = self.nodes[cur as usize].parent;
            if q == NO_PARENT {
                break;
            }
            let a = self.nodes[cur as usize].action as usize;
            self.nodes[cur as usize].as_child.observe(score);
            let qn = &mut self.nodes[q as usize];
            qn.gen_cont[if stack { a } else { 0 }][CONT].observe(score);
            if stack {
                qn.action_post[a].observe(score);
            }
            cur = q;
        }
    }
}
