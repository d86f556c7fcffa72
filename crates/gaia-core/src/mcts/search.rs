//! The search: an arena of nodes, the algorithms' statistics beside them, and trials.
//!
//! A trial is one pending expansion: `ask` picks a node (the root or an answer) and an
//! action, the host produces a new answer from it however it likes, and `tell` adds that
//! answer as a child with its score. Every update is O(depth) along the new node's path
//! (AB-MCTS-A, standard MCTS) or O(log n) (best-first); nothing walks the whole tree.

use std::collections::{BinaryHeap, VecDeque};

use super::config::{Algorithm, Config, Pending, Selection};
use super::posterior::{Prior, Stats};
use super::Error;
use crate::stats::Rng;

/// The most trials one `ask` hands out.
pub const MAX_ASK: usize = 10_000;

/// The root's parent marker.
pub(crate) const NO_PARENT: u32 = u32::MAX;

/// What the host stored with an answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Payload {
    /// Nothing.
    #[default]
    None,
    /// An opaque 64-bit id (a row id, an index into the host's own storage).
    Id(u64),
    /// Bytes kept in the tree (the answer text).
    Bytes(Box<[u8]>),
}

/// One node: the root (id 0) or an answer.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) parent: u32,
    pub(crate) depth: u32,
    /// The action that produced it (0 for the root).
    pub(crate) action: u16,
    /// Cannot be expanded and has no expandable descendant (caps).
    pub(crate) full: bool,
    pub(crate) score: f64,
    pub(crate) payload: Payload,
    pub(crate) children: Vec<u32>,
    /// AB-MCTS-A: this node's posterior as its parent sees it (its score and every score in
    /// its subtree).
    pub(crate) as_child: Stats,
    /// AB-MCTS-A: the GEN and CONT posteriors shared by all actions (with `stack`, the
    /// per-action ones are in [`Search::stack`]).
    pub(crate) gen_cont: [Stats; 2],
    /// `virtual_loss`: pending expansions of this node, and at or below it.
    pub(crate) pending_here: u32,
    pub(crate) pending_below: u32,
}

/// AB-MCTS-A with `stack`, per node: GEN/CONT and the reward posterior of each action.
#[derive(Debug, Clone)]
pub(crate) struct StackState {
    pub(crate) pairs: Box<[[Stats; 2]]>,
    pub(crate) action_post: Box<[Stats]>,
}

/// Standard MCTS, per node: visits, score sum and the softmax prior among its siblings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Uct {
    pub(crate) visits: u32,
    pub(crate) value_sum: f64,
    pub(crate) prior: f64,
}

/// The life of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialState {
    /// Asked, not told yet.
    Pending,
    /// Told: its answer is node `.0`.
    Told(u32),
    /// Given up by the host (failed or timed-out call).
    Abandoned,
}

/// One expansion handed to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    /// The trial's id (ids count up from 0).
    pub id: u64,
    /// The node to expand: 0 is the root (produce a first answer), any other id an answer
    /// to refine.
    pub node: u32,
    /// The action (index into the configured actions).
    pub action: u16,
    /// Its state.
    pub state: TrialState,
}

/// A node as reported to the host.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo<'a> {
    /// Its id (0 is the root).
    pub id: u32,
    /// Its parent (`None` for the root).
    pub parent: Option<u32>,
    /// Its depth (root 0).
    pub depth: u32,
    /// The action that produced it (`None` for the root).
    pub action: Option<&'a str>,
    /// Its score (`None` for the root).
    pub score: Option<f64>,
    /// What the host stored with it.
    pub payload: &'a Payload,
    /// How many children it has.
    pub children: usize,
}

/// Best-first's queue entry: higher score first, then shallower, then older.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ranked {
    pub(crate) score: f64,
    pub(crate) depth: u32,
    pub(crate) id: u32,
}

impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.depth.cmp(&self.depth))
            .then(other.id.cmp(&self.id))
    }
}

/// A tree search driven by ask/tell. Not internally synchronised (the C ABI wraps it in a
/// lock).
#[derive(Debug, Clone)]
pub struct Search {
    pub(crate) config: Config,
    pub(crate) rng: Rng,
    pub(crate) nodes: Vec<Node>,
    pub(crate) trials: Vec<Trial>,
    /// AB-MCTS-A: every score each action produced (the global action bandit).
    pub(crate) action_global: Vec<Stats>,
    /// Standard MCTS and best-first: expansions waiting to be handed out.
    pub(crate) queue: VecDeque<(u32, u16)>,
    /// Best-first: the nodes not expanded yet.
    pub(crate) frontier: BinaryHeap<Ranked>,
    pub(crate) action_priors: Vec<Prior>,
    /// Per node, AB-MCTS-A with `stack` only (else empty).
    pub(crate) stack: Vec<StackState>,
    /// Per node, standard MCTS only (else empty).
    pub(crate) uct: Vec<Uct>,
    /// Per node, AB-MCTS-M only (else empty): its subtree's scores rounded to 0.01, counted,
    /// and the largest count (for treequest's pruning rule).
    pub(crate) hist: Vec<(std::collections::HashMap<u8, u32>, u32)>,
}

impl Search {
    /// Creates a search from a JSON configuration (see [`Config`]).
    pub fn from_json(json: &str) -> Result<Search, Error> {
        Ok(Search::new(Config::from_json(json)?))
    }

    /// Creates a search from a validated configuration.
    pub fn new(config: Config) -> Search {
        let seed = config.seed.unwrap_or_else(crate::stats::random_seed);
        let mut s = Search {
            rng: Rng::seed_from_u64(seed),
            nodes: Vec::new(),
            trials: Vec::new(),
            action_global: vec![Stats::default(); config.actions.len()],
            queue: VecDeque::new(),
            frontier: BinaryHeap::new(),
            action_priors: (0..config.actions.len())
                .map(|a| config.action_prior(a))
                .collect(),
            stack: Vec::new(),
            uct: Vec::new(),
            hist: Vec::new(),
            config,
        };
        let root = s.new_node(NO_PARENT, 0, 0, f64::NAN, Payload::None);
        s.push_node(root);
        s
    }

    /// Appends a node with the side tables its algorithm needs.
    pub(crate) fn push_node(&mut self, node: Node) {
        let n_actions = self.config.actions.len();
        if self.config.algorithm == Algorithm::AbMctsA && self.config.selection == Selection::Stack
        {
            self.stack.push(StackState {
                pairs: vec![[Stats::default(); 2]; n_actions].into_boxed_slice(),
                action_post: vec![Stats::default(); n_actions].into_boxed_slice(),
            });
        }
        if self.config.algorithm == Algorithm::AbMctsM {
            self.hist.push(Default::default());
        }
        if self.config.algorithm == Algorithm::StandardMcts {
            self.uct.push(Uct {
                visits: 0,
                value_sum: 0.0,
                prior: 1.0,
            });
        }
        self.nodes.push(node);
    }

    pub(crate) fn new_node(
        &self,
        parent: u32,
        depth: u32,
        action: u16,
        score: f64,
        payload: Payload,
    ) -> Node {
        Node {
            parent,
            depth,
            action,
            full: self.config.max_depth.is_some_and(|d| depth >= d),
            score,
            payload,
            children: Vec::new(),
            as_child: Stats::default(),
            gen_cont: [Stats::default(); 2],
            pending_here: 0,
            pending_below: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Nodes in the tree, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: there is a root.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every trial so far, by id.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// The index of an action name.
    pub fn action_index(&self, name: &str) -> Result<u16, Error> {
        self.config
            .actions
            .iter()
            .position(|a| a == name)
            .map(|i| i as u16)
            .ok_or_else(|| Error::UnknownAction {
                name: name.into(),
                known: self.config.actions.join(", "),
            })
    }

    /// Up to `n` (1..=[`MAX_ASK`]) new trials (fewer only when caps leave nothing to expand:
    /// then an error if none). Each is chosen from the tree as it stands: AB-MCTS-A does not account for
    /// pending trials (as treequest), so a batch may hold the same node twice.
    pub fn ask(&mut self, n: usize) -> Result<Vec<Trial>, Error> {
        if n == 0 || n > MAX_ASK {
            return Err(Error::InvalidArgument(format!(
                "ask needs n in 1..={MAX_ASK}, got {n}"
            )));
        }
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let Some((node, action)) = self.next_expansion() else {
                break;
            };
            let t = Trial {
                id: self.trials.len() as u64,
                node,
                action,
                state: TrialState::Pending,
            };
            self.trials.push(t);
            self.mark_pending(node, true);
            out.push(t);
        }
        if out.is_empty() {
            return Err(Error::TreeFull {
                nodes: self.nodes.len(),
            });
        }
        Ok(out)
    }

    fn next_expansion(&mut self) -> Option<(u32, u16)> {
        match self.config.algorithm {
            Algorithm::AbMctsA | Algorithm::AbMctsM => {
                if self.nodes[0].full {
                    return None;
                }
                Some(self.ab_select())
            }
            Algorithm::RepeatedSampling => {
                let a = (self.trials.len() % self.config.actions.len()) as u16;
                Some((0, a))
            }
            Algorithm::StandardMcts | Algorithm::BestFirst => {
                if self.queue.is_empty() {
                    let node = if self.config.algorithm == Algorithm::StandardMcts {
                        self.uct_select()
                    } else {
                        self.frontier.pop().map_or(0, |r| r.id)
                    };
                    let (k, na) = (self.config.samples_per_action, self.config.actions.len());
                    if self.config.algorithm == Algorithm::StandardMcts {
                        for _ in 0..k {
                            for a in 0..na {
                                self.queue.push_back((node, a as u16));
                            }
                        }
                    } else {
                        for a in 0..na {
                            for _ in 0..k {
                                self.queue.push_back((node, a as u16));
                            }
                        }
                    }
                }
                self.queue.pop_front()
            }
        }
    }

    fn trial_mut(&mut self, id: u64) -> Result<&mut Trial, Error> {
        let count = self.trials.len();
        usize::try_from(id)
            .ok()
            .and_then(|i| self.trials.get_mut(i))
            .ok_or(Error::UnknownTrial { id, count })
    }

    /// Adds the answer of trial `id` with its `score` in [0, 1] and returns its node id.
    /// Idempotent: telling a trial again returns the same node and changes nothing. A score
    /// outside [0, 1] or NaN, an unknown or abandoned trial are errors that change nothing.
    pub fn tell(&mut self, id: u64, score: f64, payload: Payload) -> Result<u32, Error> {
        let trial = *self.trial_mut(id)?;
        match trial.state {
            TrialState::Told(node) => return Ok(node),
            TrialState::Abandoned => {
                return Err(Error::TrialFinished {
                    id,
                    how: "abandoned",
                })
            }
            TrialState::Pending => {}
        }
        if !(0.0..=1.0).contains(&score) {
            return Err(Error::InvalidScore { id, score });
        }
        if self.nodes.len() >= NO_PARENT as usize - 1 {
            return Err(Error::TreeFull {
                nodes: self.nodes.len(),
            });
        }
        self.mark_pending(trial.node, false);
        let parent = trial.node;
        let depth = self.nodes[parent as usize].depth + 1;
        let new_id = self.nodes.len() as u32;
        let node = self.new_node(parent, depth, trial.action, score, payload);
        self.push_node(node);
        self.nodes[parent as usize].children.push(new_id);
        match self.config.algorithm {
            Algorithm::AbMctsA => self.ab_backpropagate(new_id, score),
            Algorithm::AbMctsM => {
                self.ab_backpropagate(new_id, score);
                self.count_score(new_id, score);
            }
            Algorithm::StandardMcts => self.uct_backpropagate(new_id, score),
            Algorithm::BestFirst => self.frontier.push(Ranked {
                score,
                depth,
                id: new_id,
            }),
            Algorithm::RepeatedSampling => {}
        }
        self.update_full(new_id);
        if let Ok(t) = self.trial_mut(id) {
            t.state = TrialState::Told(new_id);
        }
        Ok(new_id)
    }

    /// Gives up trial `id` (its call failed or timed out): nothing is added. Queued
    /// algorithms hand the same expansion out again. Abandoning twice is a no-op; after a
    /// tell it is an error.
    pub fn abandon(&mut self, id: u64) -> Result<(), Error> {
        let trial = *self.trial_mut(id)?;
        match trial.state {
            TrialState::Abandoned => Ok(()),
            TrialState::Told(_) => Err(Error::TrialFinished { id, how: "told" }),
            TrialState::Pending => {
                if matches!(
                    self.config.algorithm,
                    Algorithm::StandardMcts | Algorithm::BestFirst
                ) {
                    self.queue.push_front((trial.node, trial.action));
                }
                self.trial_mut(id)?.state = TrialState::Abandoned;
                self.mark_pending(trial.node, false);
                Ok(())
            }
        }
    }

    /// Node `id` as the host sees it.
    pub fn node(&self, id: u32) -> Result<NodeInfo<'_>, Error> {
        let n = self.nodes.get(id as usize).ok_or(Error::UnknownNode {
            id,
            count: self.nodes.len(),
        })?;
        let root = id == 0;
        Ok(NodeInfo {
            id,
            parent: (!root).then_some(n.parent),
            depth: n.depth,
            action: (!root).then(|| self.config.actions[n.action as usize].as_str()),
            score: (!root).then_some(n.score),
            payload: &n.payload,
            children: n.children.len(),
        })
    }

    /// The `k` best answers, best first (ties: older first).
    pub fn top_k(&self, k: usize) -> Vec<NodeInfo<'_>> {
        let mut heap: BinaryHeap<std::cmp::Reverse<(OrdF64, std::cmp::Reverse<u32>)>> =
            BinaryHeap::with_capacity(k + 1);
        if k == 0 {
            return Vec::new();
        }
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            heap.push(std::cmp::Reverse((
                OrdF64(n.score),
                std::cmp::Reverse(i as u32),
            )));
            if heap.len() > k {
                heap.pop();
            }
        }
        let mut ids: Vec<(OrdF64, std::cmp::Reverse<u32>)> =
            heap.into_iter().map(|r| r.0).collect();
        ids.sort_by(|a, b| b.cmp(a));
        ids.into_iter()
            .filter_map(|(_, id)| self.node(id.0).ok())
            .collect()
    }

    /// AB-MCTS-M: counts `score` (rounded to 0.01) in the histograms of `id` and its
    /// ancestors.
    pub(crate) fn count_score(&mut self, id: u32, score: f64) {
        let bucket = (score * 100.0).round().clamp(0.0, 100.0) as u8;
        let mut cur = id;
        while cur != NO_PARENT {
            if let Some((h, mode)) = self.hist.get_mut(cur as usize) {
                let c = h.entry(bucket).or_insert(0);
                *c += 1;
                *mode = (*mode).max(*c);
            }
            cur = self.nodes[cur as usize].parent;
        }
    }

    /// `virtual_loss`: counts (or uncounts) a pending expansion of node `p` on its path.
    pub(crate) fn mark_pending(&mut self, p: u32, add: bool) {
        if self.config.pending != Pending::VirtualLoss
            || self.config.algorithm != Algorithm::AbMctsA
        {
            return;
        }
        let step = |x: &mut u32| {
            *x = if add {
                x.saturating_add(1)
            } else {
                x.saturating_sub(1)
            }
        };
        step(&mut self.nodes[p as usize].pending_here);
        let mut cur = p;
        while cur != NO_PARENT {
            step(&mut self.nodes[cur as usize].pending_below);
            cur = self.nodes[cur as usize].parent;
        }
    }

    /// Marks node `id` full when nothing can grow below it, and its ancestors in turn.
    fn update_full(&mut self, id: u32) {
        if self.config.max_width.is_none() && self.config.max_depth.is_none() {
            return;
        }
        let mut cur = id;
        loop {
            let n = &self.nodes[cur as usize];
            let can_gen = self.can_gen(cur);
            let full = !can_gen && n.children.iter().all(|c| self.nodes[*c as usize].full);
            let (was, parent) = (n.full, n.parent);
            if full == was && cur != id {
                break;
            }
            self.nodes[cur as usize].full = full;
            if parent == NO_PARENT {
                break;
            }
            cur = parent;
        }
    }

    /// Whether node `id` may get a new child (caps).
    pub(crate) fn can_gen(&self, id: u32) -> bool {
        let n = &self.nodes[id as usize];
        self.config.max_depth.is_none_or(|d| n.depth < d)
            && self
                .config
                .max_width
                .is_none_or(|w| n.children.len() < w as usize)
    }
}

/// f64 with a total order (for heaps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OrdF64(pub(crate) f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Search {
    /// A node as JSON: `{"id", "parent", "depth", "action", "score", "children",
    /// "payload_id", "payload_len"}` (null parent, action and score for the root).
    pub fn node_json(&self, id: u32) -> Result<serde_json::Value, Error> {
        let n = self.node(id)?;
        let (pid, plen) = match n.payload {
            Payload::None => (None, 0),
            Payload::Id(x) => (Some(*x), 0),
            Payload::Bytes(b) => (None, b.len()),
        };
        Ok(serde_json::json!({
            "id": n.id, "parent": n.parent, "depth": n.depth, "action": n.action,
            "score": n.score, "children": n.children, "payload_id": pid, "payload_len": plen,
        }))
    }

    /// [`Search::top_k`] as a JSON array of [`Search::node_json`] objects.
    pub fn top_k_json(&self, k: usize) -> String {
        let v: Vec<serde_json::Value> = self
            .top_k(k)
            .iter()
            .filter_map(|n| self.node_json(n.id).ok())
            .collect();
        serde_json::Value::Array(v).to_string()
    }
}
