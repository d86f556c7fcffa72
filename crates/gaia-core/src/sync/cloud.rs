//! SolrCloud: collections, aliases and configsets through the Collections API, for a rebuild
//! that writes each generation into its own collection and then re-points an alias at it
//! (CREATEALIAS is atomic: readers of the alias never see a half-built generation).
//!
//! Every call goes through `Solr::ok`/`Solr::send`, so connection errors and 5xx answers
//! are retried like the document updates are. The document calls of `solr.rs` (`add`,
//! `commit`, `count`, ...) take a collection or an alias name in place of a core name.

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::error::{Error, Result};
use super::solr::{solr_msg, Solr};

/// Pause between two looks at the cluster while waiting for it.
const POLL: Duration = Duration::from_millis(100);

/// One replica of a collection, as CLUSTERSTATUS reports it. (`pub` only for the test hook.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaInfo {
    /// The shard, e.g. `shard1`.
    pub shard: String,
    /// The replica's core, e.g. `products_g2_shard1_replica_n1`.
    pub core: String,
    /// The node that hosts it, e.g. `127.0.0.1:8984_solr`.
    pub node: String,
    /// `active`, `recovering`, `down`, ...
    pub state: String,
    /// Whether it leads its shard.
    pub leader: bool,
    /// Whether its node is live (in ZooKeeper's live nodes).
    pub live: bool,
}

impl ReplicaInfo {
    /// Active on a live node: it answers queries.
    pub fn active(&self) -> bool {
        self.live && self.state == "active"
    }
}

/// Checks a collection, alias or configset name before it goes into a URL: Solr's own rule
/// (letters, digits, `.`, `_` and `-`, not starting with `-`), so no escaping is needed.
pub(crate) fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::config(
            what,
            format!(
                "{name:?} is not a valid Solr name (letters, digits, '.', '_' and '-', not \
                 starting with '-')"
            ),
        ))
    }
}

/// An error about something the answer lacked or held.
fn answer_error(context: String, message: impl Into<String>) -> Error {
    Error::Solr {
        context,
        status: None,
        message: message.into(),
    }
}

/// The strings of a JSON array at `pointer`.
fn strings(j: &Json, pointer: &str, context: &str) -> Result<Vec<String>> {
    let a = j
        .pointer(pointer)
        .and_then(Json::as_array)
        .ok_or_else(|| answer_error(context.to_string(), format!("no {pointer} in the answer")))?;
    Ok(a.iter()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect())
}

impl Solr {
    /// How long the waits below last at most: the HTTP timeout of the tuning (a collection
    /// that takes longer than one request may to become active is as good as failed).
    fn wait_limit(&self) -> Duration {
        Duration::from_millis(self.tuning.http_timeout_ms.max(1_000))
    }

    /// Polls `done` every `POLL` until it says yes, `Self::wait_limit` passes (an error
    /// saying `what` did not happen) or the run is cancelled.
    async fn wait_until<F, Fut>(&self, what: &str, mut done: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let t0 = Instant::now();
        loop {
            if done().await? {
                return Ok(());
            }
            if self.shared.cancelled() {
                return Err(Error::Cancelled);
            }
            if t0.elapsed() >= self.wait_limit() {
                return Err(answer_error(
                    format!("{} (SolrCloud)", self.base),
                    format!("{what} within {} s", self.wait_limit().as_secs()),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether this Solr runs as SolrCloud (`mode` of `admin/info/system` is `solrcloud`;
    /// a standalone Solr says `std`). The collection and alias calls need SolrCloud.
    pub(crate) async fn cloud_mode(&self) -> Result<bool> {
        let j = self.ok("admin/info/system?wt=json", None).await?;
        match j.get("mode").and_then(Json::as_str) {
            Some(mode) => Ok(mode == "solrcloud"),
            None => Err(answer_error(
                format!("GET {}/admin/info/system", self.base),
                "no mode in the answer",
            )),
        }
    }

    /// The list of strings at `pointer` in the answer to GET `path` (`what` names it in
    /// errors).
    async fn list(&self, path: &str, pointer: &str, what: &str) -> Result<Vec<String>> {
        let j = self.ok(path, None).await?;
        strings(&j, pointer, &format!("{what} at {}", self.base))
    }

    /// The names of every collection in the cluster (LIST).
    pub(crate) async fn collections(&self) -> Result<Vec<String>> {
        self.list(
            "admin/collections?action=LIST&wt=json",
            "/collections",
            "list of collections",
        )
        .await
    }

    /// Whether a collection of that name exists (an alias is not a collection).
    pub(crate) async fn collection_exists(&self, name: &str) -> Result<bool> {
        check_name("collection", name)?;
        Ok(self.collections().await?.iter().any(|c| c == name))
    }

    /// Whether a configset of that name is in ZooKeeper (configset API LIST): what
    /// [`Self::create_collection`] needs.
    pub(crate) async fn configset_exists(&self, name: &str) -> Result<bool> {
        check_name("configset", name)?;
        let sets = self
            .list(
                "admin/configs?action=LIST&omitHeader=true&wt=json",
                "/configSets",
                "list of configsets",
            )
            .await?;
        Ok(sets.iter().any(|c| c == name))
    }

    /// The nodes ZooKeeper knows live, e.g. `127.0.0.1:8984_solr` (CLUSTERSTATUS).
    pub(crate) async fn live_nodes(&self) -> Result<Vec<String>> {
        self.list(
            "admin/collections?action=CLUSTERSTATUS&wt=json",
            "/cluster/live_nodes",
            "cluster status",
        )
        .await
    }

    /// Every replica of a collection with its shard, node and state (CLUSTERSTATUS), or
    /// None when there is no such collection.
    pub(crate) async fn replicas(&self, name: &str) -> Result<Option<Vec<ReplicaInfo>>> {
        check_name("collection", name)?;
        let path = format!("admin/collections?action=CLUSTERSTATUS&collection={name}&wt=json");
        let (status, j) = self.send(&path, None).await?;
        let context = format!("status of collection {name} at {}", self.base);
        if status == 400 || status == 404 {
            // "Collection: x not found"; anything else is an error of its own.
            let msg = solr_msg(&j);
            if msg.contains("not found") {
                return Ok(None);
            }
            return Err(Error::Solr {
                context,
                status: Some(status),
                message: msg,
            });
        }
        if !(200..300).contains(&status) {
            return Err(Error::Solr {
                context,
                status: Some(status),
                message: solr_msg(&j),
            });
        }
        let live = strings(&j, "/cluster/live_nodes", &context)?;
        let Some(coll) = j.pointer("/cluster/collections").and_then(|c| c.get(name)) else {
            return Ok(None);
        };
        let shards = coll
            .get("shards")
            .and_then(Json::as_object)
            .ok_or_else(|| answer_error(context.clone(), "no shards in the answer"))?;
        let mut out = Vec::new();
        for (shard, s) in shards {
            let Some(reps) = s.get("replicas").and_then(Json::as_object) else {
                continue;
            };
            for r in reps.values() {
                let field = |k: &str| r.get(k).and_then(Json::as_str).unwrap_or("").to_string();
                let node = field("node_name");
                out.push(ReplicaInfo {
                    shard: shard.clone(),
                    core: field("core"),
                    live: live.contains(&node),
                    node,
                    state: field("state"),
                    // "true" as a string in Solr 9; a bool would do as well.
                    leader: matches!(r.get("leader"), Some(Json::Bool(true)))
                        || r.get("leader").and_then(Json::as_str) == Some("true"),
                });
            }
        }
        out.sort_by(|a, b| (&a.shard, &a.core).cmp(&(&b.shard, &b.core)));
        Ok(Some(out))
    }

    /// Whether the collection exists and every replica of every shard is active on a live
    /// node.
    pub(crate) async fn collection_active(&self, name: &str) -> Result<bool> {
        Ok(match self.replicas(name).await? {
            Some(r) => !r.is_empty() && r.iter().all(ReplicaInfo::active),
            None => false,
        })
    }

    /// Creates a collection from a configset already in ZooKeeper, `shards` shards of
    /// `replicas` replicas each (placed by Solr, one per node as long as there are nodes
    /// enough), and waits until every replica is active. A collection of that name must not
    /// exist yet (see [`Self::collection_exists`]). A create that failed half-way inside
    /// Solr and succeeded on retry counts as created.
    pub(crate) async fn create_collection(
        &self,
        name: &str,
        configset: &str,
        shards: u32,
        replicas: u32,
    ) -> Result<()> {
        check_name("collection", name)?;
        if shards == 0 || replicas == 0 {
            return Err(Error::config(
                "collection",
                format!("{name}: shards and replicas must be at least 1 ({shards}, {replicas})"),
            ));
        }
        if !self.configset_exists(configset).await? {
            return Err(Error::Solr {
                context: format!("create collection {name} at {}", self.base),
                status: None,
                message: format!("configset {configset:?} is not in ZooKeeper"),
            });
        }
        if self.collection_exists(name).await? {
            return Err(Error::Solr {
                context: format!("create collection {name} at {}", self.base),
                status: None,
                message: "the collection exists already".into(),
            });
        }
        let path = format!(
            "admin/collections?action=CREATE&name={name}&collection.configName={configset}\
             &numShards={shards}&replicationFactor={replicas}&waitForFinalState=true&wt=json"
        );
        if let Err(e) = self.ok(&path, None).await {
            // A first attempt that timed out (5xx) may have created it: the retry then hears
            // "already exists". Anything else that left no collection behind is the error.
            if !self.collection_exists(name).await? {
                return Err(e);
            }
            log::warn!("sync: {e}; the collection exists now, waiting for it to become active");
        }
        self.wait_until(&format!("collection {name} did not become active"), || {
            self.collection_active(name)
        })
        .await
    }

    /// Deletes a collection and its data; a missing collection is fine. Solr refuses while
    /// an alias points at it: re-point or delete the alias first.
    pub(crate) async fn delete_collection(&self, name: &str) -> Result<()> {
        if !self.collection_exists(name).await? {
            return Ok(());
        }
        let path = format!("admin/collections?action=DELETE&name={name}&wt=json");
        match self.ok(&path, None).await {
            Ok(_) => Ok(()),
            // Deleted by a first attempt whose answer was lost, or by someone else meanwhile.
            Err(_) if !self.collection_exists(name).await? => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every alias and the collections it points at, comma-separated as Solr keeps them
    /// (LISTALIASES).
    pub(crate) async fn aliases(&self) -> Result<Vec<(String, String)>> {
        let j = self
            .ok("admin/collections?action=LISTALIASES&wt=json", None)
            .await?;
        let map = j.get("aliases").and_then(Json::as_object).ok_or_else(|| {
            answer_error(
                format!("list of aliases at {}", self.base),
                "no aliases in the answer",
            )
        })?;
        Ok(map
            .iter()
            .filter_map(|(a, c)| Some((a.clone(), c.as_str()?.to_string())))
            .collect())
    }

    /// The collection an alias points at (comma-separated if it points at several), or None
    /// when there is no such alias.
    pub(crate) async fn alias_target(&self, alias: &str) -> Result<Option<String>> {
        check_name("alias", alias)?;
        Ok(self
            .aliases()
            .await?
            .into_iter()
            .find(|(a, _)| a == alias)
            .map(|(_, c)| c))
    }

    /// Points `alias` at `collection` (CREATEALIAS: creates it, or re-points an existing one
    /// atomically), then waits until the node this client talks to resolves it so: a read
    /// through the alias right after sees the new collection.
    pub(crate) async fn set_alias(&self, alias: &str, collection: &str) -> Result<()> {
        check_name("alias", alias)?;
        check_name("collection", collection)?;
        let path = format!(
            "admin/collections?action=CREATEALIAS&name={alias}&collections={collection}&wt=json"
        );
        self.ok(&path, None).await?;
        self.wait_until(
            &format!("alias {alias} did not point at {collection}"),
            || async { Ok(self.alias_target(alias).await?.as_deref() == Some(collection)) },
        )
        .await
    }

    /// Deletes an alias (not its collections); a missing alias is fine. Waits until the node
    /// this client talks to no longer knows it.
    pub(crate) async fn delete_alias(&self, alias: &str) -> Result<()> {
        if self.alias_target(alias).await?.is_none() {
            return Ok(());
        }
        let path = format!("admin/collections?action=DELETEALIAS&name={alias}&wt=json");
        self.ok(&path, None).await?;
        self.wait_until(&format!("alias {alias} was not deleted"), || async {
            Ok(self.alias_target(alias).await?.is_none())
        })
        .await
    }
}

/// Test hook: the calls above, blocking, for `tests/solr_cloud.rs` (an integration test
/// cannot reach the crate's `Solr`). Not part of the API: hidden, no stability promise.
#[doc(hidden)]
#[derive(Debug)]
pub struct CloudTestHook {
    solr: Solr,
    rt: tokio::runtime::Runtime,
}

#[doc(hidden)]
#[allow(
    missing_docs,
    reason = "a test hook; each call is the Solr method of that name"
)]
impl CloudTestHook {
    pub fn new(base: &str) -> Result<CloudTestHook> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let tuning = super::Tuning::default();
        let solr = Solr::new(base, &tuning, std::sync::Arc::default())?;
        Ok(CloudTestHook { solr, rt })
    }
    pub fn cloud_mode(&self) -> Result<bool> {
        self.rt.block_on(self.solr.cloud_mode())
    }
    pub fn collections(&self) -> Result<Vec<String>> {
        self.rt.block_on(self.solr.collections())
    }
    pub fn collection_exists(&self, name: &str) -> Result<bool> {
        self.rt.block_on(self.solr.collection_exists(name))
    }
    pub fn configset_exists(&self, name: &str) -> Result<bool> {
        self.rt.block_on(self.solr.configset_exists(name))
    }
    pub fn live_nodes(&self) -> Result<Vec<String>> {
        self.rt.block_on(self.solr.live_nodes())
    }
    pub fn replicas(&self, name: &str) -> Result<Option<Vec<ReplicaInfo>>> {
        self.rt.block_on(self.solr.replicas(name))
    }
    pub fn collection_active(&self, name: &str) -> Result<bool> {
        self.rt.block_on(self.solr.collection_active(name))
    }
    pub fn create_collection(
        &self,
        name: &str,
        configset: &str,
        shards: u32,
        replicas: u32,
    ) -> Result<()> {
        self.rt.block_on(
            self.solr
                .create_collection(name, configset, shards, replicas),
        )
    }
    pub fn delete_collection(&self, name: &str) -> Result<()> {
        self.rt.block_on(self.solr.delete_collection(name))
    }
    pub fn alias_target(&self, alias: &str) -> Result<Option<String>> {
        self.rt.block_on(self.solr.alias_target(alias))
    }
    pub fn set_alias(&self, alias: &str, collection: &str) -> Result<()> {
        self.rt.block_on(self.solr.set_alias(alias, collection))
    }
    pub fn delete_alias(&self, alias: &str) -> Result<()> {
        self.rt.block_on(self.solr.delete_alias(alias))
    }
    /// `Solr::add` of JSON documents (each needs a string `id`): (accepted, rejected).
    pub fn add(&self, target: &str, docs: &[Json]) -> Result<(u64, Vec<(String, String)>)> {
        let docs = docs
            .iter()
            .map(|d| {
                let id = d.get("id").and_then(Json::as_str).unwrap_or("").to_string();
                serde_json::to_vec(d)
                    .map(|b| (id, b))
                    .map_err(|e| Error::config("document", e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        self.rt.block_on(self.solr.add(target, &docs))
    }
    pub fn commit(&self, target: &str) -> Result<()> {
        self.rt.block_on(self.solr.commit(target))
    }
    pub fn count(&self, target: &str) -> Result<u64> {
        self.rt.block_on(self.solr.count(target))
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names() {
        for ok in ["gaia", "products_g12", "a.b-c_d", "0x"] {
            assert!(check_name("collection", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a/b", "a&b=c", "é", "a?b", "a%20"] {
            assert!(check_name("collection", bad).is_err(), "{bad:?}");
        }
    }
}
