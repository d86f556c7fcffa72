//! Tests of the infer engine against the real all-MiniLM-L6-v2 (fetched by
//! `scripts/fetch-model.sh`) and sentence-transformers' reference vectors
//! (`tests/vectors/infer_minilm.json`).

use std::path::{Path, PathBuf};

use super::*;

pub(crate) fn model_dir() -> PathBuf {
    match std::env::var_os("GAIA_MODEL_DIR") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/models/all-MiniLM-L6-v2"),
    }
}

fn open(opts: &EmbedderOptions) -> Embedder {
    let dir = model_dir();
    match Embedder::open(&dir, opts) {
        Ok(e) => e,
        Err(e) => panic!("{e}: run scripts/fetch-model.sh (or set GAIA_MODEL_DIR) first"),
    }
}

struct Item {
    name: String,
    text: String,
    n_tokens: usize,
    ids: Vec<u32>,
    embedding: Vec<f32>,
    pooled: Vec<f32>,
}

fn reference() -> Vec<Item> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/infer_minilm.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let floats = |x: &serde_json::Value| -> Vec<f32> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_f64().unwrap() as f32)
            .collect()
    };
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| Item {
            name: it["name"].as_str().unwrap().to_string(),
            text: it["text"].as_str().unwrap().to_string(),
            n_tokens: it["n_tokens"].as_u64().unwrap() as usize,
            ids: it["token_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect(),
            embedding: floats(&it["embedding"]),
            pooled: floats(&it["pooled"]),
        })
        .collect()
}

#[test]
fn token_ids_and_vectors_match_sentence_transformers() {
    let e = open(&EmbedderOptions::default());
    let items = reference();
    assert!(
        items.len() >= 40,
        "the reference holds {} items",
        items.len()
    );
    let mut worst = (1.0f32, String::new());
    for it in &items {
        assert_eq!(
            e.token_ids(it.text.as_bytes()).unwrap(),
            it.ids,
            "token ids of {:?}",
            it.name
        );
        assert_eq!(
            e.count_tokens(&[it.text.as_bytes()]).unwrap(),
            vec![it.n_tokens],
            "token count of {:?}",
            it.name
        );
        let mut out = vec![0.0; 384];
        e.embed(&[it.text.as_bytes()], true, &mut out).unwrap();
        let cos = similarity::cosine(&out, &it.embedding);
        if cos < worst.0 {
            worst = (cos, it.name.clone());
        }
        assert!(
            cos >= 0.9999,
            "{:?}: cosine {cos} with sentence-transformers",
            it.name
        );
        e.embed(&[it.text.as_bytes()], false, &mut out).unwrap();
        assert!(
            similarity::cosine(&out, &it.pooled) >= 0.9999,
            "{:?}: pooled",
            it.name
        );
        let (n1, n2) = (
            similarity::dot(&out, &out).sqrt(),
            similarity::dot(&it.pooled, &it.pooled).sqrt(),
        );
        assert!(
            (n1 - n2).abs() <= 1e-3 * n2,
            "{:?}: norm {n1} vs {n2}",
            it.name
        );
    }
    eprintln!("worst cosine {} ({})", worst.0, worst.1);
}

#[test]
fn batches_sub_batches_and_threads_agree_with_single_texts() {
    let items = reference();
    let texts: Vec<&[u8]> = items.iter().take(32).map(|i| i.text.as_bytes()).collect();
    let one = open(&EmbedderOptions::default());
    let mut single = vec![0.0; texts.len() * 384];
    for (i, t) in texts.iter().enumerate() {
        one.embed(&[t], true, &mut single[i * 384..(i + 1) * 384])
            .unwrap();
    }
    for opts in [
        EmbedderOptions::default(),
        EmbedderOptions {
            threads: 2,
            ..Default::default()
        },
        EmbedderOptions {
            threads: 3,
            max_tokens_per_batch: 300,
            ..Default::default()
        },
    ] {
        let e = open(&opts);
        let mut batch = vec![0.0; texts.len() * 384];
        e.embed(&texts, true, &mut batch).unwrap();
        for i in 0..texts.len() {
            let cos = similarity::cosine(
                &single[i * 384..(i + 1) * 384],
                &batch[i * 384..(i + 1) * 384],
            );
            assert!(cos >= 0.99999, "text {i} with {opts:?}: cosine {cos}");
        }
    }
}

#[test]
fn one_handle_serves_many_threads() {
    let e = open(&EmbedderOptions::default());
    let texts = [
        "a red car",
        "the stock market fell",
        "un café à Paris",
        "東京の天気",
        "rust and go",
    ];
    let mut want = vec![0.0; texts.len() * 384];
    let bytes: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    e.embed(&bytes, true, &mut want).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (e, want, bytes) = (e.clone(), &want, &bytes);
            s.spawn(move || {
                for round in 0..5 {
                    let i = (t + round) % bytes.len();
                    let mut out = vec![0.0; 384];
                    e.embed(&[bytes[i]], true, &mut out).unwrap();
                    assert!(similarity::cosine(&out, &want[i * 384..(i + 1) * 384]) > 0.99999);
                }
            });
        }
    });
}

#[test]
fn the_cache_shares_one_model_per_folder() {
    let a = open(&EmbedderOptions::default());
    let b = open(&EmbedderOptions {
        threads: 2,
        ..Default::default()
    });
    assert!(a.same_model(&b));
    let c = open(&EmbedderOptions {
        cache: false,
        ..Default::default()
    });
    assert!(!a.same_model(&c));
    let d = open(&EmbedderOptions {
        max_length: Some(128),
        ..Default::default()
    });
    assert!(!a.same_model(&d));
    assert_eq!(d.max_length(), 128);
    let info = a.info().unwrap();
    assert_eq!(
        (
            info.dim,
            info.max_length,
            info.pooling,
            info.normalizes,
            info.layers
        ),
        (384, 256, "mean", true, 6)
    );
    assert_eq!(
        info.weights_sha256,
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    );
}

/// A copy of the model folder (big files linked) with `edit` applied.
fn broken_model(tag: &str, edit: impl FnOnce(&Path)) -> PathBuf {
    let src = model_dir();
    let dir = std::env::temp_dir().join(format!("gaia-infer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    for f in [
        "config.json",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(
        src.join("model.safetensors").canonicalize().unwrap(),
        dir.join("model.safetensors"),
    )
    .unwrap();
    edit(&dir);
    dir
}

fn open_err(dir: &Path) -> Error {
    let r = Embedder::open(
        dir,
        &EmbedderOptions {
            cache: false,
            ..Default::default()
        },
    );
    let _ = std::fs::remove_dir_all(dir);
    match r {
        Ok(_) => panic!("{} opened", dir.display()),
        Err(e) => e,
    }
}

#[test]
fn broken_model_folders_are_clear_errors() {
    let e = open_err(Path::new("/nonexistent/gaia-model"));
    assert!(
        matches!(e, Error::MissingFile { .. }) && e.to_string().contains("/nonexistent/gaia-model"),
        "{e}"
    );
    let e = open_err(&broken_model("notok", |d| {
        std::fs::remove_file(d.join("tokenizer.json")).unwrap()
    }));
    assert!(
        e.to_string().contains("tokenizer.json") && e.kind() == crate::ErrorKind::NotFound,
        "{e}"
    );
    let e = open_err(&broken_model("arch", |d| {
        let c = std::fs::read_to_string(d.join("config.json"))
            .unwrap()
            .replace("\"bert\"", "\"gpt2\"");
        std::fs::write(d.join("config.json"), c).unwrap();
    }));
    assert!(
        matches!(e, Error::UnsupportedArchitecture(_)) && e.to_string().contains("gpt2"),
        "{e}"
    );
    let e = open_err(&broken_model("trunc", |d| {
        std::fs::remove_file(d.join("model.safetensors")).unwrap();
        let bytes = std::fs::read(model_dir().join("model.safetensors")).unwrap();
        std::fs::write(d.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    }));
    assert!(
        e.to_string().contains("model.safetensors") && e.kind() == crate::ErrorKind::CorruptState,
        "{e}"
    );
    // A NaN inside a packed layer's weight (layer 3's feed-forward, element 17).
    let e = open_err(&broken_model("nan", |d| {
        std::fs::remove_file(d.join("model.safetensors")).unwrap();
        let mut bytes = std::fs::read(model_dir().join("model.safetensors")).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        let name = "encoder.layer.3.intermediate.dense.weight";
        let entry = header
            .get(name)
            .or_else(|| header.get(format!("bert.{name}")))
            .unwrap();
        let at = 8 + n + entry["data_offsets"][0].as_u64().unwrap() as usize + 4 * 17;
        bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(d.join("model.safetensors"), &bytes).unwrap();
    }));
    assert!(
        e.to_string().contains("layer.3.intermediate.dense.weight")
            && e.to_string().contains("non-finite value at 17"),
        "{e}"
    );
    let e = open_err(&broken_model("json", |d| {
        std::fs::write(d.join("config.json"), "{not json").unwrap()
    }));
    assert!(e.to_string().contains("config.json"), "{e}");
    let e = open_err(&broken_model("shape", |d| {
        let c = std::fs::read_to_string(d.join("config.json"))
            .unwrap()
            .replace("\"hidden_size\": 384", "\"hidden_size\": 768");
        std::fs::write(d.join("config.json"), c).unwrap();
    }));
    assert!(e.to_string().contains("shape"), "{e}");
    for (opts, field) in [
        (r#"{"threads": 0}"#, "threads"),
        (r#"{"thread": 2}"#, "thread"),
        (r#"{"max_length": 4096}"#, "max_length"),
    ] {
        let r = EmbedderOptions::from_json(opts).and_then(|o| Embedder::open(model_dir(), &o));
        let e = r.err().unwrap_or_else(|| panic!("{opts} accepted"));
        assert!(e.to_string().contains(field), "{opts}: {e}");
    }
}

#[test]
fn bad_arguments_change_nothing_and_the_handle_stays_usable() {
    let e = open(&EmbedderOptions::default());
    let mut out = vec![7.0f32; 384 * 2];
    let err = e
        .embed(&[b"ok", b"bad \xff byte"], true, &mut out)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidUtf8 {
                index: 1,
                offset: 4
            }
        ),
        "{err}"
    );
    let err = e.embed(&[b"a", b"b"], true, &mut out[..500]).unwrap_err();
    assert!(
        err.to_string().contains("768") && err.to_string().contains("500"),
        "{err}"
    );
    assert!(out.iter().all(|&x| x == 7.0), "nothing written on error");
    assert!(e
        .embed(&[], true, &mut out)
        .unwrap_err()
        .to_string()
        .contains("no texts"));
    assert!(e.count_tokens(&[b"\xc3"]).is_err());
    e.embed(&[b"still works"], true, &mut out).unwrap();
    assert!((similarity::dot(&out[..384], &out[..384]) - 1.0).abs() < 1e-5);
    // NUL bytes are text like any other (binary-safe lengths).
    e.embed(&[b"a\0b"], true, &mut out).unwrap();
}

fn random_vectors(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = crate::stats::Rng::seed_from_u64(seed);
    (0..n * dim)
        .map(|_| rng.next_f64() as f32 * 2.0 - 1.0)
        .collect()
}

#[test]
fn index_search_matches_brute_force_in_every_storage() {
    let (n, dim) = (2000, 48);
    let data = random_vectors(n, dim, 7);
    let ids: Vec<u64> = (0..n as u64).map(|i| i * 3 + 1).collect();
    let queries = random_vectors(10, dim, 8);
    let brute = |q: &[f32], k: usize| -> Vec<u64> {
        let mut s: Vec<(f32, u64)> = (0..n)
            .map(|i| (similarity::cosine(q, &data[i * dim..(i + 1) * dim]), ids[i]))
            .collect();
        s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        s.into_iter().take(k).map(|x| x.1).collect()
    };
    for storage in [Storage::F32, Storage::F16, Storage::Int8] {
        let mut idx = Index::new(IndexOptions {
            dim,
            storage,
            ..Default::default()
        })
        .unwrap();
        idx.add(&ids, &data).unwrap();
        let mut agree = 0;
        for q in queries.chunks_exact(dim) {
            let hits = idx.search(q, 10).unwrap();
            let want = brute(q, 10);
            if storage == Storage::F32 {
                assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), want);
            }
            agree += hits.iter().filter(|h| want.contains(&h.id)).count();
            // Rescored scores are exact cosines.
            let row = ids.iter().position(|&i| i == hits[0].id).unwrap();
            assert!(
                (hits[0].score - similarity::cosine(q, &data[row * dim..(row + 1) * dim])).abs()
                    < 1e-5
            );
        }
        assert!(
            agree >= 98,
            "{storage:?}: {agree}/100 of the true top-10 found"
        );
        let batch = idx.search_batch(&queries, 10).unwrap();
        for (q, b) in queries.chunks_exact(dim).zip(&batch) {
            let one = idx.search(q, 10).unwrap();
            assert_eq!(
                b.iter().map(|h| h.id).collect::<Vec<_>>(),
                one.iter().map(|h| h.id).collect::<Vec<_>>()
            );
            assert!(b
                .iter()
                .zip(&one)
                .all(|(x, y)| (x.score - y.score).abs() < 1e-5));
        }
    }
}

#[test]
fn index_add_remove_save_load_and_bad_input() {
    let dim = 8;
    let mut idx = Index::new(IndexOptions {
        dim,
        metric: Metric::Dot,
        storage: Storage::Int8,
        ..Default::default()
    })
    .unwrap();
    let data = random_vectors(50, dim, 3);
    idx.add(&(0..50).collect::<Vec<_>>(), &data).unwrap();
    // All or nothing.
    assert!(matches!(
        idx.add(&[100, 5], &data[..16]),
        Err(Error::Id { id: 5, .. })
    ));
    assert!(matches!(
        idx.add(&[100, 100], &data[..16]),
        Err(Error::Id { id: 100, .. })
    ));
    assert!(matches!(
        idx.add(&[100], &data[..7]),
        Err(Error::Dimension { expected: 8, .. })
    ));
    assert!(idx.add(&[100], &[f32::NAN; 8]).is_err());
    assert!(matches!(
        idx.remove(&[3, 999]),
        Err(Error::Id { id: 999, .. })
    ));
    assert_eq!(idx.len(), 50);
    idx.remove(&[3, 49, 0]).unwrap();
    assert_eq!(idx.len(), 47);
    assert!(!idx.contains(3) && idx.contains(48));
    let q = &data[48 * dim..49 * dim];
    let top = idx.search(q, 1).unwrap();
    assert_eq!(top[0].id, idx.search(q, 5).unwrap()[0].id);
    assert!(idx.search(q, 0).is_err());
    assert!(idx.search(&q[..4], 1).is_err());

    let dir = std::env::temp_dir();
    let path = dir.join(format!("gaia-index-{}.gidx", std::process::id()));
    idx.save(&path).unwrap();
    let back = Index::load(&path, Some(dim)).unwrap();
    assert_eq!(back.len(), 47);
    assert_eq!(back.search(q, 5).unwrap(), idx.search(q, 5).unwrap());
    assert!(matches!(
        Index::load(&path, Some(384)),
        Err(Error::Dimension {
            expected: 384,
            got: 8,
            ..
        })
    ));
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(Index::load(&path, None)
        .unwrap_err()
        .to_string()
        .contains("checksum"));
    bytes[8] = 9;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        Index::load(&path, None),
        Err(Error::IndexVersion { found: 9, .. })
    ));
    std::fs::write(&path, b"hello").unwrap();
    assert!(Index::load(&path, None)
        .unwrap_err()
        .to_string()
        .contains("not a Gaia index"));
    let _ = std::fs::remove_file(&path);
    assert!(matches!(
        Index::load(&path, None),
        Err(Error::MissingFile { .. })
    ));
    assert!(IndexOptions::from_json(r#"{"dim": 0}"#).is_err());
    assert!(IndexOptions::from_json(r#"{"dim": 4, "storage": "f8"}"#).is_err());
}

#[test]
fn index_threaded_scan_gives_the_same_results() {
    // 3000 x 128 = 384,000 numbers: above the size where a search splits its scan.
    let (n, dim) = (3000, 128);
    let data = random_vectors(n, dim, 11);
    let ids: Vec<u64> = (0..n as u64).map(|i| i * 7 + 2).collect();
    let queries = random_vectors(8, dim, 12);
    for storage in [Storage::F32, Storage::F16, Storage::Int8] {
        let mut one = Index::new(IndexOptions {
            dim,
            storage,
            ..Default::default()
        })
        .unwrap();
        one.add(&ids, &data).unwrap();
        let mut three = one.clone();
        three.set_threads(3).unwrap();
        assert_eq!(three.options().threads, 3);
        for q in queries.chunks_exact(dim) {
            for k in [1, 10, 2999, 5000] {
                let (a, b) = (one.search(q, k).unwrap(), three.search(q, k).unwrap());
                assert_eq!(a, b, "{storage:?} k={k}");
                assert_eq!(a.len(), k.min(n));
            }
        }
        // Out of range: refused, the setting kept.
        assert!(three.set_threads(0).is_err());
        assert!(three.set_threads(257).is_err());
        assert_eq!(three.options().threads, 3);
    }
    let e = IndexOptions::from_json(r#"{"dim": 4, "threads": 0}"#).unwrap_err();
    assert!(e.to_string().contains("index option threads"), "{e}");
}

#[test]
fn sub_batches_cover_every_text_once_within_budget_and_balanced() {
    use super::embedder::{plan_sub_batches, sequence_cost as cost};
    let mut s = 7u64;
    let lens: Vec<usize> = (0..32)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            3 + (s >> 33) as usize % 120
        })
        .collect();
    for (threads, budget) in [
        (1, 8192),
        (2, 8192),
        (3, 8192),
        (2, 300),
        (8, 8192),
        (64, 8192),
    ] {
        let plan = plan_sub_batches(&lens, threads, budget);
        let mut seen: Vec<usize> = plan.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..lens.len()).collect::<Vec<_>>(),
            "{threads}/{budget}"
        );
        for b in &plan {
            let tokens: usize = b.iter().map(|&i| lens[i]).sum();
            assert!(
                b.len() == 1 || tokens <= budget,
                "{threads}/{budget}: {tokens}"
            );
        }
        let total: usize = lens.iter().sum();
        if total <= budget {
            // Exactly one sub-batch per thread (no short remainder run alone afterwards).
            assert_eq!(plan.len(), threads.min(lens.len()), "{threads}");
            let costs: Vec<f64> = plan
                .iter()
                .map(|b| b.iter().map(|&i| cost(lens[i])).sum())
                .collect();
            let biggest = lens.iter().map(|&n| cost(n)).fold(0.0, f64::max);
            let (hi, lo) = (costs[0], costs[costs.len() - 1]);
            assert!(costs.windows(2).all(|w| w[0] >= w[1]), "most costly first");
            assert!(hi - lo <= biggest, "{threads}: {costs:?}");
        } else {
            assert!(plan.len() >= total.div_ceil(budget));
        }
    }
    // One text; more threads than texts; a text longer than the budget goes alone.
    assert_eq!(plan_sub_batches(&[5], 4, 8192), vec![vec![0]]);
    assert_eq!(plan_sub_batches(&[5, 9], 4, 8192).len(), 2);
    let plan = plan_sub_batches(&[300, 10, 10], 1, 256);
    assert!(plan.contains(&vec![0]), "{plan:?}");
}
