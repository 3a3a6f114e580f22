//! What a call reports as it goes, to an [`Observer`] (the binding's logging, event hooks and
//! wire log): before each attempt a [`RequestLog`], after it an [`AttemptLog`]. None of them
//! holds a secret: the wire views ([`WireRequest`], [`WireAnswer`]) are redacted here, once
//! (`Authorization`'s signature and credential, `X-TC-Token`, v1's `Signature`, `Token` and
//! `SecretId`, any `...Password` parameter), and their bodies cut at [`WIRE_BODY_LIMIT`].

use crate::request::Prepared;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Bytes of a body the wire log shows (the rest is counted, not shown).
pub const WIRE_BODY_LIMIT: usize = 4096;

/// What replaces a secret in the wire views.
pub const REDACTED: &str = "<redacted>";

/// Stop the call (the observer's Python code raised something that must reach the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupt;

/// A report still running (an async hook): the attempt loop waits for it.
pub type ObserveFuture = Pin<Box<dyn Future<Output = Result<(), Interrupt>> + Send>>;

/// `Ok(None)`: done; `Ok(Some(f))`: the call goes on once `f` is; `Err`: stop the call.
pub type Observed = Result<Option<ObserveFuture>, Interrupt>;

/// Told about each attempt by [`crate::client::Client::call`], on the thread running the call.
pub trait Observer: Send + Sync {
    /// Whether the redacted wire views are wanted (they cost a copy of every request).
    fn wire(&self) -> bool {
        false
    }
    /// Before an attempt is sent.
    fn request(&self, _r: &RequestLog) -> Observed {
        Ok(None)
    }
    /// After an attempt (its answer, or its failure).
    fn attempt(&self, a: &AttemptLog) -> Observed;
}

pub type AttemptObserver = Arc<dyn Observer>;

/// An attempt about to be sent.
#[derive(Debug, Clone)]
pub struct RequestLog {
    pub attempt: u32,
    pub max_attempts: u32,
    /// When [`Observer::wire`].
    pub wire: Option<WireRequest>,
}

/// An attempt's end, as the log records show it (no key, token, signature or header).
#[derive(Debug, Clone)]
pub struct AttemptLog {
    pub attempt: u32,
    pub max_attempts: u32,
    /// HTTP status of the answer (None: no answer).
    pub status: Option<u16>,
    /// From sending the request to the end of the answer's body (or the failure).
    pub latency: Duration,
    pub request_id: Option<String>,
    /// `"ok"`, the API's error code, or the transport failure (`connect`, `timeout`, ...).
    pub outcome: String,
    /// Delay before the next attempt (None: no further attempt).
    pub retry_in: Option<Duration>,
    /// When [`Observer::wire`] and an answer came.
    pub wire: Option<WireAnswer>,
}

/// A request as sent, redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// At most [`WIRE_BODY_LIMIT`] bytes of it (see [`cut`]).
    pub body: String,
}

/// An answer as received: its headers and (cut) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireAnswer {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// `text` up to [`WIRE_BODY_LIMIT`] bytes (on a character boundary), with how much was left.
pub fn cut(text: &str) -> String {
    if text.len() <= WIRE_BODY_LIMIT {
        return text.to_string();
    }
    let mut end = WIRE_BODY_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &text[..end], text.len() - end)
}

/// The first 4 characters of a SecretId, the rest (its key material) masked.
pub fn mask_secret_id(id: &str) -> String {
    let shown: String = id.chars().take(4).collect();
    format!("{shown}****")
}

fn secret_param(key: &str) -> bool {
    key == "Signature" || key == "Token" || key.ends_with("Password")
}

/// A form or query text with its secrets replaced (names and order kept).
pub fn redact_form(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret_param(k) => {
                format!("{k}={REDACTED}")
            }
            Some((k, v)) if k == "SecretId" => {
                format!("{k}={}", mask_secret_id(v))
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if secret_param(k) && !x.is_object() && !x.is_array() {
                    *x = Value::String(REDACTED.into());
                } else {
                    redact_json(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// `Authorization: TC3-HMAC-SHA256 Credential=ID/date/cvm/tc3_request, SignedHeaders=..,
/// Signature=..` with the id masked and the signature replaced; anything else, replaced.
pub fn redact_authorization(v: &str) -> String {
    let Some((algorithm, rest)) = v.split_once(' ') else {
        return REDACTED.into();
    };
    let parts: Vec<String> = rest
        .split(", ")
        .map(|p| match p.split_once('=') {
            Some(("Credential", c)) => {
                let (id, scope) = c.split_once('/').unwrap_or((c, ""));
                format!("Credential={}/{scope}", mask_secret_id(id))
            }
            Some(("SignedHeaders", h)) => format!("SignedHeaders={h}"),
            Some((k, _)) => format!("{k}={REDACTED}"),
            None => REDACTED.into(),
        })
        .collect();
    format!("{algorithm} {}", parts.join(", "))
}

/// The wire view of a prepared request.
pub fn wire_request(p: &Prepared) -> WireRequest {
    // Put together by hand: `Url::set_query` would percent-encode the `<redacted>` marks.
    let mut base = p.url.clone();
    base.set_query(None);
    let url = match p.url.query().map(redact_form) {
        Some(q) => format!("{base}?{q}"),
        None => base.to_string(),
    };
    let mut headers = vec![("host".to_string(), host_of(&p.url))];
    for (k, v) in &p.headers {
        let shown = match *k {
            "authorization" => redact_authorization(v),
            "x-tc-token" => REDACTED.to_string(),
            _ => v.clone(),
        };
        headers.push((k.to_string(), shown));
    }
    let form = p
        .headers
        .iter()
        .any(|(k, v)| *k == "content-type" && v.starts_with("application/x-www-form-urlencoded"));
    let body = match &p.body {
        None => String::new(),
        Some(b) => {
            let text = String::from_utf8_lossy(b);
            if form {
                redact_form(&text)
            } else {
                match serde_json::from_slice::<Value>(b) {
                    Ok(mut v) => {
                        redact_json(&mut v);
                        v.to_string()
                    }
                    // Not JSON (nothing of ours sends that): shown by its size only.
                    Err(_) => format!("<{} bytes>", b.len()),
                }
            }
        }
    };
    WireRequest {
        method: p.method.as_str().to_string(),
        url,
        headers,
        body: cut(&body),
    }
}

fn host_of(u: &reqwest::Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// The wire view of an answer.
pub fn wire_answer(headers: &reqwest::header::HeaderMap, body: &[u8]) -> WireAnswer {
    WireAnswer {
        headers: headers
            .iter()
            .map(|(k, v)| {
                let shown = if k == reqwest::header::SET_COOKIE {
                    REDACTED.to_string()
                } else {
                    String::from_utf8_lossy(v.as_bytes()).into_owned()
                };
                (k.as_str().to_string(), shown)
            })
            .collect(),
        body: cut(&String::from_utf8_lossy(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_lose_their_secrets_and_keep_their_shape() {
        let f = "Action=DescribeZones&SecretId=AKIDabcdefgh&Signature=c2lnbmF0dXJl%3D&Token=tok\
                 &LoginSettings.Password=hunter2&Limit=1";
        let r = redact_form(f);
        assert_eq!(
            r,
            "Action=DescribeZones&SecretId=AKID****&Signature=<redacted>&Token=<redacted>\
             &LoginSettings.Password=<redacted>&Limit=1"
        );
        for s in ["abcdefgh", "c2lnbmF0dXJl", "tok&", "hunter2"] {
            assert!(!r.contains(s), "{s} in {r}");
        }
    }

    #[test]
    fn authorization_keeps_the_scope_only() {
        let a = "TC3-HMAC-SHA256 Credential=AKIDsecretpart/2026-12-01/cvm/tc3_request, \
                 SignedHeaders=content-type;host, Signature=0123abcd";
        let r = redact_authorization(a);
        assert_eq!(
            r,
            "TC3-HMAC-SHA256 Credential=AKID****/2026-12-01/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=<redacted>"
        );
        assert_eq!(redact_authorization("garbage"), REDACTED);
    }

    #[test]
    fn json_passwords_are_replaced_and_long_bodies_cut() {
        let mut v =
            serde_json::json!({"LoginSettings": {"Password": "p@ss"}, "A": [{"Password": "x"}]});
        redact_json(&mut v);
        assert!(!v.to_string().contains("p@ss"));
        assert!(!v.to_string().contains("\"x\""));
        let long = "é".repeat(WIRE_BODY_LIMIT);
        let c = cut(&long);
        assert!(c.len() < WIRE_BODY_LIMIT + 40, "{}", c.len());
        assert!(c.ends_with(&format!("({} more bytes)", WIRE_BODY_LIMIT)));
    }
}
