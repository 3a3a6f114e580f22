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
use crate::lanes::Lane;
use crate::observe::{wire_request, WireAnswer};
pub use crate::observe::{AttemptLog, AttemptObserver, Interrupt, Observed, RequestLog};
use crate::params;
use crate::pool::Pool;
use crate::rate_limit::{model_rate_limit, RateLimiter};
use crate::request::new_client_token;
use crate::retry::{
    backoff_delay, decide, idempotent_action, takes_client_token, Decision, Outcome, RetryBudget,
};
use crate::runtime::PerProcess;
use crate::tls::tls_config;
use crate::transfer::CountOpened;
use bytes::Bytes;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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
    /// The attempts the call made (this answer's included) and this answer's HTTP status, for
    /// an error raised while building the result.
    pub attempts: u32,
    pub status: u16,
}

/// What a client shares with those made from it by [`Client::with_options`] (its credentials,
/// pools, retry budget, rate limiter, clock correction and counters) sits behind `Arc`s.
pub struct Client {
    pub config: Config,
    pub endpoint: Endpoint,
    pub credentials: Arc<CredentialStore>,
    /// `endpoint.url` parsed once (parsing it per request, IDNA included, was ~2% of a call).
    pub(crate) url: reqwest::Url,
    /// The pool used on the process runtime (async calls), with the pool generation it was
    /// built for. Per process, like the lanes: a forked child builds its own and never takes a
    /// lock its parent's threads may have held.
    pub(crate) http: Arc<PerProcess<PoolSlot>>,
    /// `max_connections` turns shared by every attempt of this client (per process).
    pub(crate) slots: Arc<PerProcess<OnceLock<tokio::sync::Semaphore>>>,
    /// The lowest idle timeout a server announced (`Keep-Alive: timeout=N`), 0: none yet.
    pub(crate) idle_hint: Arc<AtomicU64>,
    /// Bumped when the hint changes: pools built before are rebuilt with the new idle timeout.
    pub(crate) pool_generation: Arc<AtomicU64>,
    /// The keep-alive races lost so far (see `Client::note_lost_race`): how many in a row,
    /// and the attempt count at the last one. Shared with `with_options` clients (the same
    /// server, the same pools).
    pub(crate) races: Arc<(AtomicU64, AtomicU64)>,
    /// Set once the server kept closing connections under requests: pools keep none idle.
    pub(crate) no_reuse: Arc<AtomicBool>,
    /// The server answered a gated first HTTPS call over HTTP/1.x: async pools are no longer
    /// gated (`crate::pool`). Shared with the pools.
    pub(crate) http1_server: Arc<AtomicBool>,
    /// The sync lanes, built as sync calls need them (an async-only client never has one).
    pub(crate) lanes: Arc<PerProcess<Mutex<Vec<Arc<Lane>>>>>,
    pub(crate) budget: Arc<RetryBudget>,
    pub(crate) limiter: Arc<RateLimiter>,
    /// Seconds to add to the local clock (corrected from the server's Date header).
    pub(crate) clock_offset: Arc<AtomicI64>,
    pub stats: Arc<Stats>,
}

/// A pool and the pool generation it was built for.
pub(crate) type PoolSlot = Mutex<Option<Pool>>;

/// What [`Client::with_options`] may change (None: keep the original's).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub max_attempts: Option<u32>,
    /// `Some(None)`: no region.
    pub region: Option<Option<String>>,
}

/// The checks of [`Client::new`] on a configuration.
fn check_config(config: &Config) -> Result<(), Error> {
    if config.max_attempts == 0 {
        return Err(Error::Config("max_attempts must be at least 1".into()));
    }
    if config.max_connections == 0 || config.max_response_bytes == 0 {
        return Err(Error::Config(
            "max_connections and max_response_bytes must be at least 1".into(),
        ));
    }
    if config.timeout.is_zero() || config.connect_timeout.is_zero() {
        return Err(Error::Config("timeouts must be positive".into()));
    }
    if let Some(r) = &config.region {
        if r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::Config(format!("invalid region {r:?}")));
        }
    }
    Ok(())
}

fn endpoint_of(config: &Config) -> Result<(Endpoint, reqwest::Url), Error> {
    let endpoint = resolve_endpoint(config.endpoint.as_deref(), config.region.as_deref())?;
    let url = reqwest::Url::parse(&endpoint.url)
        .map_err(|e| Error::Config(format!("invalid endpoint {:?}: {e}", endpoint.url)))?;
    Ok((endpoint, url))
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
        check_config(&config)?;
        let (endpoint, url) = endpoint_of(&config)?;
        let client = Client {
            budget: Arc::new(RetryBudget::new(config.retry_budget)),
            limiter: Arc::default(),
            config,
            endpoint,
            url,
            credentials: Arc::new(CredentialStore::new(credentials)),
            http: Arc::new(PerProcess::new()),
            slots: Arc::new(PerProcess::new()),
            idle_hint: Arc::default(),
            pool_generation: Arc::default(),
            races: Arc::default(),
            no_reuse: Arc::default(),
            http1_server: Arc::default(),
            lanes: Arc::new(PerProcess::new()),
            clock_offset: Arc::default(),
            stats: Arc::default(),
        };
        // Build once now so that configuration errors (proxy, CA file) surface at construction.
        client.http()?;
        Ok(client)
    }

    /// Another client with these settings changed, sharing this one's credentials (a refresh
    /// seen by both), connection pools, retry budget, rate limiter, clock correction and
    /// counters. The whole-request timeout is set on each request, so a pool serves clients
    /// of any `timeout`; a connect timeout belongs to a pool's connector, so a different
    /// `connect_timeout` gets pools of its own (everything else still shared).
    pub fn with_options(&self, o: Overrides) -> Result<Client, Error> {
        let mut config = self.config.clone();
        if let Some(t) = o.timeout {
            config.timeout = t;
        }
        if let Some(t) = o.connect_timeout {
            config.connect_timeout = t;
        }
        if let Some(n) = o.max_attempts {
            config.max_attempts = n;
        }
        if let Some(r) = o.region {
            config.region = r.filter(|r| !r.is_empty());
        }
        check_config(&config)?;
        let (endpoint, url) = endpoint_of(&config)?;
        let own_pools = config.connect_timeout != self.config.connect_timeout;
        let client = Client {
            budget: self.budget.clone(),
            limiter: self.limiter.clone(),
            endpoint,
            url,
            credentials: self.credentials.clone(),
            http: own_or_shared(own_pools, &self.http),
            slots: own_or_shared(own_pools, &self.slots),
            idle_hint: self.idle_hint.clone(),
            pool_generation: self.pool_generation.clone(),
            races: self.races.clone(),
            no_reuse: self.no_reuse.clone(),
            http1_server: own_or_shared(own_pools, &self.http1_server),
            lanes: own_or_shared(own_pools, &self.lanes),
            clock_offset: self.clock_offset.clone(),
            stats: self.stats.clone(),
            config,
        };
        Ok(client)
    }

    /// A new pool keeping at most `idle` idle connections (a sync lane needs one).
    pub(crate) fn build_http(
        &self,
        idle: usize,
    ) -> Result<(reqwest::Client, Arc<AtomicU64>), Error> {
        let c = &self.config;
        let opened = Arc::new(AtomicU64::new(0));
        let mut b = reqwest::Client::builder()
            .connector_layer(CountOpened(opened.clone()))
            .user_agent(concat!("tccvm/", env!("CARGO_PKG_VERSION")))
            .timeout(c.timeout)
            .connect_timeout(c.connect_timeout)
            .pool_idle_timeout(self.pool_idle_timeout())
            .pool_max_idle_per_host(if self.no_reuse.load(Ordering::Acquire) {
                0
            } else {
                idle
            })
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(p) = &c.proxy {
            // reqwest's error would quote the URL, password included: never shown.
            let proxy = reqwest::Proxy::all(p.as_str())
                .map_err(|_| Error::Config("invalid proxy URL".into()))?
                .no_proxy(reqwest::NoProxy::from_env());
            b = b.proxy(proxy);
        }
        b = b.tls_backend_preconfigured(tls_config(&c.verify)?);
        let http = b
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok((http, opened))
    }

    /// The async pool of this process (rebuilt after a fork or `close()`, and when a server's
    /// keep-alive hint changed the idle timeout).
    pub(crate) fn http(&self) -> Result<Pool, Error> {
        let mut g = match self.http.get().lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        self.current_http(&mut g, self.config.max_connections)
    }

    /// The pool in `slot` if it was built for the current pool generation, else a new one put
    /// there (used for the async pool and each sync lane's).
    pub(crate) fn current_http(&self, slot: &mut Option<Pool>, idle: usize) -> Result<Pool, Error> {
        let generation = self.pool_generation.load(Ordering::Acquire);
        if let Some(p) = slot.as_ref() {
            if p.generation == generation {
                return Ok(p.clone());
            }
        }
        let (http, opened) = self.build_http(idle)?;
        // The old pool (if any) is dropped with its idle connections.
        Ok(slot.insert(Pool::new(generation, http, opened)).clone())
    }

    /// The `max_connections` turns of this client in this process.
    pub(crate) fn connection_slots(&self) -> &tokio::sync::Semaphore {
        self.slots
            .get()
            .get_or_init(|| tokio::sync::Semaphore::new(self.config.max_connections))
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
        // Err: the observer (the binding's logging or hooks) asked the call to stop.
        let wire = observer.as_ref().is_some_and(|o| o.wire());
        let observe = |log: AttemptLog| {
            finish(match &observer {
                Some(obs) => obs.attempt(&log),
                None => Ok(None),
            })
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
            if let Some(obs) = &observer {
                let r = RequestLog {
                    attempt,
                    max_attempts: max,
                    wire: wire.then(|| wire_request(&prepared)),
                };
                finish(obs.request(&r)).await?;
            }
            let started = Instant::now();
            let mut answer_wire: Option<WireAnswer> = None;
            let log = |status: Option<u16>,
                       request_id: Option<String>,
                       outcome: String,
                       retry_in,
                       wire: &mut Option<WireAnswer>| AttemptLog {
                attempt,
                max_attempts: max,
                status,
                latency: started.elapsed(),
                request_id,
                outcome,
                retry_in,
                wire: wire.take(),
            };
            // The attempt's outcome, the error it ends the call with, its status and request id.
            let (outcome, err, status, request_id) = match self.send(prepared, wire).await {
                Ok((status, date, body, seen)) => match answer::judge(&decode, &body) {
                    Verdict::Success { request_id, built } => {
                        self.budget.release(1 + retried_cost);
                        answer_wire = seen;
                        observe(log(
                            Some(status),
                            request_id.clone(),
                            "ok".into(),
                            None,
                            &mut answer_wire,
                        ))
                        .await?;
                        return Ok(Answer {
                            body,
                            request_id,
                            built,
                            attempts: attempt,
                            status,
                        });
                    }
                    Verdict::Error {
                        code,
                        message,
                        request_id,
                    } => {
                        answer_wire = seen;
                        if code == "AuthFailure.SignatureExpire" && !clock_corrected {
                            if let Some(server) = date {
                                observe(log(
                                    Some(status),
                                    request_id,
                                    format!("{code} (clock corrected)"),
                                    Some(Duration::ZERO),
                                    &mut answer_wire,
                                ))
                                .await?;
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
                        answer_wire = seen;
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
                Err((kind, message, status)) => {
                    let err = Error::Transport {
                        kind,
                        message,
                        status,
                        action: action.clone(),
                        attempts: attempt,
                    };
                    (Outcome::of_transport(kind), err, status, None)
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
            observe(log(
                status,
                request_id,
                outcome.label(),
                retry_delay,
                &mut answer_wire,
            ))
            .await?;
            let Some(delay) = retry_delay else {
                return Err(err);
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Wait for an observer's report (an async hook's); its `Interrupt` ends the call.
async fn finish(o: Observed) -> Result<(), Error> {
    match o {
        Ok(None) => Ok(()),
        Ok(Some(f)) => f.await.map_err(|Interrupt| Error::Interrupted),
        Err(Interrupt) => Err(Error::Interrupted),
    }
}

/// For `with_options`: a new, empty one when the client gets pools of its own (another
/// `connect_timeout`), else the original's, shared.
fn own_or_shared<T: Default>(own: bool, shared: &Arc<T>) -> Arc<T> {
    if own {
        Arc::default()
    } else {
        shared.clone()
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
