//! `Gaia\Sync`, straight on `gaia_core::sync` (the same methods, results and exceptions as
//! bindings/php over FFI).

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, Zval};
use ext_php_rs::zend::{ce, ExecutorGlobals};
use gaia_core::sync::{Mode, Sync as CoreSync};

use super::{config_text, decode, exception, fail};

/// A run mode by name, as the FFI binding maps it to `GAIA_SYNC_*`.
fn mode(name: &str) -> PhpResult<Mode> {
    match name {
        "auto" => Ok(Mode::Auto),
        "full" => Ok(Mode::Full),
        "incremental" => Ok(Mode::Incremental),
        "cdc" => Ok(Mode::Cdc),
        "reconcile" => Ok(Mode::Reconcile),
        m => Err(exception(
            format!("unknown mode \"{m}\" (auto, full, incremental, cdc, reconcile)"),
            9,
        )),
    }
}

/// Keeps a Solr core equal to MariaDB tables: a full rebuild swapped in, or an incremental
/// pass over the rows changed since the last checkpoint. run() blocks the PHP thread and
/// calls the progress callback on it.
#[php_class]
#[php(name = "Gaia\\Sync")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
// Named GaiaSync in Rust: `php_class` needs the name `Sync` free for the marker trait.
#[derive(Debug)]
pub struct GaiaSync {
    /// None after close(). Every method takes `&self`: a progress callback may call back
    /// into this object (progress(), cancel(), close()) while run() is on the stack.
    inner: RefCell<Option<Arc<CoreSync>>>,
    /// Calls of run() inside the engine (0 or 1: run() from a progress callback is
    /// refused); close() refuses while there is one.
    running: Cell<u32>,
}

impl GaiaSync {
    fn live(&self) -> PhpResult<Arc<CoreSync>> {
        self.inner
            .borrow()
            .clone()
            .ok_or_else(|| exception("sync is closed".into(), 6))
    }
}

/// What a progress callback left behind: the exception it threw (rethrown once the run has
/// stopped) or a failure of the binding itself.
#[derive(Debug, Default)]
struct Callback {
    thrown: Option<Zval>,
    failure: Option<PhpException>,
}

impl Callback {
    /// Calls the PHP callable with the decoded progress; false cancels the run.
    fn call(&mut self, callable: &ZendCallable, json: &str) -> bool {
        if self.thrown.is_some() || self.failure.is_some() {
            return false;
        }
        let progress = match decode(json) {
            Ok(p) => p,
            Err(e) => {
                self.failure = Some(e);
                return false;
            }
        };
        match callable.try_call(vec![&progress]) {
            Ok(ret) => !ret.is_false(),
            Err(e) => {
                match ExecutorGlobals::take_exception().map(|ex| ex.into_zval(false)) {
                    Some(Ok(object)) => self.thrown = Some(object),
                    _ => {
                        self.failure =
                            Some(exception(format!("the progress callback failed: {e}"), 3));
                    }
                }
                false
            }
        }
    }
}

#[php_impl]
impl GaiaSync {
    /// Parses and checks a configuration array, or the same as a JSON string, without
    /// contacting any server.
    pub fn __construct(config: &Zval) -> PhpResult<Self> {
        let text = config_text(config, "sync config")?;
        Ok(GaiaSync {
            inner: RefCell::new(Some(Arc::new(CoreSync::new(&text).map_err(fail)?))),
            running: Cell::new(0),
        })
    }

    /// Connects to MariaDB and Solr and checks the mapping against the live schemas,
    /// writing nothing.
    pub fn check(&self) -> PhpResult<()> {
        self.live()?.check().map_err(fail)
    }

    /// Runs a sync ('auto', 'full', 'incremental', 'cdc': follow the binlog until the
    /// progress callback returns false, or 'reconcile') and returns its report as an array.
    /// The callback gets the progress array every interval_ms (at least 10) and once at the
    /// end; false from it cancels the run, an exception from it cancels the run and is
    /// rethrown.
    #[php(defaults(mode = "auto".to_string(), interval_ms = 1000))]
    pub fn run(
        &self,
        mode: String,
        on_progress: Option<&Zval>,
        interval_ms: i64,
    ) -> PhpResult<Zval> {
        let m = self::mode(&mode)?;
        let interval = u32::try_from(interval_ms).map_err(|_| {
            exception(
                format!("intervalMs must be between 0 and 4294967295, got {interval_ms}"),
                9,
            )
        })?;
        let callable = match on_progress.filter(|z| !z.is_null()) {
            None => None,
            Some(z) => Some(ZendCallable::new(z).map_err(|_| {
                PhpException::new(
                    format!(
                        "Gaia\\Sync::run(): Argument #2 ($onProgress) must be of type \
                         ?callable, {} given",
                        z.get_type()
                    ),
                    0,
                    ce::type_error(),
                )
            })?),
        };
        let inner = self.live()?;
        if self.running.get() > 0 {
            // From a progress callback: the engine's last call comes after it has let go of
            // the run, when a nested run would start for real.
            return Err(exception(
                "a sync run is already in progress on this handle".into(),
                12,
            ));
        }
        let mut cb = Callback::default();
        self.running.set(self.running.get() + 1);
        let res = match &callable {
            None => inner.run(m),
            Some(c) => {
                inner.run_with_progress(m, Duration::from_millis(u64::from(interval)), |p| {
                    cb.call(c, &p.to_json())
                })
            }
        };
        self.running.set(self.running.get() - 1);
        if let Some(object) = cb.thrown {
            return Err(PhpException::new(String::new(), 0, ce::exception()).with_object(object));
        }
        if let Some(e) = cb.failure {
            return Err(e);
        }
        decode(&res.map_err(fail)?.to_json())
    }

    /// The current (or last) run's progress as an array.
    pub fn progress(&self) -> PhpResult<Zval> {
        decode(&self.live()?.progress().to_json())
    }

    /// Asks the run in progress to stop at its next chunk; run() then throws code 4.
    pub fn cancel(&self) -> PhpResult<()> {
        self.live()?.cancel();
        Ok(())
    }

    /// This object's metrics in the Prometheus text format.
    pub fn metrics(&self) -> PhpResult<String> {
        Ok(self.live()?.metrics())
    }

    /// Frees the engine now; idempotent. Later calls throw code 6.
    pub fn close(&self) -> PhpResult<()> {
        if self.running.get() > 0 {
            return Err(exception(
                "sync: close() during run(); return false from the progress callback to \
                 cancel the run"
                    .into(),
                12,
            ));
        }
        self.inner.borrow_mut().take();
        Ok(())
    }
}
