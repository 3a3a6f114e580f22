//! The client and its attempt loop: one async function per call ([`Client::call`]) that
//! prepares, signs and sends each attempt, judges the answer (`crate::answer::judge`), asks the
//! retry policy (`crate::retry`) and waits out the backoff. Everything else it uses has its own
//! file: configuration (`config`), endpoints (`endpoint`), request building (`request`), rate
//! limiting (`rate_limit`), TLS (`tls`), and where sync calls run (`lanes`).

use crate::answer::{self, Decode, Verdict};
use crate::config::Config;
use crate::credentials::{CredentialStore, Credentials};
use crate::endpoint::{resolve_endpoint, Endpoint};
use crate::error::{Error, TransportKind};
use crate::lanes::{Lane, SYNC_LANE_HTTP};
use crate::params;
use crate::rate_limit::{model_rate_limit, RateLimiter};
use crate::request::{new_client_token, Prepared};
use crate::retry::{
    backoff_delay, decide, idempotent_action, takes_client_token, Decision, Outcome, RetryBudget,
};
use crate::runtime::PerProcess;
use crate::tls::tls_config;
use bytes::Bytes;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Counters for tests and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub calls: AtomicU64,
    pub attempts: AtomicU64,
    pub retries: AtomicU64,
    pub clock_corrections: AtomicU64,
    /// Attempts that waited for the client-side rate limiter.
    pub rate_limited: AtomicU64,
}

/// A successful answer: the whole body, its request id, and what the call's [`Decode`] built
/// of it in the pass that judged it (`None`: the caller builds its result from `body`).
#[derive(Debug)]
pub struct Answer<T> {
    pub body: Bytes,
    pub request_id: Option<String>,
    pub built: Option<T>,
}

pub struct Client {
    pub config: Config,
    pub endpoint: Endpoint,
    pub credentials: CredentialStore,
    /// `endpoint.url` parsed once (parsing it per request, IDNA included, was ~2% of a call).
    pub(crate) url: reqwest::Url,
    /// The pool used on the process runtime (async calls). Per process, like the lanes: a
    /// forked child builds its own and never takes a lock its parent's threads may have held.
    pub(crate) http: PerProcess<Mutex<Option<reqwest::Client>>>,
    /// The sync lanes, built as sync calls need them (an async-only client never has one).
    pub(crate) lanes: PerProcess<Mutex<Vec<Arc<Lane>>>>,
    pub(crate) budget: RetryBudget,
    pub(crate) limiter: RateLimiter,
    /// Seconds to add to the local clock (corrected from the server's Date header).
    pub(crate) clock_offset: AtomicI64,
    pub stats: Stats,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint.url)
            .field("region", &self.config.region)
            .field("sign_method", &self.config.sign_method)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Client {
    pub fn new(config: Config, credentials: Credentials) -> Result<Client, Error> {
        if config.max_attempts == 0 {
            return Err(Error::Config("max_attempts must be at least 1".into()));
        }
        if config.timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err(Error::Config("timeouts must be positive".into()));
        }
        if let Some(r) = &config.region {
            if r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(Error::Config(format!("invalid region {r:?}")));
            }
        }
        let endpoint = resolve_endpoint(config.endpoint.as_deref(), config.region.as_deref())?;
        let url = reqwest::Url::parse(&endpoint.url)
            .map_err(|e| Error::Config(format!("invalid endpoint {:?}: {e}", endpoint.url)))?;
        let client = Client {
            budget: RetryBudget::new(config.retry_budget),
            limiter: RateLimiter::default(),
            config,
            endpoint,
            url,
            credentials: CredentialStore::new(credentials),
            http: PerProcess::new(),
            lanes: PerProcess::new(),
            clock_offset: AtomicI64::new(0),
            stats: Stats::default(),
        };
        // Build once now so that configuration errors (proxy, CA file) surface at construction.
        client.http()?;
        Ok(client)
    }

    pub(crate) fn build_http(&self) -> Result<reqwest::Client, Error> {
        let c = &self.config;
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("tccvm/", env!("CARGO_PKG_VERSION")))
            .timeout(c.timeout)
            .connect_timeout(c.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(p) = &c.proxy {
            let proxy = reqwest::Proxy::all(p.as_str())
                .map_err(|e| Error::Config(format!("invalid proxy URL: {e}")))?
                .no_proxy(reqwest::NoProxy::from_env());
            b = b.proxy(proxy);
        }
        b = b.tls_backend_preconfigured(tls_config(&c.verify)?);
        b.build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
    }

    /// The pooled HTTP client of this process (rebuilt after a fork or `close()`).
    fn http(&self) -> Result<reqwest::Client, Error> {
        let mut g = match self.http.get().lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(c) = g.as_ref() {
            return Ok(c.clone());
        }
        let c = self.build_http()?;
        Ok(g.insert(c).clone())
    }

    /// Drop the connection pools, async and sync (the next call builds a new one). The sync
    /// lane's runtime goes with its pool (closing its sockets) once no call is using it.
    pub fn close(&self) {
        let pool = match self.http.get().lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        drop(pool);
        let lanes = match self.lanes.get().lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        drop(lanes);
    }

    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    pub fn set_clock_offset(&self, offset: i64) {
        self.clock_offset.store(offset, Ordering::Relaxed)
    }

    pub fn budget_available(&self) -> i64 {
        self.budget.available()
    }

    /// Prepare params for a call: strip nulls, fill in a ClientToken where the action takes one.
    /// Returns whether the request is idempotent (safe to resend after it may have arrived).
    pub fn prepare_params(&self, action: &str, params: &mut Value) -> bool {
        if params.is_null() {
            *params = Value::Object(Default::default());
        }
        params::strip_nulls(params);
        let mut has_token =
            matches!(params.get("ClientToken"), Some(Value::String(s)) if !s.is_empty());
        if !has_token
            && (self.config.client_token_actions.contains(action) || takes_client_token(action))
        {
            if let Value::Object(map) = params {
                map.insert("ClientToken".into(), Value::String(new_client_token()));
                has_token = true;
            }
        }
        has_token || idempotent_action(action)
    }

    /// Send one attempt. Returns the HTTP status, the Date header (Unix seconds) and the body.
    pub(crate) async fn send(
        &self,
        p: Prepared,
    ) -> Result<(u16, Option<i64>, Bytes), (TransportKind, String)> {
        let http = match SYNC_LANE_HTTP.try_with(reqwest::Client::clone) {
            Ok(lane_http) => lane_http,
            Err(_) => self
                .http()
                .map_err(|e| (TransportKind::Request, e.to_string()))?,
        };
        let mut rb = http.request(p.method, p.url);
        for (k, v) in p.headers {
            let mut hv = reqwest::header::HeaderValue::from_str(&v).map_err(|_| {
                (
                    TransportKind::Request,
                    format!("the value of the {k} header cannot be sent (control characters?)"),
                )
            })?;
            // Never shown by any Debug output of the request.
            if k == "authorization" || k == "x-tc-token" {
                hv.set_sensitive(true);
            }
            rb = rb.header(k, hv);
        }
        if let Some(b) = p.body {
            rb = rb.body(b);
        }
        let resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let date = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        let body = resp.bytes().await.map_err(classify)?;
        Ok((status, date, body))
    }

    /// Call `action` with `params` (a JSON object, already validated if wanted), retrying per
    /// the policy, reporting every attempt to `observer` (logging) when one is given. Each
    /// answer is judged by [`answer::judge`] with `decode`, which may build the call's result
    /// in the same pass (the binding's sync calls build the Python objects this way).
    pub async fn call<D: Decode>(
        self: Arc<Self>,
        action: String,
        mut params: Value,
        observer: Option<AttemptObserver>,
        decode: D,
    ) -> Result<Answer<D::Output>, Error> {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let idempotent = self.prepare_params(&action, &mut params);
        let max = self.config.max_attempts;
        let mut attempt: u32 = 0;
        let mut retried_cost: i64 = 0;
        let mut clock_corrected = false;
        let observe = |log: AttemptLog| {
            if let Some(obs) = &observer {
                obs(&log);
            }
        };
        loop {
            attempt += 1;
            self.stats.attempts.fetch_add(1, Ordering::Relaxed);
            // Held until this attempt's answer is in (dropped at the end of the iteration).
            let _permit = match (self.config.rate_limit, model_rate_limit(&action)) {
                (true, Some(limit)) => {
                    let t = Instant::now();
                    let p = self.limiter.acquire(&action, limit).await;
                    if t.elapsed() >= Duration::from_millis(1) {
                        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(p)
                }
                _ => None,
            };
            // Fresh credentials, timestamp and nonce for every attempt.
            let creds = self.credentials.get();
            let timestamp = now_secs() + self.clock_offset();
            let prepared = self.prepare(&action, &params, &creds, timestamp);
            drop(creds);
            let started = Instant::now();
            let log =
                |status: Option<u16>, request_id: Option<String>, outcome: String, retry_in| {
                    AttemptLog {
                        attempt,
                        max_attempts: max,
                        status,
                        latency: started.elapsed(),
                        request_id,
                        outcome,
                        retry_in,
                    }
                };
            // The attempt's outcome, the error it ends the call with, its status and request id.
            let (outcome, err, status, request_id) = match self.send(prepared).await {
                Ok((status, date, body)) => match answer::judge(&decode, &body) {
                    Verdict::Success { request_id, built } => {
                        self.budget.release(1 + retried_cost);
                        observe(log(Some(status), request_id.clone(), "ok".into(), None));
                        return Ok(Answer {
                            body,
                            request_id,
                            built,
                        });
                    }
                    Verdict::Error {
                        code,
                        message,
                        request_id,
                    } => {
                        if code == "AuthFailure.SignatureExpire" && !clock_corrected {
                            if let Some(server) = date {
                                observe(log(
                                    Some(status),
                                    request_id,
                                    format!("{code} (clock corrected)"),
                                    Some(Duration::ZERO),
                                ));
                                clock_corrected = true;
                                self.set_clock_offset(server - now_secs());
                                self.stats.clock_corrections.fetch_add(1, Ordering::Relaxed);
                                // The correction does not use up an attempt.
                                attempt -= 1;
                                continue;
                            }
                        }
                        let err = Error::Api {
                            code: code.clone(),
                            message,
                            request_id: request_id.clone(),
                            action: action.clone(),
                        };
                        (Outcome::ApiError(code), err, Some(status), request_id)
                    }
                    Verdict::NotApi(why) => {
                        let err = Error::Transport {
                            kind: TransportKind::NotApi,
                            message: format!("the answer is not the API's JSON: {why}"),
                            status: Some(status),
                            action: action.clone(),
                            attempts: attempt,
                        };
                        (Outcome::NotApi(status), err, Some(status), None)
                    }
                },
                Err((kind, message)) => {
                    let err = Error::Transport {
                        kind,
                        message,
                        status: None,
                        action: action.clone(),
                        attempts: attempt,
                    };
                    (Outcome::of_transport(kind), err, None, None)
                }
            };
            let retry_delay = match decide(&outcome, idempotent) {
                Decision::Fail => None,
                // No sleep (and no retry) after the last attempt.
                Decision::Retry { .. } if attempt >= max => None,
                Decision::Retry { throttled } => {
                    let cost = outcome.retry_cost();
                    if self.budget.acquire(cost) {
                        retried_cost += cost;
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        Some(backoff_delay(&self.config.backoff, throttled, attempt))
                    } else {
                        None
                    }
                }
            };
            observe(log(status, request_id, outcome.label(), retry_delay));
            let Some(delay) = retry_delay else {
                return Err(err);
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// key, token, signature or header, only what the log records show.
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
}

/// Called once per attempt by [`Client::call_observed`] (on a runtime thread).
pub type AttemptObserver = Arc<dyn Fn(&AttemptLog) + Send + Sync>;

pub(crate) fn classify(e: reqwest::Error) -> (TransportKind, String) {
    // The error's text can include the URL (with a GET query: the Signature). Never use it.
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_builder() {
        TransportKind::Request
    } else {
        TransportKind::Io
    };
    let what = match kind {
        TransportKind::Connect => {
            if e.is_timeout() {
                "connect timed out".to_string()
            } else {
                format!("could not connect{}", source_hint(&e))
            }
        }
        TransportKind::Timeout => "the request timed out".to_string(),
        TransportKind::Request => "invalid request".to_string(),
        _ => format!("the connection failed{}", source_hint(&e)),
    };
    (kind, what)
}

/// The innermost cause (e.g. "Connection refused (os error 111)"), which never holds the URL.
fn source_hint(e: &reqwest::Error) -> String {
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = src {
        last = Some(s);
        src = s.source();
    }
    match last {
        Some(s) => {
            let t = s.to_string();
            if t.contains("Signature") || t.contains("://") {
                String::new()
            } else {
                format!(": {t}")
            }
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_filled_in_where_the_model_has_them() {
        let t = new_client_token();
        assert_eq!(t.len(), 36);
        assert_eq!(&t[14..15], "4");
        assert_ne!(t, new_client_token());
        for _ in 0..200 {
            // A version 4 UUID: 8-4-4-4-12 lower-case hex digits, variant 10xx.
            let t = new_client_token();
            let groups: Vec<&str> = t.split('-').collect();
            let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12], "{t}");
            assert!(t
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
            assert!(groups[2].starts_with('4'), "{t}");
            assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{t}");
        }
        let mut config = Config::default();
        config.client_token_actions.insert("RunInstances".into());
        let c = Client::new(
            config,
            Credentials::new("id".into(), "key".into(), None, None).unwrap(),
        )
        .unwrap();
        let mut p = serde_json::json!({"A": null});
        assert!(c.prepare_params("RunInstances", &mut p));
        assert_eq!(p["ClientToken"].as_str().map(str::len), Some(36));
        assert!(p.get("A").is_none());
        let mut p = serde_json::json!({"ClientToken": "mine"});
        assert!(c.prepare_params("RunInstances", &mut p));
        assert_eq!(p["ClientToken"], "mine");
        let mut p = Value::Null;
        assert!(!c.prepare_params("StartInstances", &mut p));
        assert!(p.get("ClientToken").is_none());
        let mut p = serde_json::json!({"ClientToken": "t"});
        assert!(c.prepare_params("StartInstances", &mut p));
    }
}
