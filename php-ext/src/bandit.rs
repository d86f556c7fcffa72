//! `Gaia\Bandit`, straight on `gaia_core::tune::Bandit` (the same methods, results, messages
//! and exceptions as bindings/php over FFI).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use gaia_core::tune::Bandit as CoreBandit;

use super::{call, config_text, exception, fail, text};

/// A multi-armed bandit over named arms (Thompson sampling, UCB1, EXP3, or contextual
/// linear Thompson sampling): chooses which arm to try and learns from rewards which pays
/// best; ask()/tell() learn from rewards that come later. save()/load() carry it across
/// requests, pending tickets included.
#[php_class]
#[php(name = "Gaia\\Bandit")]
#[php(flags = ext_php_rs::flags::ClassFlags::Final)]
#[derive(Debug)]
pub struct Bandit {
    inner: CoreBandit,
}

/// The numbers of a PHP context array, in order; a value that is not an int or a float is
/// refused with the FFI binding's message.
fn context_numbers(context: Option<&Zval>) -> PhpResult<Vec<f64>> {
    let Some(value) = context.filter(|c| !c.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(items) = value.array() else {
        return Err(exception("context must be an array of numbers".into(), 9));
    };
    items
        .values()
        .enumerate()
        .map(|(i, v)| {
            if let Some(x) = v.double() {
                Ok(x)
            } else if let Some(n) = v.long() {
                Ok(n as f64)
            } else {
                let kind = call("get_debug_type", vec![v])?;
                Err(exception(
                    format!(
                        "context[{i}] must be a number, got {}",
                        kind.str().unwrap_or("a value of another type")
                    ),
                    9,
                ))
            }
        })
        .collect()
}

fn as_php_int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[php_impl]
impl Bandit {
    /// Creates a bandit from a configuration array, or the same as a JSON string.
    pub fn __construct(config: &Zval) -> PhpResult<Self> {
        let text = config_text(config, "bandit config")?;
        Ok(Bandit {
            inner: CoreBandit::from_json(&text).map_err(fail)?,
        })
    }

    /// Restores a bandit saved by save().
    pub fn load(saved: &Zval) -> PhpResult<Self> {
        let text = text(saved, "saved_json")?;
        Ok(Bandit {
            inner: CoreBandit::load_json(text).map_err(fail)?,
        })
    }

    /// Chooses an arm by the bandit's policy and returns its name.
    pub fn choose(&mut self) -> PhpResult<String> {
        self.inner.choose().map(str::to_owned).map_err(fail)
    }

    /// Chooses an arm and returns its index in arms().
    pub fn choose_index(&mut self) -> PhpResult<i64> {
        let i = self.inner.choose_index().map_err(fail)?;
        Ok(as_php_int(i))
    }

    /// Chooses an arm for a reward that comes later: ['ticket' => int, 'arm' => string,
    /// 'index' => int]. `context`: the 'lints' context (a list of numbers); null or [] for
    /// the other policies.
    pub fn ask(&mut self, context: Option<&Zval>) -> PhpResult<ZBox<ZendHashTable>> {
        let x = context_numbers(context)?;
        let t = self.inner.ask(&x).map_err(fail)?;
        let name = self.inner.arm_name(t.arm).map_err(fail)?.to_owned();
        let mut out = ZendHashTable::new();
        let ticket = i64::try_from(t.id).unwrap_or(i64::MAX);
        let built = out
            .insert("ticket", ticket)
            .and_then(|()| out.insert("arm", name))
            .and_then(|()| out.insert("index", as_php_int(t.arm)));
        built.map_err(|e| exception(format!("ask: cannot build the result: {e:?}"), 3))?;
        Ok(out)
    }

    /// Records the reward of an ask, in any order, until 'pending_ttl_s' after it.
    pub fn tell(&mut self, ticket: i64, reward: f64) -> PhpResult<()> {
        let Ok(id) = u64::try_from(ticket) else {
            return Err(exception(
                format!("unknown ticket {ticket}: tickets start at 1"),
                10,
            ));
        };
        self.inner.tell(id, reward).map(|_| ()).map_err(fail)
    }

    /// Records a reward for an arm; on error nothing changes.
    pub fn update(&mut self, arm: &Zval, reward: f64) -> PhpResult<()> {
        let arm = text(arm, "arm")?;
        self.inner.update(arm, reward).map_err(fail)
    }

    /// Records a reward for the arm at `index`.
    pub fn update_index(&mut self, index: i64, reward: f64) -> PhpResult<()> {
        let Ok(i) = usize::try_from(index) else {
            return Err(exception(
                format!(
                    "arm index {index} is out of range: the bandit has {} arms",
                    self.inner.arm_count()
                ),
                10,
            ));
        };
        self.inner.update_index(i, reward).map_err(fail)
    }

    /// Adds an arm with only its prior as evidence.
    pub fn add_arm(&mut self, name: &Zval) -> PhpResult<()> {
        let name = text(name, "name")?;
        self.inner.add_arm(name).map_err(fail)
    }

    /// Removes an arm, its evidence and its pending tickets.
    pub fn remove_arm(&mut self, name: &Zval) -> PhpResult<()> {
        let name = text(name, "name")?;
        self.inner.remove_arm(name).map_err(fail)
    }

    /// The arm names, in index order.
    pub fn arms(&self) -> Vec<String> {
        self.inner.arm_names().map(str::to_owned).collect()
    }

    /// Statistics, as an array (json_decode of the library's stats JSON), after expiring the
    /// asks past their ttl.
    pub fn stats(&mut self) -> PhpResult<Zval> {
        self.inner.expire();
        let json = self.inner.stats_json();
        let assoc = true;
        call("json_decode", vec![&json, &assoc])
    }

    /// The whole bandit as versioned JSON for load().
    pub fn save(&self) -> String {
        self.inner.save_json()
    }
}
