//! Delayed feedback: the asks still waiting for their reward, and what became of the others.
//!
//! Tickets count up from 1. A pending ask remembers its arm, its time, its context (LinTS)
//! and the probability it was drawn with (EXP3). Ask times never decrease in ticket order
//! (an ask while the clock reads earlier than the newest pending ask is recorded at that
//! ask's time), so the oldest pending ask is always the first and expiry only looks there.
//!
//! A ticket that is no longer pending was told, expired, or dropped with its arm. Telling
//! it again must say which: expiries and drops are remembered in a short log
//! ([`MAX_CLOSED`] entries, saved with the bandit); a ticket below the next id that is
//! neither pending nor in the log was told, unless it is older than what the log has
//! forgotten (`horizon`), in which case the message says that it cannot tell which.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

/// How many expired or dropped tickets are remembered for the messages of late tells.
pub const MAX_CLOSED: usize = 256;

/// An ask waiting for its reward.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pending {
    /// The arm's index.
    pub(super) arm: usize,
    /// When it was asked, unix seconds.
    pub(super) at: f64,
    /// LinTS: the context (empty otherwise).
    pub(super) context: Vec<f64>,
    /// EXP3: the probability the arm was drawn with.
    pub(super) p: Option<f64>,
}

/// The persisted form of a pending ask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SavedPending {
    pub(super) ticket: u64,
    pub(super) arm: usize,
    pub(super) at: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) context: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) p: Option<f64>,
}

/// Why a ticket closed without being told: `None` expired, `Some(arm)` dropped when that arm
/// was removed. Saved as `[ticket, null]` / `[ticket, "arm"]`.
pub(super) type Closed = (u64, Option<String>);

/// The tickets of one bandit.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tickets {
    /// Seconds after which a pending ask expires.
    pub(super) ttl: f64,
    /// The reward an expired ask counts as; `None` drops it.
    pub(super) expired_reward: Option<f64>,
    /// The id the next ask gets.
    pub(super) next: u64,
    /// Pending asks by ticket.
    pub(super) pending: BTreeMap<u64, Pending>,
    /// The latest expiries and drops, oldest first.
    pub(super) closed: VecDeque<Closed>,
    /// Every expired or dropped ticket below this may have left `closed`.
    pub(super) horizon: u64,
    /// Asks expired so far.
    pub(super) expired: u64,
}

/// The default `pending_ttl_s`: one hour.
pub const DEFAULT_TTL_S: f64 = 3600.0;

impl Tickets {
    pub(super) fn new(ttl: f64, expired_reward: Option<f64>) -> Tickets {
        Tickets {
            ttl,
            expired_reward,
            next: 1,
            pending: BTreeMap::new(),
            closed: VecDeque::new(),
            horizon: 0,
            expired: 0,
        }
    }

    /// Whether any state beyond the defaults exists (decides the save format version).
    pub(super) fn is_default(&self) -> bool {
        self.ttl == DEFAULT_TTL_S
            && self.expired_reward.is_none()
            && self.next == 1
            && self.expired == 0
    }

    /// Opens a ticket; `now` is clamped so ask times never decrease in ticket order.
    pub(super) fn open(&mut self, arm: usize, now: f64, context: &[f64], p: Option<f64>) -> u64 {
        let at = match self.pending.last_key_value() {
            Some((_, last)) if last.at > now => last.at,
            _ => now,
        };
        let ticket = self.next;
        self.next += 1;
        self.pending.insert(
            ticket,
            Pending {
                arm,
                at,
                context: context.to_vec(),
                p,
            },
        );
        ticket
    }

    /// Takes the oldest pending ask if it is older than the ttl at `now`.
    pub(super) fn pop_expired(&mut self, now: f64) -> Option<(u64, Pending)> {
        let (_, first) = self.pending.first_key_value()?;
        if now - first.at > self.ttl {
            let (ticket, p) = self.pending.pop_first()?;
            self.expired += 1;
            self.remember((ticket, None));
            Some((ticket, p))
        } else {
            None
        }
    }

    /// Records an expiry or a drop in the short log.
    pub(super) fn remember(&mut self, entry: Closed) {
        if self.closed.len() >= MAX_CLOSED {
            if let Some((old, _)) = self.closed.pop_front() {
                self.horizon = self.horizon.max(old + 1);
            }
        }
        self.closed.push_back(entry);
    }

    /// Drops the pending asks of arm `index` (being removed, named `name`) and renumbers
    /// the later arms.
    pub(super) fn remove_arm(&mut self, index: usize, name: &str) {
        let dropped: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.arm == index)
            .map(|(&t, _)| t)
            .collect();
        for t in dropped {
            self.pending.remove(&t);
            self.remember((t, Some(name.to_owned())));
        }
        for p in self.pending.values_mut() {
            if p.arm > index {
                p.arm -= 1;
            }
        }
    }

    /// Why `ticket`, which is not pending, cannot be told: `Ok(reason)` for a ticket that
    /// was issued (the reason completes "ticket N ..."), `Err(reason)` for one that never was.
    pub(super) fn why_closed(&self, ticket: u64) -> Result<String, String> {
        if ticket == 0 {
            return Err("tickets start at 1".into());
        }
        if ticket >= self.next {
            return Err(if self.next == 1 {
                "no ask has returned a ticket yet".into()
            } else {
                format!("the asks so far returned tickets 1 to {}", self.next - 1)
            });
        }
        match self.closed.iter().find(|(t, _)| *t == ticket) {
            Some((_, None)) => Ok(match self.expired_reward {
                None => format!("expired after {} s", self.ttl),
                Some(r) => format!("expired after {} s and counted as reward {r}", self.ttl),
            }),
            Some((_, Some(arm))) => Ok(format!("was dropped when its arm \"{arm}\" was removed")),
            None if ticket >= self.horizon => Ok("was already told".into()),
            None => Ok(format!(
                "is no longer pending: it was told, or it expired or was dropped more than {MAX_CLOSED} \
                 closed tickets ago"
            )),
        }
    }

    /// The pending asks in their persisted form, oldest first.
    pub(super) fn saved_pending(&self) -> Vec<SavedPending> {
        self.pending
            .iter()
            .map(|(&ticket, p)| SavedPending {
                ticket,
                arm: p.arm,
                at: p.at,
                context: p.context.clone(),
                p: p.p,
            })
            .collect()
    }
}
