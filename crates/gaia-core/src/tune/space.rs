//! Search spaces: the parameters a study tunes, declared once as JSON and validated up front.
//!
//! ```json
//! {"params": [
//!   {"name": "model", "type": "categorical", "choices": ["small", "large"]},
//!   {"name": "temperature", "type": "float", "low": 0.0, "high": 2.0},
//!   {"name": "top_p", "type": "float", "low": 0.01, "high": 1.0, "log": true},
//!   {"name": "max_tokens", "type": "int", "low": 64, "high": 4096, "step": 64},
//!   {"name": "beams", "type": "int", "low": 1, "high": 8,
//!    "condition": {"param": "model", "in": ["large"]}}
//! ]}
//! ```
//!
//! * `float`: `low <= high`, optional `log` (needs `low > 0`) or `step` (must divide
//!   `high - low`; not with `log`).
//! * `int`: the same with integers (`step` >= 1, default 1).
//! * `categorical`: non-empty, distinct `choices` of strings, numbers or booleans.
//! * `condition`: the parameter is active only when the categorical `param`, declared
//!   earlier, takes one of the values `in`.
//!
//! Samplers work on an *internal* number per parameter: the value itself for float and int,
//! its natural log when `log` is set, and the choice's index for categoricals.
//! [`Space::to_external`] turns it back into the JSON value a trial reports, snapping to
//! `step` and clamping to the bounds.

use serde::Deserialize;
use serde_json::Value;

use super::Error;
use crate::stats::Rng;

/// What a parameter ranges over.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// A real in `[low, high]`, sampled in log space when `log`, on a grid when `step`.
    Float {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Sample in log space.
        log: bool,
        /// Grid spacing from `low`.
        step: Option<f64>,
    },
    /// An integer in `[low, high]` on a grid of `step`, sampled in log space when `log`.
    Int {
        /// Lower bound.
        low: i64,
        /// Upper bound.
        high: i64,
        /// Sample in log space.
        log: bool,
        /// Grid spacing from `low` (1 by default).
        step: i64,
    },
    /// One of a list of JSON scalars (strings, numbers, booleans).
    Categorical {
        /// The choices, distinct.
        choices: Vec<Value>,
    },
}

/// When a conditional parameter is active.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Index of the categorical parent parameter (always declared before the child).
    pub parent: usize,
    /// Indices, among the parent's choices, for which the child is active.
    pub values: Vec<usize>,
}

/// One parameter of a space.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name, unique in the space.
    pub name: String,
    /// What it ranges over.
    pub distribution: Distribution,
    /// `None` when always active.
    pub condition: Option<Condition>,
}

/// A validated search space. Parameters keep their declared order.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    params: Vec<Param>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceJson {
    params: Vec<ParamJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamJson {
    name: String,
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default)]
    low: Option<Value>,
    #[serde(default)]
    high: Option<Value>,
    #[serde(default)]
    log: bool,
    #[serde(default)]
    step: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<Value>>,
    #[serde(default)]
    condition: Option<ConditionJson>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Float,
    Int,
    Categorical,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionJson {
    param: String,
    #[serde(rename = "in")]
    values: Vec<Value>,
}

/// Relative slack when checking that a float step divides the range.
const STEP_TOLERANCE: f64 = 1e-9;

impl Space {
    /// Parses and validates a space; errors name the parameter and the problem.
    pub fn from_json(json: &str) -> Result<Space, Error> {
        let raw: SpaceJson = serde_json::from_str(json).map_err(|source| Error::Json {
            what: "search space",
            source,
        })?;
        let mut params: Vec<Param> = Vec::with_capacity(raw.params.len());
        for (i, p) in raw.params.into_iter().enumerate() {
            let bad = |reason: String| Error::Space {
                param: if p.name.is_empty() {
                    format!("#{i}")
                } else {
                    p.name.clone()
                },
                reason,
            };
            if p.name.is_empty() {
                return Err(bad("the name must not be empty".into()));
            }
            if params.iter().any(|q| q.name == p.name) {
                return Err(bad("declared twice".into()));
            }
            let distribution = Self::distribution(&p).map_err(bad)?;
            let condition = match &p.condition {
                None => None,
                Some(c) => Some(Self::condition(&params, c).map_err(bad)?),
            };
            params.push(Param {
                name: p.name,
                distribution,
                condition,
            });
        }
        if params.is_empty() {
            return Err(Error::Space {
                param: "-".into(),
                reason: "the space has no parameters".into(),
            });
        }
        Ok(Space { params })
    }

    fn distribution(p: &ParamJson) -> Result<Distribution, String> {
        let unexpected = |field: &str, kinds: &str| format!("\"{field}\" applies only to {kinds}");
        match p.kind {
            Kind::Categorical => {
                for (field, present) in [
                    ("low", p.low.is_some()),
                    ("high", p.high.is_some()),
                    ("step", p.step.is_some()),
                    ("log", p.log),
                ] {
                    if present {
                        return Err(unexpected(field, "float and int parameters"));
                    }
                }
                let choices = p.choices.clone().ok_or("\"choices\" is required")?;
                if choices.is_empty() {
                    return Err("\"choices\" must not be empty".into());
                }
                for (k, c) in choices.iter().enumerate() {
                    if !(c.is_string() || c.is_number() || c.is_boolean()) {
                        return Err(format!(
                            "choice {k} must be a string, number or boolean, got {c}"
                        ));
                    }
                    if choices[..k].contains(c) {
                        return Err(format!("choice {c} appears twice"));
                    }
                }
                Ok(Distribution::Categorical { choices })
            }
            Kind::Float | Kind::Int => {
                if p.choices.is_some() {
                    return Err(unexpected("choices", "categorical parameters"));
                }
                let num = |field: &str, v: &Option<Value>| -> Result<f64, String> {
                    let v = v
                        .as_ref()
                        .ok_or_else(|| format!("\"{field}\" is required"))?;
                    v.as_f64()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("\"{field}\" must be a finite number, got {v}"))
                };
                let low = num("low", &p.low)?;
                let high = num("high", &p.high)?;
                if low > high {
                    return Err(format!("low {low:?} > high {high:?}"));
                }
                if p.log && low <= 0.0 {
                    return Err(format!("log scale needs low > 0, got low {low:?}"));
                }
                if p.log && p.step.is_some() {
                    return Err("\"step\" and \"log\" cannot be combined".into());
                }
                if p.kind == Kind::Float {
                    let step = match &p.step {
                        None => None,
                        Some(_) => {
                            let s = num("step", &p.step)?;
                            if s <= 0.0 {
                                return Err(format!("step must be > 0, got {s}"));
                            }
                            let n = (high - low) / s;
                            if (n - n.round()).abs() > STEP_TOLERANCE * n.max(1.0) {
                                return Err(format!(
                                    "step {s} does not divide the range {low}..{high}"
                                ));
                            }
                            Some(s)
                        }
                    };
                    return Ok(Distribution::Float {
                        low,
                        high,
                        log: p.log,
                        step,
                    });
                }
                let int = |field: &str, v: &Option<Value>| -> Result<i64, String> {
                    let v = v
                        .as_ref()
                        .ok_or_else(|| format!("\"{field}\" is required"))?;
                    v.as_i64()
                        .ok_or_else(|| format!("\"{field}\" must be an integer, got {v}"))
                };
                let (low, high) = (int("low", &p.low)?, int("high", &p.high)?);
                let step = match &p.step {
                    None => 1,
                    Some(_) => int("step", &p.step)?,
                };
                if step < 1 {
                    return Err(format!("step must be >= 1, got {step}"));
                }
                if (high - low) % step != 0 {
                    return Err(format!(
                        "step {step} does not divide the range {low}..{high}"
                    ));
                }
                Ok(Distribution::Int {
                    low,
                    high,
                    log: p.log,
                    step,
                })
            }
        }
    }

    fn condition(earlier: &[Param], c: &ConditionJson) -> Result<Condition, String> {
        let parent = earlier
            .iter()
            .position(|q| q.name == c.param)
            .ok_or_else(|| {
                format!(
                    "condition: parent \"{}\" must be a parameter declared before this one",
                    c.param
                )
            })?;
        let Distribution::Categorical { choices } = &earlier[parent].distribution else {
            return Err(format!(
                "condition: parent \"{}\" must be categorical",
                c.param
            ));
        };
        if c.values.is_empty() {
            return Err("condition: \"in\" must not be empty".into());
        }
        let values = c
            .values
            .iter()
            .map(|v| {
                choices
                    .iter()
                    .position(|x| x == v)
                    .ok_or_else(|| format!("condition: {v} is not a choice of \"{}\"", c.param))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Condition { parent, values })
    }

    /// The parameters, in declared order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The index of the parameter called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Whether parameter `i` is active given the internal values chosen so far for the
    /// parameters before it (`None` = inactive).
    pub fn is_active(&self, i: usize, internal: &[Option<f64>]) -> bool {
        match &self.params[i].condition {
            None => true,
            Some(c) => match internal.get(c.parent).copied().flatten() {
                Some(x) => c.values.contains(&(x as usize)),
                None => false,
            },
        }
    }

    /// The internal range `[low, high]` of parameter `i` (for categoricals `[0, n - 1]`).
    pub fn internal_bounds(&self, i: usize) -> (f64, f64) {
        match &self.params[i].distribution {
            Distribution::Float { low, high, log, .. } => {
                if *log {
                    (low.ln(), high.ln())
                } else {
                    (*low, *high)
                }
            }
            Distribution::Int { low, high, log, .. } => {
                let (l, h) = (*low as f64, *high as f64);
                if *log {
                    (l.ln(), h.ln())
                } else {
                    (l, h)
                }
            }
            Distribution::Categorical { choices } => (0.0, (choices.len() - 1) as f64),
        }
    }

    /// Draws an internal value uniformly (uniform in log space for `log` parameters, over
    /// the choices for categoricals).
    pub fn sample_uniform(&self, i: usize, rng: &mut Rng) -> f64 {
        let (low, high) = self.internal_bounds(i);
        match &self.params[i].distribution {
            Distribution::Categorical { choices } => rng.below(choices.len() as u64) as f64,
            Distribution::Int {
                low: l,
                high: h,
                log: false,
                step,
            } => {
                let n = ((h - l) / step) as u64 + 1;
                (*l + rng.below(n) as i64 * step) as f64
            }
            _ => low + (high - low) * rng.next_f64(),
        }
    }

    /// The internal value at fraction `u` in [0, 1) of parameter `i`'s range (uniform in
    /// log space for `log` parameters; equal shares for each value of an int or a
    /// categorical). Quasi-random samplers map their points through this.
    pub fn from_unit(&self, i: usize, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let (low, high) = self.internal_bounds(i);
        match &self.params[i].distribution {
            Distribution::Categorical { choices } => {
                ((u * choices.len() as f64) as usize).min(choices.len() - 1) as f64
            }
            Distribution::Int {
                low: l,
                high: h,
                log: false,
                step,
            } => {
                let n = ((h - l) / step) as u64 + 1;
                let k = ((u * n as f64) as u64).min(n - 1);
                (*l + k as i64 * step) as f64
            }
            _ => (low + (high - low) * u).min(high),
        }
    }

    /// The value a trial reports for parameter `i` whose internal value is `x`: snapped to
    /// the grid and clamped to the bounds.
    pub fn to_external(&self, i: usize, x: f64) -> Value {
        match &self.params[i].distribution {
            Distribution::Float {
                low,
                high,
                log,
                step,
            } => {
                let mut v = if *log { x.exp() } else { x };
                if let Some(s) = step {
                    v = low + ((v - low) / s).round() * s;
                }
                Value::from(v.clamp(*low, *high))
            }
            Distribution::Int {
                low,
                high,
                log,
                step,
            } => {
                let v = if *log { x.exp() } else { x };
                let k = ((v - *low as f64) / *step as f64).round() as i64;
                Value::from((low + k * step).clamp(*low, *high))
            }
            Distribution::Categorical { choices } => {
                let k = (x.round().max(0.0) as usize).min(choices.len() - 1);
                choices[k].clone()
            }
        }
    }

    /// The internal value of an external `value` for parameter `i` (for enqueued and
    /// injected trials), checking it belongs to the parameter's range.
    pub fn to_internal(&self, i: usize, value: &Value) -> Result<f64, Error> {
        let p = &self.params[i];
        let bad = |reason: String| Error::Space {
            param: p.name.clone(),
            reason,
        };
        match &p.distribution {
            Distribution::Categorical { choices } => choices
                .iter()
                .position(|c| c == value)
                .map(|k| k as f64)
                .ok_or_else(|| bad(format!("{value} is not one of the choices"))),
            Distribution::Float { low, high, log, .. } => {
                let v = value
                    .as_f64()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("{value} is not a finite number")))?;
                if v < *low || v > *high {
                    return Err(bad(format!("{v:?} is outside {low:?}..{high:?}")));
                }
                Ok(if *log { v.ln() } else { v })
            }
            Distribution::Int {
                low,
                high,
                log,
                step,
            } => {
                let v = value
                    .as_i64()
                    .ok_or_else(|| bad(format!("{value} is not an integer")))?;
                if v < *low || v > *high || (v - low) % step != 0 {
                    return Err(bad(format!(
                        "{v} is not on the grid {low}..{high} step {step}"
                    )));
                }
                Ok(if *log { (v as f64).ln() } else { v as f64 })
            }
        }
    }
}

#[cfg(test)]
mod tests;
