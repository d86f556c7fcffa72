//! The write pipeline: one reader fills a bounded queue of batches (capped by documents and
//! bytes), several writers post them to Solr concurrently, and a coordinator learns when
//! each unit of work (a chunk, an incremental page) is fully acknowledged, in order.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Mutex};

use super::checkpoint::{Cursor, Files};
use super::config::Tuning;
use super::docs::Out;
use super::error::{Error, Result};
use super::progress::Shared;
use super::solr::Solr;

/// Work for a writer.
#[derive(Debug)]
enum Item {
    Add {
        unit: u64,
        docs: Vec<(String, Vec<u8>)>,
    },
    Delete {
        unit: u64,
        id: String,
        version: i64,
    },
}

/// The end of a unit, as the reader saw it.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitEnd {
    pub unit: u64,
    /// Items (batches and deletes) the unit was split into.
    pub items: u64,
    /// Last primary key of a full-rebuild chunk.
    pub last_pk: Option<i64>,
    /// Source rows read for the unit.
    pub rows: u64,
    /// Rows the reader dead-lettered (conversion failures).
    pub dead: u64,
    /// Incremental passes: every cursor as it stands once this unit is done.
    pub cursors: Option<BTreeMap<String, Cursor>>,
    /// Change data capture: the GTID position whose changes this unit completes.
    pub gtid: Option<String>,
    /// Shared rebuilds: the leased chunk this unit is.
    pub chunk: Option<u64>,
}

/// A unit fully acknowledged by Solr.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitDone {
    pub end: UnitEnd,
    /// Documents Solr accepted.
    pub ok: u64,
    /// All dead letters of the unit (reader's and Solr's rejections).
    pub dead: u64,
    /// Solr committed this unit and every earlier one (see `commit_every`).
    pub committed: bool,
}

#[derive(Debug)]
enum Event {
    Acked { unit: u64, ok: u64, dead: u64 },
    End(UnitEnd),
    Failed(Error),
}

/// Context shared by the reader side and the writers.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub solr: Solr,
    pub core: String,
    pub files: Files,
    pub shared: Arc<Shared>,
    /// Set when any part fails: everyone stops early.
    pub abort: Arc<AtomicBool>,
    /// Each writer owns the documents whose id hashes to it (instead of all writers taking
    /// batches from one queue), so the writes of one id reach Solr in the order they were
    /// pushed. Change data capture runs keyed.
    pub keyed: bool,
}

impl Ctx {
    /// True when the run must stop (cancelled by the user, or a failure elsewhere).
    pub(crate) fn stop(&self) -> Result<()> {
        if self.shared.cancelled() || self.abort.load(Ordering::Relaxed) {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// One writer's queue and the batch being filled for it.
#[derive(Debug)]
struct Lane {
    tx: mpsc::Sender<Item>,
    docs: Vec<(String, Vec<u8>)>,
    bytes: usize,
}

/// The lane of a document id among `n` (FNV-1a: stable across runs and platforms).
fn lane_of(id: &str, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % n as u64) as usize
}

/// The reader's handle: turns [`Out`]s into batches and units.
#[derive(Debug)]
pub(crate) struct Batcher {
    /// One lane shared by every writer, or one per writer when keyed.
    lanes: Vec<Lane>,
    events: mpsc::UnboundedSender<Event>,
    unit: u64,
    items: u64,
    dead: Vec<(String, String)>,
    max_docs: usize,
    max_bytes: usize,
    ctx: Ctx,
}

impl Batcher {
    async fn send(&mut self, lane: usize, item: Item) -> Result<()> {
        self.items += 1;
        let tx = &self.lanes[lane].tx;
        tx.send(item).await.map_err(|_| Error::Cancelled)
    }

    /// Queues one row's outcome.
    pub(crate) async fn push(&mut self, out: Out) -> Result<()> {
        match out {
            Out::Add { id, json } => {
                let l = lane_of(&id, self.lanes.len());
                let lane = &self.lanes[l];
                if !lane.docs.is_empty() && lane.bytes + json.len() > self.max_bytes {
                    self.flush_lane(l).await?;
                }
                let lane = &mut self.lanes[l];
                lane.bytes += json.len() + 1;
                lane.docs.push((id, json));
                if lane.docs.len() >= self.max_docs {
                    self.flush_lane(l).await?;
                }
            }
            Out::Delete { id, version } => {
                let l = lane_of(&id, self.lanes.len());
                if self.ctx.keyed {
                    // After the adds queued before it, in its lane.
                    self.flush_lane(l).await?;
                }
                let unit = self.unit;
                self.send(l, Item::Delete { unit, id, version }).await?;
            }
            Out::Dead { id, reason } => self.dead.push((id, reason)),
        }
        Ok(())
    }

    async fn flush_lane(&mut self, l: usize) -> Result<()> {
        let lane = &mut self.lanes[l];
        if lane.docs.is_empty() {
            return Ok(());
        }
        let docs = std::mem::take(&mut lane.docs);
        lane.bytes = 0;
        let unit = self.unit;
        self.send(l, Item::Add { unit, docs }).await
    }

    async fn flush(&mut self) -> Result<()> {
        for l in 0..self.lanes.len() {
            self.flush_lane(l).await?;
        }
        Ok(())
    }

    /// Closes the current unit.
    pub(crate) async fn end_unit(
        &mut self,
        last_pk: Option<i64>,
        rows: u64,
        cursors: Option<BTreeMap<String, Cursor>>,
    ) -> Result<()> {
        self.close_unit(UnitEnd {
            last_pk,
            rows,
            cursors,
            ..UnitEnd::default()
        })
        .await
    }

    /// Closes the current unit of change data capture, which completes `gtid`.
    pub(crate) async fn end_gtid_unit(&mut self, rows: u64, gtid: String) -> Result<()> {
        self.close_unit(UnitEnd {
            rows,
            gtid: Some(gtid),
            ..UnitEnd::default()
        })
        .await
    }

    /// Closes the current unit, the leased `chunk` of a shared rebuild.
    pub(crate) async fn end_chunk(&mut self, chunk: u64, rows: u64) -> Result<()> {
        self.close_unit(UnitEnd {
            chunk: Some(chunk),
            rows,
            ..UnitEnd::default()
        })
        .await
    }

    /// Closes the current unit described by `end` (its number, items and dead letters are
    /// filled in here).
    async fn close_unit(&mut self, mut end: UnitEnd) -> Result<()> {
        self.flush().await?;
        let dead = self.dead.len() as u64;
        if dead > 0 {
            self.ctx.files.dead_letters(&self.ctx.core, &self.dead)?;
            self.ctx
                .shared
                .dead_lettered
                .fetch_add(dead, Ordering::Relaxed);
            self.dead.clear();
        }
        end.unit = self.unit;
        end.items = self.items;
        end.dead = dead;
        self.events
            .send(Event::End(end))
            .map_err(|_| Error::Cancelled)?;
        self.unit += 1;
        self.items = 0;
        Ok(())
    }
}

async fn writer(
    ctx: Ctx,
    rx: Arc<Mutex<mpsc::Receiver<Item>>>,
    events: mpsc::UnboundedSender<Event>,
) {
    loop {
        let item = { rx.lock().await.recv().await };
        let Some(item) = item else { return };
        if ctx.abort.load(Ordering::Relaxed) {
            continue; // drain without work
        }
        let res = match item {
            Item::Add { unit, docs } => match ctx.solr.add(&ctx.core, &docs).await {
                Ok((ok, dead)) => {
                    ctx.shared.docs_written.fetch_add(ok, Ordering::Relaxed);
                    let n = dead.len() as u64;
                    match ctx.files.dead_letters(&ctx.core, &dead) {
                        Ok(()) => {
                            ctx.shared.dead_lettered.fetch_add(n, Ordering::Relaxed);
                            Ok(Event::Acked { unit, ok, dead: n })
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            },
            Item::Delete { unit, id, version } => {
                match ctx.solr.delete(&ctx.core, &id, version).await {
                    Ok(Ok(())) => {
                        ctx.shared.docs_deleted.fetch_add(1, Ordering::Relaxed);
                        Ok(Event::Acked {
                            unit,
                            ok: 0,
                            dead: 0,
                        })
                    }
                    Ok(Err(reason)) => match ctx
                        .files
                        .dead_letters(&ctx.core, &[(id, format!("delete refused: {reason}"))])
                    {
                        Ok(()) => {
                            ctx.shared.dead_lettered.fetch_add(1, Ordering::Relaxed);
                            Ok(Event::Acked {
                                unit,
                                ok: 0,
                                dead: 1,
                            })
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
        };
        match res {
            Ok(ev) => {
                let _ = events.send(ev);
            }
            Err(e) => {
                ctx.abort.store(true, Ordering::Relaxed);
                let _ = events.send(Event::Failed(e));
            }
        }
    }
}

/// Runs `reader` (which pushes through a [`Batcher`]) against `tuning.writers` concurrent
/// Solr writers, calling `on_done` for each unit once it and all earlier units are
/// acknowledged; every `commit_every` units (0: never) Solr commits first, and `on_done`
/// learns it through [`UnitDone::committed`]. Returns the reader's value.
pub(crate) async fn run<R, Fut, D>(
    ctx: &Ctx,
    tuning: &Tuning,
    commit_every: u64,
    reader: R,
    mut on_done: D,
) -> Result<Fut::Output>
where
    R: FnOnce(Batcher) -> Fut,
    Fut: std::future::Future + Send + 'static,
    Fut::Output: Send + 'static,
    D: FnMut(&UnitDone) -> Result<()>,
{
    let (writers, queue) = (tuning.writers, tuning.queue_batches);
    let (max_docs, max_bytes) = (tuning.batch_docs, tuning.batch_bytes);
    let (etx, mut erx) = mpsc::unbounded_channel::<Event>();
    let mut handles = Vec::new();
    let mut lanes = Vec::new();
    if ctx.keyed {
        for _ in 0..writers {
            let (tx, rx) = mpsc::channel::<Item>((queue / writers).max(1));
            let rx = Arc::new(Mutex::new(rx));
            handles.push(tokio::spawn(writer(ctx.clone(), rx, etx.clone())));
            lanes.push(tx);
        }
    } else {
        let (tx, rx) = mpsc::channel::<Item>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers {
            handles.push(tokio::spawn(writer(ctx.clone(), rx.clone(), etx.clone())));
        }
        lanes.push(tx);
    }
    let batcher = Batcher {
        lanes: lanes
            .into_iter()
            .map(|tx| Lane {
                tx,
                docs: Vec::new(),
                bytes: 0,
            })
            .collect(),
        events: etx.clone(),
        unit: 0,
        items: 0,
        dead: Vec::new(),
        max_docs,
        max_bytes,
        ctx: ctx.clone(),
    };
    let fut = reader(batcher);
    let reader_handle = tokio::spawn(fut);
    drop(etx);

    #[derive(Default)]
    struct Pending {
        acked: u64,
        ok: u64,
        dead: u64,
        end: Option<UnitEnd>,
    }
    let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
    let mut next = 0u64;
    let mut failure: Option<Error> = None;
    while let Some(ev) = erx.recv().await {
        match ev {
            Event::Acked { unit, ok, dead } => {
                let p = pending.entry(unit).or_default();
                p.acked += 1;
                p.ok += ok;
                p.dead += dead;
            }
            Event::End(end) => {
                let u = end.unit;
                pending.entry(u).or_default().end = Some(end);
            }
            Event::Failed(e) => {
                ctx.abort.store(true, Ordering::Relaxed);
                if failure.is_none() {
                    failure = Some(e);
                }
            }
        }
        if failure.is_some() {
            continue;
        }
        while let Some(p) = pending.get(&next) {
            let complete = matches!(&p.end, Some(end) if end.items == p.acked);
            if !complete {
                break;
            }
            let Some(p) = pending.remove(&next) else {
                break;
            };
            let end = p.end.unwrap_or_default();
            let committed = commit_every > 0 && (next + 1).is_multiple_of(commit_every);
            if committed {
                if let Err(e) = ctx.solr.commit(&ctx.core).await {
                    ctx.abort.store(true, Ordering::Relaxed);
                    failure = Some(e);
                    break;
                }
            }
            let done = UnitDone {
                ok: p.ok,
                dead: p.dead + end.dead,
                end,
                committed,
            };
            if let Err(e) = on_done(&done) {
                ctx.abort.store(true, Ordering::Relaxed);
                failure = Some(e);
                break;
            }
            next += 1;
        }
    }
    for h in handles {
        let _ = h.await;
    }
    let out = reader_handle.await.map_err(|e| Error::Solr {
        context: "reader task".into(),
        status: None,
        message: e.to_string(),
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn batcher(
        keyed: bool,
        lanes: usize,
    ) -> (
        Batcher,
        Vec<mpsc::Receiver<Item>>,
        mpsc::UnboundedReceiver<Event>,
    ) {
        let tuning = Tuning::default();
        let shared = Arc::new(Shared::default());
        let dir = std::env::temp_dir().join(format!("gaia-pipeline-test-{}", std::process::id()));
        let ctx = Ctx {
            solr: Solr::new("http://127.0.0.1:9/solr", &tuning, shared.clone()).unwrap(),
            core: "c".into(),
            files: Files::new(&dir.display().to_string(), "c"),
            shared,
            abort: Arc::new(AtomicBool::new(false)),
            keyed,
        };
        let (etx, erx) = mpsc::unbounded_channel();
        let mut rxs = Vec::new();
        let mut ls = Vec::new();
        for _ in 0..lanes {
            let (tx, rx) = mpsc::channel(64);
            rxs.push(rx);
            ls.push(Lane {
                tx,
                docs: Vec::new(),
                bytes: 0,
            });
        }
        let b = Batcher {
            lanes: ls,
            events: etx,
            unit: 0,
            items: 0,
            dead: Vec::new(),
            max_docs: 2,
            max_bytes: 1 << 20,
            ctx,
        };
        (b, rxs, erx)
    }

    fn add(id: &str, v: u8) -> Out {
        Out::Add {
            id: id.into(),
            json: vec![b'0' + v],
        }
    }

    /// What a lane received, in order (`add <id>@<version>`, `del <id>`), and the number of
    /// items (batches and deletes).
    fn drain(rx: &mut mpsc::Receiver<Item>) -> (Vec<String>, u64) {
        let (mut out, mut items) = (Vec::new(), 0);
        while let Ok(item) = rx.try_recv() {
            items += 1;
            match item {
                Item::Add { docs, .. } => {
                    for (id, json) in docs {
                        out.push(format!("add {id}@{}", String::from_utf8_lossy(&json)));
                    }
                }
                Item::Delete { id, .. } => out.push(format!("del {id}")),
            }
        }
        (out, items)
    }

    #[test]
    fn keyed_lanes_keep_each_ids_writes_in_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (mut b, mut rxs, mut events) = batcher(true, 4);
        let ids: Vec<String> = (0..40).map(|i| format!("p-{i}")).collect();
        rt.block_on(async {
            for round in 1..=3u8 {
                for (i, id) in ids.iter().enumerate() {
                    if round == 2 && i % 3 == 0 {
                        b.push(Out::Delete {
                            id: id.clone(),
                            version: 1,
                        })
                        .await
                        .unwrap();
                    } else {
                        b.push(add(id, round)).await.unwrap();
                    }
                }
            }
            b.end_unit(None, 120, None).await.unwrap();
        });
        let (lanes, items): (Vec<Vec<String>>, Vec<u64>) = rxs.iter_mut().map(drain).unzip();
        let mut seen = 0;
        for (i, id) in ids.iter().enumerate() {
            let lane = lane_of(id, 4);
            // Every write of an id is in its own lane, in the order pushed.
            let mine: Vec<&String> = lanes[lane]
                .iter()
                .filter(|e| e.ends_with(&format!(" {id}")) || e.contains(&format!(" {id}@")))
                .collect();
            let want: Vec<String> = if i % 3 == 0 {
                vec![
                    format!("add {id}@1"),
                    format!("del {id}"),
                    format!("add {id}@3"),
                ]
            } else {
                (1..=3).map(|r| format!("add {id}@{r}")).collect()
            };
            assert_eq!(mine, want.iter().collect::<Vec<_>>(), "{id} in lane {lane}");
            seen += want.len();
            for (other, l) in lanes.iter().enumerate() {
                if other != lane {
                    assert!(!l
                        .iter()
                        .any(|e| e.contains(&format!(" {id}@")) || e.ends_with(&format!(" {id}"))));
                }
            }
        }
        assert_eq!(lanes.iter().map(Vec::len).sum::<usize>(), seen);
        assert!(
            lanes.iter().all(|l| !l.is_empty()),
            "ids spread over every lane"
        );
        // The unit counts every item of every lane.
        match events.try_recv().unwrap() {
            Event::End(end) => {
                assert_eq!(end.items, items.iter().sum::<u64>(), "{end:?}");
                assert_eq!(end.rows, 120);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lanes_spread_ids_evenly() {
        let mut count = [0usize; 4];
        for i in 0..4000 {
            count[lane_of(&format!("p-{i}"), 4)] += 1;
        }
        assert!(
            count.iter().all(|&c| (850..=1150).contains(&c)),
            "{count:?}"
        );
        assert_eq!(lane_of("anything", 1), 0);
    }
}
