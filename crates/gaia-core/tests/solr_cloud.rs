//! The SolrCloud calls (`sync/cloud.rs`) against the real two-node SolrCloud started by
//! `scripts/services.sh start solrcloud`: a collection per rebuild generation behind an
//! alias, documents written and counted through the alias, and one node stopped and started
//! again while the cluster keeps serving.
#![cfg(feature = "sync")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::process::Command;
use std::time::{Duration, Instant};

use gaia_core::sync::cloud::CloudTestHook as Cloud;
use serde_json::{json, Value as Json};

const HINT: &str = "start the cluster with `bash scripts/services.sh start solrcloud` and export \
                    its address with `eval \"$(bash scripts/services.sh env)\"`";

/// Node 0's and every node's base URL, from scripts/services.sh env.
fn urls() -> (String, Vec<String>) {
    let Ok(url) = std::env::var("GAIA_SOLRCLOUD_URL") else {
        panic!("GAIA_SOLRCLOUD_URL is not set: {HINT}");
    };
    let all = std::env::var("GAIA_SOLRCLOUD_URLS")
        .unwrap_or_else(|_| panic!("GAIA_SOLRCLOUD_URLS is not set: {HINT}"));
    (url, all.split_whitespace().map(str::to_string).collect())
}

/// `scripts/services.sh cloud-node ACTION NODE`, which waits until the node is down, or up
/// with its replicas active.
fn cloud_node(action: &str, node: usize) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/services.sh");
    let out = Command::new("bash")
        .args([script, "cloud-node", action, &node.to_string()])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "services.sh cloud-node {action} {node} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts node 1 again and removes the test's alias and collections, also when the test
/// fails half-way (so the next run and other tests find the cluster whole).
struct Cleanup<'a> {
    cloud: &'a Cloud,
    alias: String,
    collections: Vec<String>,
    node_stopped: bool,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if self.node_stopped {
            cloud_node("start", 1);
        }
        let _ = self.cloud.delete_alias(&self.alias);
        for c in &self.collections {
            let _ = self.cloud.delete_collection(c);
        }
    }
}

/// `http://127.0.0.1:8985/solr` -> `127.0.0.1:8985_solr`, the node's name in ZooKeeper.
fn node_name(base: &str) -> String {
    let rest = base.trim_start_matches("http://").trim_end_matches('/');
    let (host, ctx) = rest.split_once('/').expect("a base URL with a context");
    format!("{host}_{ctx}")
}

/// Live documents in one core alone (`distrib=false`: no other replica or shard asked).
fn core_count(base: &str, core: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("{base}/{core}/select?q=*:*&rows=0&distrib=false&wt=json");
    let j: Json = rt.block_on(async {
        let resp = reqwest::get(&url).await.unwrap();
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
    });
    j.pointer("/response/numFound")
        .and_then(Json::as_u64)
        .unwrap_or_else(|| panic!("{url}: {j}"))
}

fn docs(prefix: &str, n: usize, version: i64) -> Vec<Json> {
    (0..n)
        .map(
            |i| json!({"id": format!("{prefix}-{i}"), "gaia_version_l": version, "name_s": prefix}),
        )
        .collect()
}

fn write(cloud: &Cloud, target: &str, docs: &[Json]) {
    let (ok, dead) = cloud.add(target, docs).unwrap();
    assert!(dead.is_empty(), "rejected: {dead:?}");
    assert_eq!(ok, docs.len() as u64);
    cloud.commit(target).unwrap();
}

/// Waits (bounded) until every replica of the collection is active on a live node.
fn wait_active(cloud: &Cloud, name: &str) {
    let t0 = Instant::now();
    while !cloud.collection_active(name).unwrap() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{name} not active: {:?}",
            cloud.replicas(name)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn generations_behind_an_alias_and_a_node_down() {
    let (url, all) = urls();
    assert!(
        all.len() >= 2,
        "GAIA_SOLRCLOUD_URLS needs two nodes, has {all:?}"
    );
    let cloud = Cloud::new(&url).unwrap();
    let node1 = Cloud::new(&all[1]).unwrap();
    match cloud.cloud_mode() {
        Ok(true) => {}
        Ok(false) => panic!("{url} is a standalone Solr, not SolrCloud: {HINT}"),
        Err(e) => panic!("SolrCloud at {url} does not answer ({e}): {HINT}"),
    }
    assert_eq!(cloud.live_nodes().unwrap().len(), 2, "both nodes live");
    assert!(cloud.configset_exists("gaia").unwrap());
    assert!(!cloud.configset_exists("no_such_configset").unwrap());

    let tag = format!("t{}", std::process::id() % 100_000);
    let alias = format!("{tag}_products");
    let (g1, g2) = (format!("{alias}_g1"), format!("{alias}_g2"));
    let mut cleanup = Cleanup {
        cloud: &cloud,
        alias: alias.clone(),
        collections: vec![g1.clone(), g2.clone()],
        node_stopped: false,
    };

    // Two generations: one shard, and two shards; one replica per node each.
    cloud.create_collection(&g1, "gaia", 1, 2).unwrap();
    cloud.create_collection(&g2, "gaia", 2, 2).unwrap();
    assert!(cloud.collection_exists(&g1).unwrap());
    let cols = cloud.collections().unwrap();
    assert!(cols.contains(&g1) && cols.contains(&g2), "{cols:?}");
    // Every shard has a replica on each node, all active, one leader per shard.
    let reps = cloud.replicas(&g2).unwrap().expect("g2 exists");
    assert_eq!(reps.len(), 4, "{reps:?}");
    for shard in ["shard1", "shard2"] {
        let mut nodes: Vec<&str> = reps
            .iter()
            .filter(|r| r.shard == shard)
            .map(|r| r.node.as_str())
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        assert_eq!(nodes.len(), 2, "{shard} on both nodes: {reps:?}");
        assert_eq!(
            reps.iter().filter(|r| r.shard == shard && r.leader).count(),
            1
        );
    }
    assert!(reps.iter().all(|r| r.active()), "{reps:?}");
    assert!(cloud.replicas("no_such_collection").unwrap().is_none());

    // A second create of the same name, a bad name, a missing configset: errors.
    assert!(cloud.create_collection(&g1, "gaia", 1, 2).is_err());
    assert!(cloud.create_collection("bad name", "gaia", 1, 1).is_err());
    assert!(cloud
        .create_collection("x&action=DELETE", "gaia", 1, 1)
        .is_err());
    assert!(cloud
        .create_collection(&format!("{tag}_nocs"), "no_such_configset", 1, 1)
        .is_err());
    assert!(!cloud.collection_exists(&format!("{tag}_nocs")).unwrap());

    // Documents into each generation through the existing add/commit/count.
    write(&cloud, &g1, &docs("a", 3, 1));
    write(&cloud, &g2, &docs("b", 5, 1));
    assert_eq!(cloud.count(&g1).unwrap(), 3);
    assert_eq!(cloud.count(&g2).unwrap(), 5);
    assert_eq!(node1.count(&g2).unwrap(), 5, "g2 read through node 1");

    // The alias: none yet, then at g1, then re-pointed at g2.
    assert_eq!(cloud.alias_target(&alias).unwrap(), None);
    cloud.set_alias(&alias, &g1).unwrap();
    assert_eq!(
        cloud.alias_target(&alias).unwrap().as_deref(),
        Some(g1.as_str())
    );
    assert_eq!(cloud.count(&alias).unwrap(), 3);
    cloud.set_alias(&alias, &g2).unwrap();
    assert_eq!(
        cloud.alias_target(&alias).unwrap().as_deref(),
        Some(g2.as_str())
    );
    assert_eq!(cloud.count(&alias).unwrap(), 5);
    // Writes through the alias land in g2.
    write(&cloud, &alias, &docs("c", 2, 1));
    assert_eq!(cloud.count(&alias).unwrap(), 7);
    assert_eq!(cloud.count(&g2).unwrap(), 7);
    assert_eq!(cloud.count(&g1).unwrap(), 3);
    // Node 1 resolves the alias the same way (ZooKeeper propagates it within moments).
    let t0 = Instant::now();
    while node1.alias_target(&alias).unwrap().as_deref() != Some(g2.as_str()) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "node 1 never saw the alias move"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(node1.count(&alias).unwrap(), 7);

    // The collection behind the alias cannot go; the old generation can, twice.
    assert!(cloud.delete_collection(&g2).is_err());
    cloud.delete_collection(&g1).unwrap();
    assert!(!cloud.collection_exists(&g1).unwrap());
    cloud.delete_collection(&g1).unwrap();
    assert_eq!(cloud.count(&alias).unwrap(), 7);

    // Node 1 down: the cluster keeps taking writes and reads through node 0.
    cleanup.node_stopped = true;
    cloud_node("stop", 1);
    assert_eq!(cloud.live_nodes().unwrap().len(), 1);
    assert!(
        !cloud.collection_active(&g2).unwrap(),
        "half the replicas are down"
    );
    write(&cloud, &alias, &docs("d", 4, 1));
    assert_eq!(cloud.count(&alias).unwrap(), 11);
    // Node 1 back: its replicas catch up from the leaders.
    cloud_node("start", 1);
    cleanup.node_stopped = false;
    assert_eq!(cloud.live_nodes().unwrap().len(), 2);
    wait_active(&cloud, &g2);
    // Node 1's own replicas (asked alone, distrib=false) caught up with the 4 documents
    // written while it was down; and reads through node 1 see them.
    let reps = cloud.replicas(&g2).unwrap().expect("g2 exists");
    let node1_name = node_name(&all[1]);
    let on_node1: u64 = reps
        .iter()
        .filter(|r| r.node == node1_name)
        .map(|r| core_count(&all[1], &r.core))
        .sum();
    assert_eq!(on_node1, 11, "node 1's replicas after recovery: {reps:?}");
    assert_eq!(node1.count(&alias).unwrap(), 11);

    // The alias goes (twice), its collection stays until deleted.
    cloud.delete_alias(&alias).unwrap();
    assert_eq!(cloud.alias_target(&alias).unwrap(), None);
    cloud.delete_alias(&alias).unwrap();
    assert_eq!(cloud.count(&g2).unwrap(), 11);
    cloud.delete_collection(&g2).unwrap();
    assert!(!cloud.collection_exists(&g2).unwrap());
    drop(cleanup);
}
