//! The Solr side: JSON updates with retries (exponential backoff with jitter on 5xx and
//! connection errors), dead-lettering of rejected documents by bisection, CoreAdmin.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::config::Tuning;
use super::error::{Error, Result};
use super::progress::Shared;

/// A Solr server.
#[derive(Debug, Clone)]
pub(crate) struct Solr {
    http: reqwest::Client,
    pub(super) base: String,
    pub(super) tuning: Tuning,
    pub(super) shared: Arc<Shared>,
    /// SolrCloud (found by [`Solr::detect_mode`]): the live name is an alias and each
    /// rebuild a collection of its own; the core calls below act on those instead.
    pub(super) cloud: bool,
}

/// Status and parsed body of a non-5xx answer.
pub(super) type Answer = (u16, Json);

pub(super) fn solr_msg(body: &Json) -> String {
    body.pointer("/error/msg")
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let s = body.to_string();
            s.chars().take(300).collect()
        })
}

impl Solr {
    pub(crate) fn new(base: &str, tuning: &Tuning, shared: Arc<Shared>) -> Result<Solr> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(tuning.http_timeout_ms))
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(tuning.writers + 2)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::Solr {
                context: "HTTP client".into(),
                status: None,
                message: e.to_string(),
            })?;
        Ok(Solr {
            http,
            base: base.trim_end_matches('/').to_string(),
            tuning: tuning.clone(),
            shared,
            cloud: false,
        })
    }

    /// One request with retries on connection errors and 5xx. `body` None is a GET.
    pub(super) async fn send(&self, path: &str, body: Option<&[u8]>) -> Result<Answer> {
        let url = format!("{}/{}", self.base, path);
        let ctx = || format!("{} {}", if body.is_some() { "POST" } else { "GET" }, url);
        let mut rng = crate::stats::Rng::seed_from_u64(crate::stats::random_seed());
        let mut attempt = 0u32;
        loop {
            let req = match body {
                Some(b) => self
                    .http
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .body(b.to_vec()),
                None => self.http.get(&url),
            };
            let (retryable, err) = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.bytes().await {
                        Ok(bytes) => {
                            let json: Json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                                Json::String(
                                    String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                                )
                            });
                            if status < 500 {
                                return Ok((status, json));
                            }
                            (
                                true,
                                Error::Solr {
                                    context: ctx(),
                                    status: Some(status),
                                    message: solr_msg(&json),
                                },
                            )
                        }
                        Err(e) => (
                            true,
                            Error::Solr {
                                context: ctx(),
                                status: Some(status),
                                message: format!("reading the answer: {e}"),
                            },
                        ),
                    }
                }
                Err(e) => (
                    true,
                    Error::Solr {
                        context: ctx(),
                        status: None,
                        message: if e.is_connect() {
                            format!("server unreachable: {e}")
                        } else {
                            e.to_string()
                        },
                    },
                ),
            };
            if !retryable || attempt >= self.tuning.max_retries || self.shared.cancelled() {
                return Err(if self.shared.cancelled() {
                    Error::Cancelled
                } else {
                    err
                });
            }
            let cap = self
                .tuning
                .retry_base_ms
                .saturating_mul(1u64 << attempt.min(20))
                .min(self.tuning.retry_max_ms);
            // "Equal jitter": half the backoff fixed, half random.
            let wait = cap / 2 + rng.below(cap / 2 + 1);
            log::warn!("sync: {err}; retry {} in {wait} ms", attempt + 1);
            self.shared.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            attempt += 1;
        }
    }

    /// A request whose answer must be 2xx.
    pub(super) async fn ok(&self, path: &str, body: Option<&[u8]>) -> Result<Json> {
        let (status, json) = self.send(path, body).await?;
        if (200..300).contains(&status) {
            Ok(json)
        } else {
            Err(Error::Solr {
                context: format!(
                    "{} {}/{}",
                    if body.is_some() { "POST" } else { "GET" },
                    self.base,
                    path
                ),
                status: Some(status),
                message: solr_msg(&json),
            })
        }
    }

    /// Checks that Solr answers (before any write).
    pub(crate) async fn ping(&self) -> Result<()> {
        self.ok("admin/cores?action=STATUS&indexInfo=false&wt=json", None)
            .await
            .map(|_| ())
    }

    /// Learns whether this Solr runs as SolrCloud (before any other call).
    pub(crate) async fn detect_mode(&mut self) -> Result<()> {
        self.cloud = self.cloud_mode().await?;
        Ok(())
    }

    /// Whether this Solr runs as SolrCloud.
    pub(crate) fn is_cloud(&self) -> bool {
        self.cloud
    }

    /// The instance dir of a core, or None when there is no such core. SolrCloud: the
    /// collection an alias points at, or the collection itself.
    pub(crate) async fn core_dir(&self, core: &str) -> Result<Option<String>> {
        if self.cloud {
            if let Some(target) = self.alias_target(core).await? {
                return Ok(Some(target));
            }
            return Ok(self
                .collection_exists(core)
                .await?
                .then(|| core.to_string()));
        }
        let j = self
            .ok(
                &format!("admin/cores?action=STATUS&core={core}&indexInfo=false&wt=json"),
                None,
            )
            .await?;
        let st = j.pointer(&format!("/status/{core}"));
        Ok(st
            .and_then(|s| s.get("instanceDir"))
            .and_then(Json::as_str)
            .map(str::to_string))
    }

    /// Creates a core from a configset in a fresh instance dir. SolrCloud: a collection of
    /// `tuning.cloud_shards` shards and `cloud_replicas` replicas (0: one per live node).
    pub(crate) async fn create_core(&self, core: &str, dir: &str, configset: &str) -> Result<()> {
        if self.cloud {
            let replicas = match self.tuning.cloud_replicas {
                0 => (self.live_nodes().await?.len() as u32).max(1),
                n => n,
            };
            return self
                .create_collection(core, configset, self.tuning.cloud_shards, replicas)
                .await;
        }
        self.ok(
            &format!("admin/cores?action=CREATE&name={core}&instanceDir={dir}&configSet={configset}&wt=json"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Swaps two cores' names atomically (standalone only).
    pub(crate) async fn swap(&self, a: &str, b: &str) -> Result<()> {
        self.ok(
            &format!("admin/cores?action=SWAP&core={a}&other={b}&wt=json"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Renames a core (standalone only).
    pub(crate) async fn rename(&self, a: &str, b: &str) -> Result<()> {
        self.ok(
            &format!("admin/cores?action=RENAME&core={a}&other={b}&wt=json"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Unloads a core and deletes its folder. SolrCloud: deletes the collection.
    pub(crate) async fn unload(&self, core: &str) -> Result<()> {
        if self.cloud {
            return self.delete_collection(core).await;
        }
        self.ok(
            &format!("admin/cores?action=UNLOAD&core={core}&deleteInstanceDir=true&wt=json"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Hard commit (durable and visible).
    pub(crate) async fn commit(&self, core: &str) -> Result<()> {
        self.ok(&format!("{core}/update?commit=true&wt=json"), Some(b"[]"))
            .await
            .map(|_| ())
    }

    /// Live (non-tombstone) documents.
    pub(crate) async fn count(&self, core: &str) -> Result<u64> {
        let j = self
            .ok(&format!("{core}/select?q=*:*&rows=0&wt=json"), None)
            .await?;
        j.pointer("/response/numFound")
            .and_then(Json::as_u64)
            .ok_or_else(|| Error::Solr {
                context: format!("count of core {core}"),
                status: None,
                message: "no response.numFound in the answer".into(),
            })
    }

    /// One page (up to `page` documents) of the live documents matching `filter` as
    /// (id, `gaia_version_l`, `gaia_key_l`), in the order `sort` (which must end with the
    /// unique key), from `cursor` (`*` first). Returns the page and the next cursor, None
    /// once the listing is complete.
    pub(crate) async fn versions_page(
        &self,
        core: &str,
        filter: &str,
        sort: &str,
        page: usize,
        cursor: &str,
    ) -> Result<(Vec<(String, i64, Option<i64>)>, Option<String>)> {
        let path = format!(
            "{core}/select?q=*:*&fq={}&fl=id,gaia_version_l,gaia_key_l&sort={}&rows={page}\
             &wt=json&cursorMark={}",
            url_escape(filter),
            url_escape(sort),
            url_escape(cursor)
        );
        let j = self.ok(&path, None).await?;
        let docs = j
            .pointer("/response/docs")
            .and_then(Json::as_array)
            .ok_or_else(|| Error::Solr {
                context: format!("export of core {core}"),
                status: None,
                message: "no response.docs in the answer".into(),
            })?;
        let mut out = Vec::with_capacity(docs.len());
        for d in docs {
            if let Some(id) = d.get("id").and_then(Json::as_str) {
                let v = d
                    .get("gaia_version_l")
                    .and_then(Json::as_i64)
                    .unwrap_or(i64::MIN);
                out.push((
                    id.to_string(),
                    v,
                    d.get("gaia_key_l").and_then(Json::as_i64),
                ));
            }
        }
        let next = j
            .get("nextCursorMark")
            .and_then(Json::as_str)
            .filter(|n| *n != cursor && !docs.is_empty())
            .map(str::to_string);
        Ok((out, next))
    }

    /// The core's schema: (field name or dynamic pattern, multi-valued).
    pub(crate) async fn schema_fields(&self, core: &str) -> Result<Vec<(String, bool)>> {
        let j = self.ok(&format!("{core}/schema?wt=json"), None).await?;
        let types: std::collections::HashMap<String, bool> = j
            .pointer("/schema/fieldTypes")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        Some((
                            t.get("name")?.as_str()?.to_string(),
                            t.get("multiValued")
                                .and_then(Json::as_bool)
                                .unwrap_or(false),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut out = Vec::new();
        for key in ["/schema/fields", "/schema/dynamicFields"] {
            for f in j
                .pointer(key)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(name), Some(ty)) = (
                    f.get("name").and_then(Json::as_str),
                    f.get("type").and_then(Json::as_str),
                ) else {
                    continue;
                };
                let multi = f
                    .get("multiValued")
                    .and_then(Json::as_bool)
                    .unwrap_or_else(|| types.get(ty).copied().unwrap_or(false));
                out.push((name.to_string(), multi));
            }
        }
        Ok(out)
    }

    /// Adds documents; returns how many Solr took and the rejected ones `(id, reason)`,
    /// found by bisecting a batch Solr answers with 400.
    pub(crate) async fn add(
        &self,
        core: &str,
        docs: &[(String, Vec<u8>)],
    ) -> Result<(u64, Vec<(String, String)>)> {
        let path = format!("{core}/update?wt=json");
        let mut ok = 0u64;
        let mut dead = Vec::new();
        let mut stack = vec![(0usize, docs.len())];
        while let Some((lo, hi)) = stack.pop() {
            if lo >= hi {
                continue;
            }
            let part = &docs[lo..hi];
            let mut body =
                Vec::with_capacity(part.iter().map(|d| d.1.len() + 1).sum::<usize>() + 2);
            body.push(b'[');
            for (i, (_, d)) in part.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(d);
            }
            body.push(b']');
            let (status, json) = self.send(&path, Some(&body)).await?;
            self.shared
                .bytes_sent
                .fetch_add(body.len() as u64, Ordering::Relaxed);
            match status {
                200..=299 => ok += part.len() as u64,
                400 if part.len() == 1 => dead.push((part[0].0.clone(), solr_msg(&json))),
                400 => {
                    let mid = lo + part.len() / 2;
                    stack.push((mid, hi));
                    stack.push((lo, mid));
                }
                _ => {
                    return Err(Error::Solr {
                        context: format!("POST {}/{path}", self.base),
                        status: Some(status),
                        message: solr_msg(&json),
                    })
                }
            }
        }
        Ok((ok, dead))
    }

    /// A versioned delete-by-id; `Err` reason string when Solr rejects it (400).
    pub(crate) async fn delete(
        &self,
        core: &str,
        id: &str,
        version: i64,
    ) -> Result<std::result::Result<(), String>> {
        let path = format!("{core}/update?del_version={version}&wt=json");
        let body = serde_json::to_vec(&serde_json::json!({"delete": {"id": id}})).map_err(|e| {
            Error::Solr {
                context: "delete".into(),
                status: None,
                message: e.to_string(),
            }
        })?;
        let (status, json) = self.send(&path, Some(&body)).await?;
        match status {
            200..=299 => Ok(Ok(())),
            400 => Ok(Err(solr_msg(&json))),
            _ => Err(Error::Solr {
                context: format!("POST {}/{path}", self.base),
                status: Some(status),
                message: solr_msg(&json),
            }),
        }
    }
}

/// Does `name` match a schema field or dynamic-field pattern (`*_s`, `attr_*`)?
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix('*') {
        name.len() > suffix.len() && name.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        name.len() > prefix.len() && name.starts_with(prefix)
    } else {
        pattern == name
    }
}

/// Percent-encodes a query-string value (cursor marks hold `+`, `/` and `=`).
fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
