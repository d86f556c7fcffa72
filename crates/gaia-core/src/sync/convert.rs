//! MariaDB values -> Solr JSON values: time zones, DECIMAL, JSON paths.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use mysql_async::Value;
use serde_json::Value as Json;

use super::config::FieldType;

/// Parses `UTC`, an IANA name (from the system tz database) or `+HH:MM` / `-HH:MM`.
pub(crate) fn parse_tz(name: &str) -> Result<TimeZone, String> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" || name == "+00:00" {
        return Ok(TimeZone::UTC);
    }
    if let Some(rest) = name
        .strip_prefix('+')
        .map(|r| (1, r))
        .or_else(|| name.strip_prefix('-').map(|r| (-1, r)))
    {
        let (sign, hm) = rest;
        let mut it = hm.split(':');
        let h: i32 = it
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad_tz(name))?;
        let m: i32 = match it.next() {
            Some(s) => s.parse().map_err(|_| bad_tz(name))?,
            None => 0,
        };
        if it.next().is_some() || !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return Err(bad_tz(name));
        }
        let off = Offset::from_seconds(sign * (h * 3600 + m * 60)).map_err(|_| bad_tz(name))?;
        return Ok(TimeZone::fixed(off));
    }
    TimeZone::get(name).map_err(|e| format!("unknown time zone {name:?}: {e}"))
}

fn bad_tz(name: &str) -> String {
    format!("{name:?} is not a time zone (UTC, an IANA name like Europe/Paris, or +HH:MM)")
}

/// How a DATETIME-like column's values are read.
#[derive(Debug, Clone)]
pub(crate) enum TimeKind {
    /// TIMESTAMP: the session runs in UTC, so values are UTC.
    Utc,
    /// DATETIME/DATE: civil time in the declared source zone.
    Zoned(TimeZone),
}

/// A civil datetime from a MariaDB value (binary protocol `Date`, or text).
fn civil(v: &Value) -> Result<Option<DateTime>, String> {
    match v {
        Value::NULL => Ok(None),
        Value::Date(y, mo, d, h, mi, s, us) => {
            if *y == 0 && *mo == 0 && *d == 0 {
                return Ok(None); // MariaDB's zero date: no value
            }
            DateTime::new(
                *y as i16,
                *mo as i8,
                *d as i8,
                *h as i8,
                *mi as i8,
                *s as i8,
                (*us as i32) * 1000,
            )
            .map(Some)
            .map_err(|e| format!("invalid date: {e}"))
        }
        Value::Bytes(b) => {
            let s = std::str::from_utf8(b).map_err(|_| "date is not UTF-8".to_string())?;
            if s.starts_with("0000-00-00") {
                return Ok(None);
            }
            s.replace(' ', "T")
                .parse::<DateTime>()
                .map(Some)
                .map_err(|e| format!("invalid date {s:?}: {e}"))
        }
        other => Err(format!("expected a date, got {other:?}")),
    }
}

/// A DATETIME-like value as UTC microseconds since the epoch.
pub(crate) fn utc_micros(v: &Value, kind: &TimeKind) -> Result<Option<i64>, String> {
    let Some(dt) = civil(v)? else {
        return Ok(None);
    };
    let tz = match kind {
        TimeKind::Utc => TimeZone::UTC,
        TimeKind::Zoned(tz) => tz.clone(),
    };
    let z = dt
        .to_zoned(tz)
        .map_err(|e| format!("{dt} does not exist in the source time zone: {e}"))?;
    Ok(Some(z.timestamp().as_microsecond()))
}

/// The column's own representation ("naive" microseconds: the civil value read as if UTC),
/// used for keyset cursors, which compare in the column's terms.
pub(crate) fn naive_micros(v: &Value) -> Result<Option<i64>, String> {
    utc_micros(v, &TimeKind::Utc)
}

/// The inverse of [`naive_micros`]: a parameter for the column.
pub(crate) fn naive_value(micros: i64) -> Value {
    match Timestamp::from_microsecond(micros) {
        Ok(ts) => {
            let dt = ts.to_zoned(TimeZone::UTC).datetime();
            Value::Date(
                dt.year().max(0) as u16,
                dt.month() as u8,
                dt.day() as u8,
                dt.hour() as u8,
                dt.minute() as u8,
                dt.second() as u8,
                (dt.subsec_nanosecond() / 1000) as u32,
            )
        }
        Err(_) => Value::Date(0, 1, 1, 0, 0, 0, 0),
    }
}

/// A UTC instant (microseconds) as the column's naive representation under `kind`.
pub(crate) fn utc_to_naive(micros: i64, kind: &TimeKind) -> i64 {
    match kind {
        TimeKind::Utc => micros,
        TimeKind::Zoned(tz) => match Timestamp::from_microsecond(micros) {
            Ok(ts) => {
                let dt = ts.to_zoned(tz.clone()).datetime();
                dt.to_zoned(TimeZone::UTC)
                    .map(|z| z.timestamp().as_microsecond())
                    .unwrap_or(micros)
            }
            Err(_) => micros,
        },
    }
}

/// ISO-8601 UTC with milliseconds when not whole (Solr's date precision).
pub(crate) fn iso_utc(micros: i64) -> String {
    let ms = micros.div_euclid(1000);
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => {
            let dt = ts.to_zoned(TimeZone::UTC).datetime();
            let frac = dt.subsec_nanosecond() / 1_000_000;
            let base = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                dt.year(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            );
            if frac == 0 {
                format!("{base}Z")
            } else {
                format!("{base}.{frac:03}Z")
            }
        }
        Err(_) => "1970-01-01T00:00:00Z".into(),
    }
}

fn text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::NULL => Ok(None),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Ok(Some(s.to_string())),
            Err(e) => Err(format!(
                "invalid UTF-8 at byte {} (the column must be utf8mb4)",
                e.valid_up_to()
            )),
        },
        Value::Int(i) => Ok(Some(i.to_string())),
        Value::UInt(u) => Ok(Some(u.to_string())),
        Value::Float(f) => Ok(Some(f.to_string())),
        Value::Double(f) => Ok(Some(f.to_string())),
        Value::Date(..) => Ok(civil(v)?.map(|d| d.to_string())),
        Value::Time(neg, d, h, m, s, us) => Ok(Some(format!(
            "{}{:02}:{:02}:{:02}.{:06}",
            if *neg { "-" } else { "" },
            *d * 24 + *h as u32,
            m,
            s,
            us
        ))),
    }
}

/// An integer column value (keys, integer versions).
pub(crate) fn int(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::NULL => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::UInt(u) => i64::try_from(*u)
            .map(Some)
            .map_err(|_| format!("{u} does not fit a signed 64-bit integer")),
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| format!("{:?} is not an integer", String::from_utf8_lossy(b))),
        other => Err(format!("expected an integer, got {other:?}")),
    }
}

fn double(v: &Value) -> Result<Option<f64>, String> {
    let f = match v {
        Value::NULL => return Ok(None),
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::Float(f) => *f as f64,
        Value::Double(f) => *f,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("{:?} is not a number", String::from_utf8_lossy(b)))?,
        other => return Err(format!("expected a number, got {other:?}")),
    };
    if f.is_finite() {
        Ok(Some(f))
    } else {
        Err(format!("{f} is not a finite number"))
    }
}

fn boolean(v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::NULL => Ok(None),
        Value::Int(i) => Ok(Some(*i != 0)),
        Value::UInt(u) => Ok(Some(*u != 0)),
        Value::Bytes(b) => match b.as_slice() {
            b"0" | b"false" | b"FALSE" | b"\0" => Ok(Some(false)),
            b"1" | b"true" | b"TRUE" | b"\x01" => Ok(Some(true)),
            _ => Err(format!("{:?} is not a boolean", String::from_utf8_lossy(b))),
        },
        other => Err(format!("expected a boolean, got {other:?}")),
    }
}

/// Converts one column value. `decimal` yields the exact string (the double, if mapped, is
/// made by [`decimal_double`]).
pub(crate) fn convert(v: &Value, kind: FieldType, time: &TimeKind) -> Result<Option<Json>, String> {
    Ok(match kind {
        FieldType::String | FieldType::Text | FieldType::Enum | FieldType::Decimal => {
            text(v)?.map(Json::String)
        }
        FieldType::Int => match int(v)? {
            Some(i) => {
                Some(Json::from(i32::try_from(i).map_err(|_| {
                    format!("{i} does not fit a 32-bit int field")
                })?))
            }
            None => None,
        },
        FieldType::Long => int(v)?.map(Json::from),
        FieldType::Double => double(v)?.map(Json::from),
        FieldType::Bool => boolean(v)?.map(Json::Bool),
        FieldType::Datetime => utc_micros(v, time)?.map(|m| Json::String(iso_utc(m))),
        FieldType::Json => return Err("a json column is converted by path".into()),
    })
}

/// The double beside an exact DECIMAL.
pub(crate) fn decimal_double(v: &Value) -> Result<Option<Json>, String> {
    Ok(double(v)?.map(Json::from))
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathSeg {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Parses `$.a.b[0]`, `a.b[0]` or `$["a b"]`-free dotted paths.
pub(crate) fn parse_json_path(path: &str) -> Result<Vec<PathSeg>, String> {
    let p = path.strip_prefix('$').unwrap_or(path);
    let p = p.strip_prefix('.').unwrap_or(p);
    let mut segs = Vec::new();
    if p.is_empty() {
        return Ok(segs);
    }
    for part in p.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return Err(format!("empty step in JSON path {path:?}"));
        }
        if !key.is_empty() {
            segs.push(PathSeg::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let end = rest
                .find(']')
                .ok_or_else(|| format!("unclosed [ in JSON path {path:?}"))?;
            let idx: usize = rest[1..end]
                .parse()
                .map_err(|_| format!("bad array index in JSON path {path:?}"))?;
            segs.push(PathSeg::Index(idx));
            rest = &rest[end + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("unexpected {rest:?} in JSON path {path:?}"));
            }
        }
    }
    Ok(segs)
}

/// The value at `path`, if any.
pub(crate) fn lookup<'a>(doc: &'a Json, path: &[PathSeg]) -> Option<&'a Json> {
    let mut cur = doc;
    for seg in path {
        cur = match seg {
            PathSeg::Key(k) => cur.as_object()?.get(k)?,
            PathSeg::Index(i) => cur.as_array()?.get(*i)?,
        };
    }
    Some(cur)
}

/// A JSON scalar as the declared field type; `None` for null.
pub(crate) fn json_scalar(v: &Json, kind: FieldType) -> Result<Option<Json>, String> {
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(match kind {
        FieldType::String | FieldType::Text | FieldType::Enum => match v {
            Json::String(s) => Json::String(s.clone()),
            Json::Number(_) | Json::Bool(_) => Json::String(v.to_string()),
            _ => return Err(format!("expected a scalar, got {v}")),
        },
        FieldType::Int | FieldType::Long => {
            let i = match v {
                Json::Number(n) => n.as_i64(),
                Json::String(s) => s.trim().parse::<i64>().ok(),
                Json::Bool(b) => Some(i64::from(*b)),
                _ => None,
            }
            .ok_or_else(|| format!("{v} is not an integer"))?;
            if kind == FieldType::Int && i32::try_from(i).is_err() {
                return Err(format!("{i} does not fit a 32-bit int field"));
            }
            Json::from(i)
        }
        FieldType::Double => {
            let f = match v {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("{v} is not a number"))?;
            Json::from(f)
        }
        FieldType::Bool => match v {
            Json::Bool(b) => Json::Bool(*b),
            Json::Number(n) => Json::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
            Json::String(s) if s == "true" || s == "1" => Json::Bool(true),
            Json::String(s) if s == "false" || s == "0" => Json::Bool(false),
            _ => return Err(format!("{v} is not a boolean")),
        },
        FieldType::Decimal | FieldType::Datetime | FieldType::Json => {
            return Err("unsupported type for a JSON path".into())
        }
    }))
}

/// Soft-delete test: `deleted_values` given -> equality as strings; else any value other
/// than NULL, 0, false or "".
pub(crate) fn is_deleted(v: &Value, deleted_values: &[String]) -> bool {
    let s = match text(v) {
        Ok(Some(s)) => s,
        Ok(None) => return false,
        Err(_) => return true,
    };
    if deleted_values.is_empty() {
        !(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false"))
    } else {
        deleted_values.contains(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_json_path("$.a.b[2]").ok(),
            Some(vec![
                PathSeg::Key("a".into()),
                PathSeg::Key("b".into()),
                PathSeg::Index(2)
            ])
        );
        assert!(parse_json_path("$.a[x]").is_err());
        assert!(parse_json_path("a..b").is_err());
    }

    #[test]
    fn time_zones_convert_to_utc() {
        let paris = parse_tz("Europe/Paris").ok();
        assert!(paris.is_some());
        let tz = TimeKind::Zoned(paris.unwrap_or(TimeZone::UTC));
        // 2024-07-01 14:00 in Paris (CEST, +02:00) is 12:00 UTC.
        let v = Value::Date(2024, 7, 1, 14, 0, 0, 250_000);
        let us = utc_micros(&v, &tz).ok().flatten().unwrap_or_default();
        assert_eq!(iso_utc(us), "2024-07-01T12:00:00.250Z");
        let fixed = TimeKind::Zoned(parse_tz("-05:30").unwrap_or(TimeZone::UTC));
        let us = utc_micros(&Value::Date(2024, 1, 1, 0, 0, 0, 0), &fixed)
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(iso_utc(us), "2024-01-01T05:30:00Z");
        assert!(parse_tz("Mars/Olympus").is_err());
        // naive round trip
        let n = naive_micros(&v).ok().flatten().unwrap_or_default();
        assert_eq!(naive_value(n), v);
    }

    #[test]
    fn decimals_stay_exact() {
        let v = Value::Bytes(b"12345678901234567.89".to_vec());
        assert_eq!(
            convert(&v, FieldType::Decimal, &TimeKind::Utc)
                .ok()
                .flatten(),
            Some(Json::String("12345678901234567.89".into()))
        );
        assert!(convert(
            &Value::Bytes(vec![0xff, 0xfe]),
            FieldType::String,
            &TimeKind::Utc
        )
        .is_err());
    }
}
