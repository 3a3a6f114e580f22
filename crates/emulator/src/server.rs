//! The HTTP side: accept loop, request parsing, authentication, faults, dispatch, answers.

use super::auth::{self, Presented};
use super::faults::Kind;
use super::handlers::{self, Ctx};
use super::params::unflatten;
use super::util::{unix_now, uuid4, ApiError, P};
use super::{control, metadata, model_view, Shared};
use crate::conn::{self, Wire};
use crate::poll::{self, Poller};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

const MAX_BODY: usize = 10 * 1024 * 1024;
/// How long the emulator polls for the next request after each answer (see
/// `crate::poll`); `TCCVM_EMULATOR_SPIN_US` (microseconds) overrides it, 0 switches it off.
const POLL_FOR: std::time::Duration = std::time::Duration::from_millis(1);
pub const API_VERSION: &str = "2017-03-12";

/// Returned by the service to make hyper close the connection without an answer.
#[derive(Debug)]
pub struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

pub type Resp = Response<Full<Bytes>>;

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    wire: Arc<Wire>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    // Awake for a while after each answer, so that a client's next request on this machine
    // finds the runtime polling rather than asleep (see `crate::poll`).
    let poller = Arc::new(Poller::default());
    let poll_for = poll::limit_from_env("TCCVM_EMULATOR_SPIN_US", POLL_FOR);
    if !poll_for.is_zero() {
        let p = poller.clone();
        conns.spawn(async move { p.run(poll_for).await });
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((s, _)) => s,
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let shared = shared.clone();
                let stop = shutdown.clone();
                let poller = poller.clone();
                let wire = wire.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        let s = shared.clone();
                        let poller = poller.clone();
                        async move {
                            let _serving = Poller::serving(&poller);
                            let mut resp = handle(&s, req).await?;
                            // The Date header tells the server's time, shifted like its clock
                            // (clients correct their clock skew from it).
                            let now = unix_now(s.clock().1);
                            resp.headers_mut().insert(hyper::header::DATE, http_date(now));
                            // Says when an idle connection is closed (clients drop theirs
                            // before).
                            resp.headers_mut()
                                .insert("keep-alive", HeaderValue::from_static(KEEP_ALIVE));
                            Ok::<Resp, Dropped>(resp)
                        }
                    });
                    conn::serve(stream, &wire, svc, stop).await;
                });
                while conns.try_join_next().is_some() {}
            }
            _ = shutdown.changed() => break,
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// Seconds an idle connection is kept open (hyper's wait for the next request's head), as the
/// `Keep-Alive` header of every answer says.
pub const IDLE_SECS: u64 = 30;
const KEEP_ALIVE: &str = "timeout=30";

thread_local! {
    /// The last Date header made, by second (each emulator thread keeps its own).
    static DATE: std::cell::RefCell<(i64, HeaderValue)> =
        const { std::cell::RefCell::new((i64::MIN, HeaderValue::from_static(""))) };
}

/// The HTTP date of a unix time, formatted once per second.
fn http_date(now: i64) -> HeaderValue {
    DATE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != now {
            let t = UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
            if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(t)) {
                *c = (now, v);
            }
        }
        c.1.clone()
    })
}

pub fn json_response(status: StatusCode, body: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn text_response(status: StatusCode, ctype: &'static str, body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    r
}

enum Answer {
    Value(Value),
    /// `{"Response":{` and the members of `Response` (see `handlers::RawHandler`).
    Raw(Vec<u8>),
}

const RESPONSE_OPEN: &[u8] = b"{\"Response\":{";

/// Finish `{"Response":{<members>` with the RequestId (a UUID: no escaping).
fn close_envelope(out: &mut Vec<u8>, request_id: &str) {
    if out.len() > RESPONSE_OPEN.len() {
        out.push(b',');
    }
    out.extend_from_slice(b"\"RequestId\":\"");
    out.extend_from_slice(request_id.as_bytes());
    out.extend_from_slice(b"\"}}");
}

/// `{"Response":{<fields>,"RequestId":"..."}}`.
fn envelope(fields: Value, request_id: &str) -> Vec<u8> {
    let mut m = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if m.is_empty() {
        return envelope_raw(b"", request_id);
    }
    if m.contains_key("RequestId") {
        m.insert("RequestId".into(), Value::String(request_id.to_string()));
        let mut outer = Map::new();
        outer.insert("Response".into(), Value::Object(m));
        return serde_json::to_vec(&Value::Object(outer)).unwrap_or_default();
    }
    let inner = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
    // `{...}` -> the members between the braces.
    let members = inner
        .get(1..inner.len().saturating_sub(1))
        .unwrap_or_default();
    envelope_raw(members, request_id)
}

/// The envelope around members that are JSON already.
fn envelope_raw(members: &[u8], request_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(members.len() + request_id.len() + 32);
    out.extend_from_slice(RESPONSE_OPEN);
    out.extend_from_slice(members);
    close_envelope(&mut out, request_id);
    out
}

fn error_body(e: &ApiError, request_id: &str) -> Vec<u8> {
    let mut err = Map::new();
    err.insert("Code".into(), Value::String(e.code.clone()));
    err.insert("Message".into(), Value::String(e.message.clone()));
    let mut m = Map::new();
    m.insert("Error".into(), Value::Object(err));
    envelope(Value::Object(m), request_id)
}

async fn handle(shared: &Arc<Shared>, req: Request<Incoming>) -> Result<Resp, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(text_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                "request body too large".into(),
            ))
        }
    };
    let path = parts.uri.path().to_string();
    if path.starts_with("/latest/meta-data/") || path == "/latest/meta-data" {
        return Ok(metadata::serve(shared, &path));
    }
    if let Some(op) = path.strip_prefix("/_emulator/") {
        let args: Value = if body.is_empty() {
            Value::Object(Map::new())
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    return Ok(json_response(
                        StatusCode::BAD_REQUEST,
                        serde_json::to_vec(&serde_json::json!({"error": e.to_string()}))
                            .unwrap_or_default(),
                    ))
                }
            }
        };
        return Ok(match control::run(shared, op, &args) {
            Ok(v) => json_response(StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default()),
            Err(e) => json_response(
                StatusCode::BAD_REQUEST,
                serde_json::to_vec(&serde_json::json!({"error": e})).unwrap_or_default(),
            ),
        });
    }
    api(shared, parts, body).await
}

/// A request's headers as (lower-case name, value); values borrowed when they are UTF-8.
pub type Headers<'a> = [(&'a str, Cow<'a, str>)];

fn header<'a>(headers: &'a Headers<'_>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

fn decode_pairs(s: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(s)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

struct Parsed {
    action: Option<String>,
    version: Option<String>,
    region: Option<String>,
    params: Result<Value, ApiError>,
}

async fn api(
    shared: &Shared,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Resp, Dropped> {
    let request_id = uuid4();
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let mut headers: Vec<(&str, Cow<str>)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes())))
        .collect();
    // HTTP/2 carries the host as the `:authority` pseudo-header (hyper puts it in the URI).
    if !parts.headers.contains_key(hyper::header::HOST) {
        if let Some(a) = parts.uri.authority() {
            headers.push(("host", Cow::Borrowed(a.as_str())));
        }
    }
    let host = header(&headers, "host").unwrap_or("");
    let ctype = header(&headers, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let authorization = header(&headers, "authorization");
    let is_tc3 = authorization.is_some_and(|a| a.trim_start().starts_with("TC3-HMAC-SHA256"));

    let mut all_pairs = decode_pairs(query.as_bytes());
    if method == "POST" && ctype.starts_with("application/x-www-form-urlencoded") {
        all_pairs.extend(decode_pairs(&body));
    }

    let flat = |pairs: &[(String, String)]| {
        unflatten(pairs).map_err(|e| ApiError::new("InvalidParameter", e.0))
    };
    let parsed = if is_tc3 {
        let params = if method == "POST" && ctype.starts_with("application/json") {
            if body.is_empty() {
                Ok(Value::Object(Map::new()))
            } else {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v @ Value::Object(_)) => Ok(v),
                    Ok(_) => Err(ApiError::new(
                        "InvalidParameter",
                        "The JSON body must be an object.",
                    )),
                    Err(e) => Err(ApiError::new(
                        "InvalidParameter",
                        format!("The body is not JSON: {e}"),
                    )),
                }
            }
        } else {
            flat(&all_pairs)
        };
        Parsed {
            action: header(&headers, "x-tc-action").map(String::from),
            version: header(&headers, "x-tc-version").map(String::from),
            region: header(&headers, "x-tc-region").map(String::from),
            params,
        }
    } else {
        let get = |k: &str| {
            all_pairs
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.clone())
        };
        Parsed {
            action: get("Action"),
            version: get("Version"),
            region: get("Region"),
            params: flat(&all_pairs),
        }
    };

    let fail = |e: ApiError| Ok(json_response(StatusCode::OK, error_body(&e, &request_id)));
    let Some(action) = parsed.action.clone().filter(|a| !a.is_empty()) else {
        return fail(ApiError::new(
            "MissingParameter",
            "The request is missing the Action.",
        ));
    };
    if let Ok(mut by) = shared.by_action.lock() {
        match by.get_mut(action.as_str()) {
            Some(n) => *n += 1,
            None => {
                by.insert(action.clone(), 1);
            }
        }
    }

    // Faults first: they stand for the infrastructure in front of the service.
    let (delay, fault) = match shared.faults.lock() {
        Ok(mut f) => f.decide(&action),
        Err(_) => (std::time::Duration::ZERO, None),
    };
    if !delay.is_zero() {
        // Within tens of microseconds of the latency asked for (tokio's timer: up to ~2 ms more).
        crate::precise_sleep::sleep_until(std::time::Instant::now() + delay).await;
    }
    match fault {
        Some(Kind::InternalError) => {
            return fail(ApiError::new("InternalError", "An internal error occurred (injected)."))
        }
        Some(Kind::RequestLimitExceeded) => {
            return fail(ApiError::new(
                "RequestLimitExceeded",
                "The number of requests exceeds the frequency limit (injected).",
            ))
        }
        Some(Kind::Http502) => {
            return Ok(text_response(
                StatusCode::BAD_GATEWAY,
                "text/html",
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>".into(),
            ))
        }
        Some(Kind::Http503) => {
            return Ok(text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/html",
                "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>".into(),
            ))
        }
        Some(Kind::Malformed) => {
            return Ok(json_response(
                StatusCode::OK,
                format!("{{\"Response\": {{\"RequestId\": \"{request_id}\", <html>oops").into_bytes(),
            ))
        }
        Some(Kind::DropBefore) => return Err(Dropped),
        _ => {}
    }

    let (check_signatures, clock_offset) = shared.clock();
    let now_unix = unix_now(clock_offset);
    if check_signatures {
        let verdict = {
            let mut creds = match shared.creds.lock() {
                Ok(c) => c,
                Err(_) => {
                    return fail(ApiError::new(
                        "InternalError",
                        "credential store unavailable",
                    ))
                }
            };
            if let Some(a) = authorization.filter(|_| is_tc3) {
                let presented = Presented::Tc3 {
                    authorization: a,
                    http_method: method,
                    path,
                    query: if method == "GET" { query } else { "" },
                    headers: &headers,
                    body: &body,
                    timestamp: header(&headers, "x-tc-timestamp"),
                    token: header(&headers, "x-tc-token"),
                };
                auth::verify(&mut creds, &presented, now_unix)
            } else {
                let presented = Presented::V1 {
                    http_method: method,
                    host,
                    path,
                    pairs: &all_pairs,
                };
                auth::verify(&mut creds, &presented, now_unix)
            }
        };
        if let Err(e) = verdict {
            return fail(e);
        }
        let region = parsed.region.as_deref().unwrap_or_default();
        if let Err(e) = auth::check_signed_host(host, region) {
            return fail(e);
        }
    }

    match parsed.version.as_deref() {
        Some(API_VERSION) => {}
        None => {
            return fail(ApiError::new(
                "MissingParameter",
                "The request is missing the Version.",
            ))
        }
        Some(v) => {
            return fail(ApiError::new(
                "NoSuchVersion",
                format!("The API version `{v}` does not exist."),
            ))
        }
    }
    if !model_view::known_action(&action) {
        return fail(ApiError::new(
            "InvalidAction",
            format!("The action `{action}` does not exist."),
        ));
    }
    let region = parsed.region.clone().unwrap_or_default();
    if region.is_empty() {
        if model_view::region_required(&action) {
            return fail(ApiError::new(
                "MissingParameter",
                "The request is missing the Region.",
            ));
        }
    } else if super::catalog::region(&region).is_none() {
        return fail(ApiError::new(
            "UnsupportedRegion",
            format!("The region `{region}` is not supported."),
        ));
    }
    let admitted = match shared.limiter.lock() {
        Ok(mut l) => l.admit(&action, model_view::rate_limit(&action), Instant::now()),
        Err(_) => true,
    };
    if !admitted {
        return fail(ApiError::new(
            "RequestLimitExceeded",
            format!(
                "{action} is limited to {} requests per second.",
                model_view::rate_limit(&action).unwrap_or(0)
            ),
        ));
    }
    let mut params = match parsed.params {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    model_view::coerce(&action, &mut params);
    if let Err(e) = model_view::validate(&action, &params) {
        return fail(e);
    }
    let Some(handler) = handlers::route(&action) else {
        return fail(ApiError::new(
            "InvalidAction",
            format!("The action `{action}` does not exist."),
        ));
    };
    let documented = model_view::error_codes(&action);
    // RSA key generation is slow: do it off the runtime and outside the account lock.
    let keypair = if action == "CreateKeyPair" {
        tokio::task::spawn_blocking(super::keygen::rsa_pair)
            .await
            .ok()
            .and_then(Result::ok)
    } else {
        None
    };
    let outcome = {
        let mut world = match shared.world.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        // DryRun: the handler runs against a copy of the account that is thrown away; its
        // success is the service's DryRunOperation error, its error the real one.
        let dry = handlers::is_dry_run(&action, &params);
        let mut copy = if dry { Some(world.clone()) } else { None };
        let target: &mut super::state::World = match copy.as_mut() {
            Some(c) => c,
            None => &mut world,
        };
        let mut ctx = Ctx {
            world: target,
            region,
            now: Instant::now(),
            unix: now_unix,
            action: &action,
            documented,
            keypair,
        };
        match handler {
            handlers::Route::Value(h) => h(&mut ctx, &P(&params)).map(Answer::Value),
            handlers::Route::Raw(h) => {
                let mut out = Vec::with_capacity(256);
                out.extend_from_slice(RESPONSE_OPEN);
                h(&mut ctx, &P(&params), &mut out).map(|()| Answer::Raw(out))
            }
        }
        .and_then(|a| {
            if dry {
                Err(ApiError::new(
                    "DryRunOperation",
                    "The request would have succeeded, but DryRun is set.",
                ))
            } else {
                Ok(a)
            }
        })
    };
    let body = match outcome {
        Ok(Answer::Value(v)) => envelope(v, &request_id),
        Ok(Answer::Raw(mut out)) => {
            close_envelope(&mut out, &request_id);
            out
        }
        Err(e) => {
            if !model_view::documented(&action, &e.code) {
                if let Ok(mut u) = shared.undocumented.lock() {
                    let codes = u.entry(action.clone()).or_default();
                    if !codes.contains(&e.code) {
                        codes.push(e.code.clone());
                    }
                }
            }
            error_body(&e, &request_id)
        }
    };
    match fault {
        Some(Kind::DropAfter) => Err(Dropped),
        Some(Kind::Truncated) => {
            let cut = body.len() / 2;
            Ok(json_response(StatusCode::OK, body[..cut].to_vec()))
        }
        _ => Ok(json_response(StatusCode::OK, body)),
    }
}
