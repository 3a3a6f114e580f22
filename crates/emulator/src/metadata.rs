//! The CVM-role part of the metadata service: the role name, and expiring temporary
//! credentials for it that the emulator accepts (with their Token) until they expire.

use super::auth::Cred;
use super::server::{json_response, Resp};
use super::util::{iso8601, unix_now};
use super::{random_string, Shared};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::json;

const PREFIX: &str = "/latest/meta-data/cam/security-credentials";

#[derive(Clone)]
pub struct Issued {
    pub secret_id: String,
    pub secret_key: String,
    pub token: String,
    pub expires: i64,
}

/// Issue (and register) a fresh set of temporary credentials valid for `ttl` seconds.
pub fn issue(shared: &Shared, ttl: i64) -> Issued {
    let now = unix_now(shared.settings().clock_offset);
    let issued = Issued {
        secret_id: format!("AKID{}", random_string(32)),
        secret_key: random_string(32),
        token: random_string(96),
        expires: now + ttl,
    };
    if let Ok(mut c) = shared.creds.lock() {
        c.purge(now);
        c.insert(
            issued.secret_id.clone(),
            Cred {
                secret_key: issued.secret_key.clone(),
                token: Some(issued.token.clone()),
                expires: Some(issued.expires),
            },
        );
    }
    issued
}

/// The credentials the role endpoint serves now: reused while more than a third of their
/// lifetime remains, renewed otherwise.
pub fn current(shared: &Shared) -> Issued {
    let s = shared.settings();
    let now = unix_now(s.clock_offset);
    let mut slot = match shared.role_creds.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(c) = slot.as_ref() {
        if (c.expires - now) * 3 > s.metadata_ttl {
            return c.clone();
        }
    }
    let fresh = issue(shared, s.metadata_ttl);
    *slot = Some(fresh.clone());
    fresh
}

fn text(status: StatusCode, body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

pub fn serve(shared: &Shared, path: &str) -> Resp {
    let role = shared.settings().role_name;
    let rest = match path.strip_prefix(PREFIX) {
        Some(r) => r.trim_start_matches('/').trim_end_matches('/'),
        None => return text(StatusCode::NOT_FOUND, "not found".into()),
    };
    if rest.is_empty() {
        return text(StatusCode::OK, role);
    }
    if rest != role {
        return text(StatusCode::NOT_FOUND, "not found".into());
    }
    let c = current(shared);
    let body = json!({
        "TmpSecretId": c.secret_id,
        "TmpSecretKey": c.secret_key,
        "ExpiredTime": c.expires,
        "Expiration": iso8601(c.expires),
        "Token": c.token,
        "Code": "Success",
    });
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}
