//! Versioned binary snapshots of a whole search: configuration, nodes with their
//! statistics and payloads, trials (pending ones included), queues and the generator, so a
//! PHP request can continue a search another request started, with identical draws.
//!
//! Layout (little-endian): `GAIAMCTS`, version u32, the configuration as JSON (u32 length +
//! bytes), the generator (4 x u64), the nodes, the trials, the action statistics, the
//! expansion queue, the best-first frontier, and a CRC-32 of everything before it. Children
//! lists are not stored: they are the nodes in id order by parent. Loading checks every
//! field and the tree's shape; anything off is `Corrupt`, never a panic.

use super::config::Config;
use super::posterior::Stats;
use super::search::{Node, Payload, Ranked, Search, Trial, TrialState, NO_PARENT};
use super::Error;
use crate::checksum::crc32;
use crate::stats::Rng;

const MAGIC: &[u8; 8] = b"GAIAMCTS";
/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

struct W(Vec<u8>);
impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn stats(&mut self, s: &Stats) {
        self.f64(s.n);
        self.f64(s.mean);
        self.f64(s.m2);
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}
impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or_else(|| Error::Corrupt(format!("truncated at byte {}", self.at)))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn f64(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.arr()?))
    }
    fn count(&mut self, what: &str, min_bytes_each: usize) -> Result<usize, Error> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_bytes_each) > self.b.len() - self.at {
            return Err(Error::Corrupt(format!("{what} count {n} exceeds the data")));
        }
        Ok(n)
    }
    fn stats(&mut self, what: &str) -> Result<Stats, Error> {
        let s = Stats {
            n: self.f64()?,
            mean: self.f64()?,
            m2: self.f64()?,
        };
        if !(s.n.is_finite()
            && s.n >= 0.0
            && s.mean.is_finite()
            && s.m2.is_finite()
            && s.m2 >= -1e-9)
        {
            return Err(Error::Corrupt(format!("{what}: invalid statistics")));
        }
        Ok(s)
    }
}

impl Search {
    /// The whole search as a versioned binary snapshot for [`Search::load`].
    pub fn save(&self) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(64 + self.nodes.len() * 96));
        w.0.extend_from_slice(MAGIC);
        w.u32(SNAPSHOT_VERSION);
        w.bytes(
            serde_json::to_string(&self.config)
                .unwrap_or_default()
                .as_bytes(),
        );
        for x in self.rng.state() {
            w.u64(x);
        }
        w.u32(self.nodes.len() as u32);
        for (i, n) in self.nodes.iter().enumerate() {
            w.u32(n.parent);
            w.u16(n.action);
            w.u8(u8::from(n.full));
            w.f64(n.score);
            match &n.payload {
                Payload::None => w.u8(0),
                Payload::Id(id) => {
                    w.u8(1);
                    w.u64(*id);
                }
                Payload::Bytes(b) => {
                    w.u8(2);
                    w.bytes(b);
                }
            }
            w.stats(&n.as_child);
            w.stats(&n.gen_cont[0]);
            w.stats(&n.gen_cont[1]);
            if let Some(st) = self.stack.get(i) {
                for pair in st.pairs.iter() {
                    w.stats(&pair[0]);
                    w.stats(&pair[1]);
                }
                for s in st.action_post.iter() {
                    w.stats(s);
                }
            }
            if let Some(u) = self.uct.get(i) {
                w.u32(u.visits);
                w.f64(u.value_sum);
                w.f64(u.prior);
            }
        }
        w.u32(self.trials.len() as u32);
        for t in &self.trials {
            w.u32(t.node);
            w.u16(t.action);
            match t.state {
                TrialState::Pending => w.u8(0),
                TrialState::Told(node) => {
                    w.u8(1);
                    w.u32(node);
                }
                TrialState::Abandoned => w.u8(2),
            }
        }
        for s in &self.action_global {
            w.stats(s);
        }
        w.u32(self.queue.len() as u32);
        for (node, action) in &self.queue {
            w.u32(*node);
            w.u16(*action);
        }
        let mut frontier: Vec<Ranked> = self.frontier.iter().copied().collect();
        frontier.sort_by(|a, b| b.cmp(a));
        w.u32(frontier.len() as u32);
        for r in frontier {
            w.u32(r.id);
        }
        let crc = crc32(&w.0);
        w.u32(crc);
        w.0
    }

    /// Restores a search saved by [`Search::save`], checking everything.
    pub fn load(bytes: &[u8]) -> Result<Search, Error> {
        if bytes.len() < MAGIC.len() + 8 || &bytes[..8] != MAGIC {
            return Err(Error::Corrupt("not a gaia mcts snapshot".into()));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != SNAPSHOT_VERSION {
            return Err(Error::UnsupportedVersion {
                found: version,
                supported: SNAPSHOT_VERSION,
            });
        }
        let (body, tail) = bytes.split_at(bytes.len() - 4);
        let crc = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        if crc != crc32(body) {
            return Err(Error::Corrupt("checksum mismatch".into()));
        }
        let mut r = R { b: body, at: 12 };
        let len = r.count("config", 1)?;
        let config_text = std::str::from_utf8(r.take(len)?)
            .map_err(|_| Error::Corrupt("config is not UTF-8".into()))?;
        let config = Config::from_json(config_text).map_err(|e| Error::Corrupt(e.to_string()))?;
        let state = [r.u64()?, r.u64()?, r.u64()?, r.u64()?];
        let rng = Rng::from_state(state).ok_or_else(|| Error::Corrupt("generator state".into()))?;
        let mut s = Search::new(config);
        s.rng = rng;
        s.nodes.clear();
        s.stack.clear();
        s.uct.clear();
        let n_actions = s.config.actions.len();
        let count = r.count("node", 4 + 2 + 1 + 8 + 1 + 72)?;
        if count == 0 {
            return Err(Error::Corrupt("no root node".into()));
        }
        for id in 0..count {
            let at = |what: &str| format!("node {id}: {what}");
            let parent = r.u32()?;
            let action = r.u16()?;
            let full = r.u8()? != 0;
            let score = r.f64()?;
            let payload = match r.u8()? {
                0 => Payload::None,
                1 => Payload::Id(r.u64()?),
                2 => {
                    let n = r.count("payload", 1)?;
                    Payload::Bytes(r.take(n)?.to_vec().into_boxed_slice())
                }
                _ => return Err(Error::Corrupt(at("payload kind"))),
            };
            let depth = if id == 0 {
                if parent != NO_PARENT {
                    return Err(Error::Corrupt(at("the root has a parent")));
                }
                0
            } else {
                if parent as usize >= id {
                    return Err(Error::Corrupt(at("parent after child")));
                }
                if action as usize >= n_actions || !(0.0..=1.0).contains(&score) {
                    return Err(Error::Corrupt(at("action or score out of range")));
                }
                s.nodes[parent as usize].depth + 1
            };
            let mut node: Node = s.new_node(parent, depth, action, score, payload);
            node.full = full;
            node.as_child = r.stats(&at("posterior"))?;
            node.gen_cont = [r.stats(&at("GEN"))?, r.stats(&at("CONT"))?];
            if id > 0 {
                s.nodes[parent as usize].children.push(id as u32);
            }
            s.push_node(node);
            if let Some(st) = s.stack.get_mut(id) {
                for pair in st.pairs.iter_mut() {
                    pair[0] = r.stats(&at("GEN"))?;
                    pair[1] = r.stats(&at("CONT"))?;
                }
                for p in st.action_post.iter_mut() {
                    *p = r.stats(&at("action posterior"))?;
                }
            }
            if let Some(u) = s.uct.get_mut(id) {
                u.visits = r.u32()?;
                u.value_sum = r.f64()?;
                u.prior = r.f64()?;
                if !(u.value_sum.is_finite() && u.prior.is_finite()) {
                    return Err(Error::Corrupt(at("visit statistics")));
                }
            }
        }
        let count = r.count("trial", 7)?;
        let n_nodes = s.nodes.len();
        for id in 0..count {
            let node = r.u32()?;
            let action = r.u16()?;
            let state = match r.u8()? {
                0 => TrialState::Pending,
                1 => TrialState::Told(r.u32()?),
                2 => TrialState::Abandoned,
                _ => return Err(Error::Corrupt(format!("trial {id}: state"))),
            };
            let told_ok = match state {
                TrialState::Told(n) => (n as usize) < n_nodes && n > 0,
                _ => true,
            };
            if node as usize >= n_nodes || action as usize >= n_actions || !told_ok {
                return Err(Error::Corrupt(format!(
                    "trial {id}: node or action out of range"
                )));
            }
            s.trials.push(Trial {
                id: id as u64,
                node,
                action,
                state,
            });
        }
        for a in 0..n_actions {
            s.action_global[a] = r.stats("action statistics")?;
        }
        // Score histograms (AB-MCTS-M) and pending counts are derived, not stored.
        for id in 1..s.nodes.len() {
            let score = s.nodes[id].score;
            s.count_score(id as u32, score);
        }
        let pending: Vec<u32> = s
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Pending)
            .map(|t| t.node)
            .collect();
        for node in pending {
            s.mark_pending(node, true);
        }
        let count = r.count("queue", 6)?;
        for _ in 0..count {
            let (node, action) = (r.u32()?, r.u16()?);
            if node as usize >= n_nodes || action as usize >= n_actions {
                return Err(Error::Corrupt("queue entry out of range".into()));
            }
            s.queue.push_back((node, action));
        }
        let count = r.count("frontier", 4)?;
        for _ in 0..count {
            let id = r.u32()?;
            let n = s
                .nodes
                .get(id as usize)
                .filter(|_| id > 0)
                .ok_or_else(|| Error::Corrupt("frontier entry out of range".into()))?;
            s.frontier.push(Ranked {
                score: n.score,
                depth: n.depth,
                id,
            });
        }
        if r.at != body.len() {
            return Err(Error::Corrupt(format!(
                "{} unexpected bytes at the end",
                body.len() - r.at
            )));
        }
        Ok(s)
    }

    /// The tree as JSON for visualisation: `{"actions", "nodes": [{"id", "parent", "depth",
    /// "action", "score"}], "trials": [{"id", "node", "action", "state"}]}` (payload bytes
    /// are not included; ids are).
    pub fn export_json(&self) -> String {
        let nodes: Vec<serde_json::Value> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let root = i == 0;
                serde_json::json!({
                    "id": i,
                    "parent": if root { None } else { Some(n.parent) },
                    "depth": n.depth,
                    "action": if root { None } else { Some(&self.config.actions[n.action as usize]) },
                    "score": if root { None } else { Some(n.score) },
                    "payload_id": match n.payload { Payload::Id(x) => Some(x), _ => None },
                })
            })
            .collect();
        let trials: Vec<serde_json::Value> = self
            .trials
            .iter()
            .map(|t| {
                let (state, node) = match t.state {
                    TrialState::Pending => ("pending", None),
                    TrialState::Told(n) => ("told", Some(n)),
                    TrialState::Abandoned => ("abandoned", None),
                };
                serde_json::json!({"id": t.id, "node": t.node,
                    "action": self.config.actions[t.action as usize], "state": state, "child": node})
            })
            .collect();
        serde_json::json!({"actions": self.config.actions, "nodes": nodes, "trials": trials})
            .to_string()
    }
}
