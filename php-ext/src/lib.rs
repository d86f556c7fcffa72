//! The native PHP extension `gaia`: the same classes, methods and exceptions as the FFI
//! binding in `bindings/php`, calling `gaia-core` directly (no C ABI, no separate library).
//!
//! It only adapts: argument bytes are checked with [`gaia_core::utf8_arg`] (the same message
//! as the C ABI gives), errors map to the C ABI's status codes and to the exception classes
//! of `docs/bindings.md`, and arrays cross as JSON through PHP's own `json_encode` /
//! `json_decode`, exactly as the FFI binding does.
#![cfg_attr(windows, feature(abi_vectorcall))]
#![allow(
    clippy::needless_pass_by_value,
    reason = "ext-php-rs passes arguments by value"
)]

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::args::ArgInfoTables;
use ext_php_rs::binary::Binary;
use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, Zval};
use ext_php_rs::zend::{ce, ClassEntry};
use ext_php_rs::{info_table_end, info_table_row, info_table_start};
use gaia_core::mcts::{Payload, Search as CoreSearch};
use gaia_core::tune::{Study as CoreStudy, TrialState};
use gaia_core::{Error, ErrorKind};

mod bandit;
mod infer;
mod sync;

/// The ABI version the FFI binding checks; reported identically here.
const ABI_VERSION: i64 = 1;
/// `JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_UNICODE`, as the FFI binding encodes.
const JSON_ENCODE_FLAGS: i64 = 1024 | 256;

extern "C" {
    /// SPL's `RuntimeException`, exported by the PHP binary (`PHPAPI`).
    static spl_ce_RuntimeException: *mut ClassEntry;
}

/// `\RuntimeException`, the parent of `Gaia\GaiaException` as in the FFI binding. The class
/// table cannot be searched during MINIT, so this reads SPL's exported class entry, which
/// SPL (a static extension) sets before any loaded extension starts.
fn runtime_exception() -> &'static ClassEntry {
    // SAFETY: a plain read of a pointer PHP initialised at startup; NULL falls back.
    unsafe { spl_ce_RuntimeException.as_ref() }.unwrap_or_else(ce::exception)
}

/// The exception classes, parents first, with the doc line each one carries.
const EXCEPTIONS: [(&str, &[&str]); 5] = [
    (
        "Gaia\\GaiaException",
        &["Base of every Gaia error: getCode() is the C ABI status code."],
    ),
    (
        "Gaia\\InvalidArgumentException",
        &["A bad argument (codes 1, 2, 7, 8, 9, 11)."],
    ),
    (
        "Gaia\\NotFoundException",
        &["A name or id that does not exist (code 10)."],
    ),
    (
        "Gaia\\StateException",
        &["The object's state does not allow the call now (code 12)."],
    ),
    (
        "Gaia\\CorruptStateException",
        &["Saved state that is corrupt (13) or of another version (14)."],
    ),
];

/// Their class entries, set once at module startup.
static EXCEPTION_CE: [AtomicPtr<ClassEntry>; 5] = [const { AtomicPtr::new(ptr::null_mut()) }; 5];

fn exception_ce(i: usize) -> &'static ClassEntry {
    // SAFETY: entries registered with PHP live for the whole process.
    unsafe { EXCEPTION_CE[i].load(Ordering::Acquire).as_ref() }.unwrap_or_else(ce::exception)
}

fn gaia_exception_ce() -> &'static ClassEntry {
    exception_ce(0)
}

#[allow(
    clippy::boxed_local,
    reason = "the signature ClassBuilder::registration requires"
)]
fn remember_exception(ce: &'static mut ClassEntry, _arg_info: ArgInfoTables) {
    let name = ce.name().map(str::to_owned);
    if let Some(i) = EXCEPTIONS
        .iter()
        .position(|(n, _)| Some(*n) == name.as_deref())
    {
        EXCEPTION_CE[i].store(ce, Ordering::Release);
    }
}

/// Registers the exception classes as plain PHP classes (no Rust object behind them), so,
/// as with the FFI binding, PHP code can also construct them.
extern "C" fn register_exceptions(_type: i32, _module_number: i32) -> i32 {
    for (i, (name, docs)) in EXCEPTIONS.iter().enumerate() {
        let parent: ext_php_rs::class::ClassEntryInfo = if i == 0 {
            (runtime_exception, "\\RuntimeException")
        } else {
            (gaia_exception_ce, "\\Gaia\\GaiaException")
        };
        let registered = ClassBuilder::new(*name)
            .extends(parent)
            .docs(docs)
            .registration(remember_exception)
            .register();
        if registered.is_err() {
            return 1; // FAILURE: PHP refuses to start the module
        }
    }
    0
}

/// The C ABI status code of an error kind (as `gaia-ffi` maps it).
fn status(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidUtf8 => 2,
        ErrorKind::InvalidJson => 7,
        ErrorKind::InvalidConfig => 8,
        ErrorKind::InvalidArgument => 9,
        ErrorKind::NotFound => 10,
        ErrorKind::AlreadyExists => 11,
        ErrorKind::InvalidState => 12,
        ErrorKind::CorruptState => 13,
        ErrorKind::UnsupportedVersion => 14,
        ErrorKind::Io => 15,
        ErrorKind::BufferTooSmall => 5,
        ErrorKind::Cancelled => 4,
        _ => 9,
    }
}

/// An exception of the class docs/bindings.md assigns to `code`.
fn exception(message: String, code: i32) -> PhpException {
    let class = match code {
        1 | 2 | 7 | 8 | 9 | 11 => exception_ce(1),
        10 => exception_ce(2),
        12 => exception_ce(3),
        13 | 14 => exception_ce(4),
        _ => exception_ce(0),
    };
    PhpException::new(message, code, class)
}

fn fail(e: impl Into<Error>) -> PhpException {
    let e: Error = e.into();
    exception(e.to_string(), status(e.kind()))
}

/// The bytes of a PHP string argument, checked as UTF-8 under the C ABI's argument name.
fn text<'a>(value: &'a Zval, what: &'static str) -> PhpResult<&'a str> {
    let s = value
        .zend_str()
        .ok_or_else(|| exception(format!("{what} must be a string"), 9))?;
    if s.as_bytes().contains(&0) {
        // The FFI binding cannot pass a NUL through the C ABI; refuse it identically.
        return Err(exception(format!("{what} contains a NUL byte"), 9));
    }
    gaia_core::utf8_arg(s.as_bytes(), what).map_err(fail)
}

/// Calls a PHP function by name (json_encode / json_decode).
fn call(name: &str, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>) -> PhpResult<Zval> {
    let f = ZendCallable::try_from_name(name)
        .map_err(|e| exception(format!("{name} is unavailable: {e:?}"), 3))?;
    f.try_call(args)
        .map_err(|e| exception(format!("{name} failed: {e:?}"), 3))
}

/// Versions of Gaia.
#[php_class]
#[php(name = "Gaia\\Library")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
#[derive(Debug)]
pub struct Library;

#[php_impl]
impl Library {
    /// The library's semantic version, e.g. "0.1.0".
    pub fn version() -> &'static str {
        gaia_core::VERSION
    }

    /// The ABI version (1), as the FFI binding reports it.
    pub fn abi_version() -> i64 {
        ABI_VERSION
    }
}

/// `JSON_FORCE_OBJECT`, added for trial parameters as the FFI binding does.
const JSON_FORCE_OBJECT: i64 = 16;

/// PHP's json_encode of `value`, or the exception the FFI binding throws when it fails.
fn encode(value: &Zval, flags: i64, what: &str) -> PhpResult<String> {
    let json = call("json_encode", vec![value, &flags])?;
    match json.str() {
        Some(text) => Ok(text.to_owned()),
        None => {
            let msg = call("json_last_error_msg", vec![])?;
            // NaN/infinity (JSON_ERROR_INF_OR_NAN = 7) is an out-of-domain argument (9).
            let inf_or_nan = call("json_last_error", vec![])?.long() == Some(7);
            Err(exception(
                format!("{what}: {}", msg.str().unwrap_or("cannot encode")),
                if inf_or_nan { 9 } else { 7 },
            ))
        }
    }
}

/// PHP's json_decode(`text`, true).
fn decode(text: &str) -> PhpResult<Zval> {
    let text = text.to_owned();
    let assoc = true;
    call("json_decode", vec![&text, &assoc])
}

/// A constructor's configuration as JSON text: an array through json_encode (as the FFI
/// binding encodes it), a string checked as UTF-8 under the C ABI's name `config_json`.
fn config_text(config: &Zval, what: &str) -> PhpResult<String> {
    if config.is_array() {
        encode(config, JSON_ENCODE_FLAGS, what)
    } else if config.is_string() {
        Ok(text(config, "config_json")?.to_owned())
    } else {
        Err(exception(
            format!("{what} must be an array or a JSON string"),
            7,
        ))
    }
}

fn trial_id(id: i64) -> PhpResult<u64> {
    u64::try_from(id).map_err(|_| fail(gaia_core::tune::Error::NegativeTrialId(id)))
}

/// A number, or a list of numbers (one per objective), as objective values.
fn objective_values(value: &Zval, what: &str) -> PhpResult<Vec<f64>> {
    let number = |v: &Zval| v.double().or_else(|| v.long().map(|n| n as f64));
    if let Some(x) = number(value) {
        return Ok(vec![x]);
    }
    let Some(items) = value.array() else {
        return Err(exception(
            format!("{what}: value must be a number or a list of numbers"),
            9,
        ));
    };
    if call("array_is_list", vec![value])?.bool() != Some(true) {
        return Err(exception(
            format!("{what}: values must be a list, one per objective"),
            9,
        ));
    }
    items
        .values()
        .enumerate()
        .map(|(k, v)| {
            number(v).ok_or_else(|| exception(format!("{what}: value #{k} is not a number"), 9))
        })
        .collect()
}

/// An ask/tell optimisation study (random, Sobol, grid, TPE, CMA-ES, GP, NSGA-II; one
/// objective or several; pruning); save()/load() carry it across requests.
#[php_class]
#[php(name = "Gaia\\Study")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
#[derive(Debug)]
pub struct Study {
    inner: CoreStudy,
}

#[php_impl]
impl Study {
    /// The trial finished with a finite value.
    pub const COMPLETE: i64 = 1;
    /// The evaluation failed; its value is ignored.
    pub const FAILED: i64 = 2;
    /// The evaluation was stopped early; its value is ignored.
    pub const PRUNED: i64 = 3;

    /// Creates a study from a configuration array, or the same as a JSON string.
    pub fn __construct(config: &Zval) -> PhpResult<Self> {
        let text = config_text(config, "study config")?;
        Ok(Study {
            inner: CoreStudy::from_json(&text).map_err(fail)?,
        })
    }

    /// Restores a study saved by save().
    pub fn load(saved: &Zval) -> PhpResult<Self> {
        let text = text(saved, "saved_json")?;
        Ok(Study {
            inner: CoreStudy::load_json(text).map_err(fail)?,
        })
    }

    /// Starts a trial: ['id' => int, 'params' => array].
    pub fn ask(&mut self) -> PhpResult<Zval> {
        let asked = self.inner.ask().map_err(fail)?;
        let json = serde_json::json!({"id": asked.id, "params": asked.params});
        decode(&json.to_string())
    }

    /// Finishes a trial (state: COMPLETE, FAILED or PRUNED); NaN or infinity is recorded as
    /// FAILED. `value`: a number, or a list of numbers (one per objective) for a study with
    /// several objectives. `constraints`: a map by name or a list in declaration order
    /// (feasible <= 0).
    #[php(defaults(state = 1))]
    pub fn tell(
        &mut self,
        id: i64,
        value: &Zval,
        state: i64,
        constraints: Option<&Zval>,
    ) -> PhpResult<()> {
        let id = trial_id(id)?;
        let objectives = objective_values(value, &format!("trial {id}"))?;
        let state = TrialState::from_code(state).map_err(fail)?;
        let values = match constraints.filter(|c| !c.is_null()) {
            None => Vec::new(),
            Some(c) if c.is_array() => {
                let is_list = call("array_is_list", vec![c])?.bool() == Some(true);
                let flags = if is_list {
                    JSON_ENCODE_FLAGS
                } else {
                    JSON_ENCODE_FLAGS | JSON_FORCE_OBJECT
                };
                let json = encode(c, flags, &format!("trial {id}: constraints"))?;
                self.inner.parse_constraints(id, &json).map_err(fail)?
            }
            Some(_) => {
                return Err(exception(
                    format!("trial {id}: constraints must be an array"),
                    9,
                ))
            }
        };
        self.inner
            .tell_values(id, &objectives, state, &values)
            .map(|_| ())
            .map_err(fail)
    }

    /// Reports an intermediate value of a running trial at `step` for the study's pruner; a
    /// step reported twice keeps its first value.
    pub fn report(&mut self, id: i64, step: i64, value: f64) -> PhpResult<()> {
        let id = trial_id(id)?;
        let step = u64::try_from(step).map_err(|_| {
            exception(
                format!("trial {id}: step must not be negative, got {step}"),
                9,
            )
        })?;
        self.inner.report(id, step, value).map_err(fail)
    }

    /// Whether the running trial should stop now (then tell it PRUNED); always false
    /// without a pruner.
    pub fn should_prune(&mut self, id: i64) -> PhpResult<bool> {
        let id = trial_id(id)?;
        self.inner.should_prune(id).map_err(fail)
    }

    /// How much each parameter matters (PED-ANOVA): name => share, largest first.
    pub fn importance(&mut self) -> PhpResult<Zval> {
        let rows = self.inner.importance().map_err(fail)?;
        let parts: Vec<String> = rows
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{}:{}",
                    serde_json::Value::from(k),
                    serde_json::Value::from(v)
                )
            })
            .collect();
        decode(&format!("{{{}}}", parts.join(",")))
    }

    /// Writes a journal study's records to the disk now (a no-op in memory).
    pub fn flush(&self) -> PhpResult<()> {
        self.inner.flush().map_err(fail)
    }

    /// Makes the next ask() return these parameters.
    pub fn enqueue(&mut self, params: &Zval) -> PhpResult<()> {
        let json = encode(
            params,
            JSON_ENCODE_FLAGS | JSON_FORCE_OBJECT,
            "trial params",
        )?;
        let params = CoreStudy::parse_params(&json).map_err(fail)?;
        self.inner.enqueue(&params).map_err(fail)
    }

    /// Records a trial evaluated elsewhere and returns its id (`value`: a list of numbers
    /// for a study with several objectives).
    #[php(defaults(state = 1))]
    pub fn add_trial(&mut self, params: &Zval, value: &Zval, state: i64) -> PhpResult<i64> {
        let values = objective_values(value, "added trial")?;
        let json = encode(
            params,
            JSON_ENCODE_FLAGS | JSON_FORCE_OBJECT,
            "trial params",
        )?;
        let params = CoreStudy::parse_params(&json).map_err(fail)?;
        let state = TrialState::from_code(state).map_err(fail)?;
        let id = self
            .inner
            .add_trial_values(&params, &values, state, &[])
            .map_err(fail)?;
        Ok(i64::try_from(id).unwrap_or(i64::MAX))
    }

    /// The best (feasible) complete trial.
    pub fn best(&mut self) -> PhpResult<Zval> {
        decode(&self.inner.best_json().map_err(fail)?)
    }

    /// Every trial, in id order.
    pub fn trials(&mut self) -> PhpResult<Zval> {
        decode(&self.inner.trials_json().map_err(fail)?)
    }

    /// The whole study as versioned JSON for load().
    pub fn save(&self) -> String {
        self.inner.save_json()
    }
}

/// Bytes of a PHP string argument (binary safe).
fn bytes_of<'a>(value: &'a Zval, what: &str) -> PhpResult<&'a [u8]> {
    value
        .zend_str()
        .map(|s| s.as_bytes())
        .ok_or_else(|| exception(format!("{what} must be a string"), 9))
}

fn non_negative(id: i64, what: &str) -> PhpResult<u64> {
    u64::try_from(id)
        .map_err(|_| exception(format!("{what} id must not be negative, got {id}"), 10))
}

/// A tree search over LLM answers (AB-MCTS-A or a baseline); save()/load() carry it across
/// requests.
#[php_class]
#[php(name = "Gaia\\Mcts")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
#[derive(Debug)]
pub struct Mcts {
    inner: CoreSearch,
}

#[php_impl]
impl Mcts {
    /// Creates a search from a configuration array, or the same as a JSON string.
    pub fn __construct(config: &Zval) -> PhpResult<Self> {
        let text = config_text(config, "mcts config")?;
        Ok(Mcts {
            inner: CoreSearch::from_json(&text).map_err(fail)?,
        })
    }

    /// Restores a search from a snapshot written by save().
    pub fn load(snapshot: &Zval) -> PhpResult<Self> {
        let bytes = bytes_of(snapshot, "snapshot")?;
        Ok(Mcts {
            inner: CoreSearch::load(bytes).map_err(fail)?,
        })
    }

    /// The configured actions, in index order.
    pub fn actions(&self) -> Vec<String> {
        self.inner.config().actions.clone()
    }

    /// Starts up to n trials: a list of ['id' => int, 'node' => int, 'action' => string].
    #[php(defaults(n = 1))]
    pub fn ask(&mut self, n: i64) -> PhpResult<Zval> {
        // Negative n: the library's own message (usize cannot carry it).
        let n = usize::try_from(n).map_err(|_| {
            exception(
                format!("ask needs n in 1..={}, got {n}", gaia_core::mcts::MAX_ASK),
                9,
            )
        })?;
        let trials = self.inner.ask(n).map_err(fail)?;
        let actions = &self.inner.config().actions;
        let rows: Vec<serde_json::Value> = trials
            .iter()
            .map(|t| serde_json::json!({"id": t.id, "node": t.node, "action": actions[t.action as usize]}))
            .collect();
        decode(&serde_json::Value::Array(rows).to_string())
    }

    /// Adds a trial's new answer with its score in [0, 1] and optional text; returns its node.
    pub fn tell(&mut self, trial_id: i64, score: f64, payload: Option<&Zval>) -> PhpResult<i64> {
        let id = non_negative(trial_id, "trial")?;
        let payload = match payload.filter(|p| !p.is_null()) {
            None => Payload::None,
            Some(p) => {
                let b = bytes_of(p, "payload")?;
                if b.is_empty() {
                    Payload::None
                } else {
                    Payload::Bytes(b.to_vec().into_boxed_slice())
                }
            }
        };
        let node = self.inner.tell(id, score, payload).map_err(fail)?;
        Ok(i64::from(node))
    }

    /// tell() with an opaque integer id as payload.
    pub fn tell_id(&mut self, trial_id: i64, score: f64, payload_id: i64) -> PhpResult<i64> {
        let id = non_negative(trial_id, "trial")?;
        let node = self
            .inner
            .tell(id, score, Payload::Id(payload_id as u64))
            .map_err(fail)?;
        Ok(i64::from(node))
    }

    /// Gives up a trial whose call failed or timed out.
    pub fn abandon(&mut self, trial_id: i64) -> PhpResult<()> {
        let id = non_negative(trial_id, "trial")?;
        self.inner.abandon(id).map_err(fail)
    }

    /// Node id (0 is the root) as an array.
    pub fn node(&self, id: i64) -> PhpResult<Zval> {
        let id = u32::try_from(non_negative(id, "node")?).unwrap_or(u32::MAX);
        decode(&self.inner.node_json(id).map_err(fail)?.to_string())
    }

    /// The text told with node id, or null.
    pub fn payload(&self, id: i64) -> PhpResult<Option<Binary<u8>>> {
        let id = u32::try_from(non_negative(id, "node")?).unwrap_or(u32::MAX);
        match self.inner.node(id).map_err(fail)?.payload {
            Payload::Bytes(b) => Ok(Some(Binary::from(b.to_vec()))),
            _ => Ok(None),
        }
    }

    /// The k best answers, best first.
    pub fn top_k(&self, k: i64) -> PhpResult<Zval> {
        decode(&self.inner.top_k_json(k.max(0) as usize))
    }

    /// Nodes in the tree, the root included.
    pub fn node_count(&self) -> i64 {
        self.inner.len() as i64
    }

    /// The whole tree as JSON for visualisation.
    pub fn export_json(&self) -> String {
        self.inner.export_json()
    }

    /// The whole search as a binary snapshot for load().
    pub fn save(&self) -> Binary<u8> {
        Binary::from(self.inner.save())
    }
}

/// phpinfo() section.
pub extern "C" fn php_module_info(_module: *mut ext_php_rs::zend::ModuleEntry) {
    info_table_start!();
    info_table_row!("gaia support", "enabled");
    info_table_row!("gaia version", gaia_core::VERSION);
    info_table_end!();
}

/// Registers the module `gaia` and its classes.
#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("gaia")
        .startup_function(register_exceptions)
        .class::<Library>()
        .class::<bandit::Bandit>()
        .class::<Study>()
        .class::<Mcts>()
        .class::<infer::Embedder>()
        .class::<infer::VectorIndex>()
        .class::<sync::GaiaSync>()
        .info_function(php_module_info)
}
