//! Small helpers shared by the emulator: time formatting, request ids, tolerant accessors on
//! parameters (flattened requests carry strings; JSON requests carry typed values).

use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// An API error: the `Code` and `Message` of `Response.Error`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

pub type HResult = Result<Value, ApiError>;

/// Seconds since the epoch, as the emulator's clock sees it (with its configured offset).
pub fn unix_now(offset_secs: i64) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now + offset_secs
}

/// `YYYY-MM-DDThh:mm:ssZ` for a unix time (UTC).
pub fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = tccvm_core::sign::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `YYYY-MM-DD hh:mm:ss` (the service's ActionTime, UTC) or ISO 8601 -> unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    let (d, t) = s.split_once([' ', 'T'])?;
    let mut dp = d.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (dp.next()??, dp.next()??, dp.next()??);
    let mut tp = t.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, sec) = (tp.next()??, tp.next()??, tp.next().flatten().unwrap_or(0));
    // Days from the civil date (Howard Hinnant's algorithm), the inverse of civil_from_days.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// A random version-4 UUID, as the service formats its RequestId (the client's ClientToken
/// generator: one implementation).
pub use tccvm_core::request::new_client_token as uuid4;

/// Tolerant accessors over a request's parameter object.
pub struct P<'a>(pub &'a Value);

impl<'a> P<'a> {
    pub fn get(&self, k: &str) -> Option<&'a Value> {
        match self.0.get(k) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        }
    }
    pub fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }
    pub fn str(&self, k: &str) -> Option<String> {
        self.get(k).and_then(as_string)
    }
    pub fn req_str(&self, k: &str) -> Result<String, ApiError> {
        self.str(k).ok_or_else(|| {
            ApiError::new(
                "MissingParameter",
                format!("The request is missing a required parameter `{k}`."),
            )
        })
    }
    pub fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => as_i64(v).map(Some).ok_or_else(|| {
                ApiError::new(
                    "InvalidParameterValue",
                    format!("The value of parameter `{k}` must be an integer."),
                )
            }),
        }
    }
    pub fn boolean(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => as_bool(v).map(Some).ok_or_else(|| {
                ApiError::new(
                    "InvalidParameterValue",
                    format!("The value of parameter `{k}` must be a boolean."),
                )
            }),
        }
    }
    pub fn str_list(&self, k: &str) -> Vec<String> {
        match self.get(k) {
            Some(Value::Array(a)) => a.iter().filter_map(as_string).collect(),
            Some(v) => as_string(v).into_iter().collect(),
            None => vec![],
        }
    }
    pub fn req_list(&self, k: &str) -> Result<Vec<String>, ApiError> {
        let l = self.str_list(k);
        if l.is_empty() {
            return Err(ApiError::new(
                "MissingParameter",
                format!("The request is missing a required parameter `{k}`."),
            ));
        }
        Ok(l)
    }
    pub fn obj(&self, k: &str) -> Option<P<'a>> {
        match self.get(k) {
            Some(v @ Value::Object(_)) => Some(P(v)),
            _ => None,
        }
    }
    pub fn arr(&self, k: &str) -> Vec<&'a Value> {
        match self.get(k) {
            Some(Value::Array(a)) => a.iter().filter(|v| !v.is_null()).collect(),
            _ => vec![],
        }
    }
}

pub fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        _ => None,
    }
}

pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

/// The `Filters` of a Describe request as (name, values).
pub fn filters(p: &P<'_>) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let mut out = vec![];
    for f in p.arr("Filters") {
        let fp = P(f);
        let name = fp
            .str("Name")
            .ok_or_else(|| ApiError::new("InvalidFilter", "Each filter needs a Name."))?;
        let values = fp.str_list("Values");
        if values.len() > 5 {
            return Err(ApiError::new(
                "InvalidFilterValue.LimitExceeded",
                format!("Filter `{name}` has more than 5 values."),
            ));
        }
        out.push((name, values));
    }
    if out.len() > 10 {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            "At most 10 filters are allowed.",
        ));
    }
    Ok(out)
}

/// Offset/Limit as the action's paginator documents them: Offset default 0, Limit
/// default `limits.0`, at most `limits.1`.
pub fn paginate<T: Clone>(p: &P<'_>, items: &[T], limits: (i64, i64)) -> Result<Vec<T>, ApiError> {
    let offset = p.int("Offset")?.unwrap_or(0);
    let limit = p.int("Limit")?.unwrap_or(limits.0);
    if offset < 0 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Offset must not be negative.",
        ));
    }
    if !(0..=limits.1).contains(&limit) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("Limit must be between 0 and {}.", limits.1),
        ));
    }
    Ok(items
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .cloned()
        .collect())
}

pub fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// Whether `id` is `<prefix>-` followed by 8 lower-case alphanumerics.
pub fn well_formed(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .map(|r| {
            r.len() == 8
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_465_185_768), "2016-06-06T04:02:48Z");
        assert_eq!(tccvm_core::sign::utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(parse_time("2016-06-06 04:02:48"), Some(1_465_185_768));
        assert_eq!(parse_time("2016-06-06T04:02:48Z"), Some(1_465_185_768));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn ids() {
        assert!(well_formed("ins-1vogaxgk", "ins"));
        assert!(!well_formed("ins-1122", "ins"));
        assert!(!well_formed("img-1vogaxgk", "ins"));
        assert_eq!(uuid4().len(), 36);
    }
}
