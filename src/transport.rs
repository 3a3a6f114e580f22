//! Endpoint resolution, the pooled HTTP client, one signed request per attempt, the retry
//! policy (backoff with full jitter, retry budget, idempotency guard, ClientToken) and clock
//! skew correction.
//!
//! Each call is one async function, [`Client::call`]. The async Python methods run it on the
//! process runtime (`crate::runtime`); the sync methods run it with [`Client::call_blocking`] on
//! one of the client's *sync lanes*: a current-thread runtime driven by the calling thread
//! itself, with an HTTP client of its own whose connection tasks live on that runtime too, so
//! that a sync call needs no other thread (no wake-ups across threads, one `epoll_wait` per
//! answer). A lane serves one thread at a time; threads calling at once take a lane each.

use crate::credentials::{CredentialStore, Credentials};
use crate::error::{Error, TransportKind};
use crate::runtime::PerProcess;
use crate::sign::{self, SignMethod};
use crate::spin;
use crate::wire;
use bytes::Bytes;
use rand::Rng;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SERVICE: &str = "cvm";
pub const VERSION: &str = "2017-03-12";
pub const DEFAULT_HOST: &str = "cvm.tencentcloudapi.com";
/// Regions served by their own host, `cvm.<region>.tencentcloudapi.com`.
pub const FINANCE_REGIONS: &[&str] = &["ap-shanghai-fsi", "ap-shenzhen-fsi"];

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// The platform's trust store.
    Default,
    /// No certificate verification (the user asked for it).
    Off,
    /// Trust the certificates of this PEM bundle (in addition to the platform's).
    CaFile(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn parse(s: &str) -> Option<HttpMethod> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// Backoff parameters (seconds). Defaults follow botocore's standard mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: f64,
    pub throttle_base: f64,
    pub cap: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: 0.05,
            throttle_base: 1.0,
            cap: 20.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub sign_method: SignMethod,
    pub http_method: HttpMethod,
    pub language: Option<String>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_attempts: u32,
    pub proxy: Option<String>,
    pub verify: Verify,
    pub backoff: Backoff,
    /// Actions whose input has a `ClientToken` member (from the model): one is generated when
    /// the caller gave none, so that these calls can be retried safely.
    pub client_token_actions: HashSet<String>,
    /// Retry budget capacity (tokens); a retry costs 5 (10 after a timeout), a success gives 1.
    pub retry_budget: i64,
    /// Client-side rate limiting per action at the model's documented requests per second,
    /// shared by every thread and task using this client (off by default).
    pub rate_limit: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            region: None,
            endpoint: None,
            sign_method: SignMethod::Tc3HmacSha256,
            http_method: HttpMethod::Post,
            language: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 3,
            proxy: None,
            verify: Verify::Default,
            backoff: Backoff::default(),
            client_token_actions: HashSet::new(),
            retry_budget: 500,
            rate_limit: false,
        }
    }
}

/// Where requests go: the base URL, the host as signed, and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub host: String,
    pub path: String,
    pub https: bool,
}

/// Resolve the endpoint: a host, or an http(s) URL; default per region.
pub fn resolve_endpoint(endpoint: Option<&str>, region: Option<&str>) -> Result<Endpoint, Error> {
    let raw = match endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => e.to_string(),
        None => match region {
            Some(r) if FINANCE_REGIONS.contains(&r) => format!("cvm.{r}.tencentcloudapi.com"),
            _ => DEFAULT_HOST.to_string(),
        },
    };
    let with_scheme = if raw.contains("://") {
        raw.clone()
    } else {
        format!("https://{raw}")
    };
    let url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| Error::Config(format!("invalid endpoint {raw:?}: {e}")))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        s => {
            return Err(Error::Config(format!(
                "invalid endpoint {raw:?}: scheme {s:?} (use http or https)"
            )))
        }
    };
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::Config(format!(
            "invalid endpoint {raw:?}: no query, fragment or user info allowed"
        )));
    }
    let host_name = url
        .host_str()
        .ok_or_else(|| Error::Config(format!("invalid endpoint {raw:?}: no host")))?;
    let host = match url.port() {
        Some(p) => format!("{host_name}:{p}"),
        None => host_name.to_string(),
    };
    let path = if url.path().is_empty() {
        "/".to_string()
    } else {
        url.path().to_string()
    };
    let scheme = if https { "https" } else { "http" };
    Ok(Endpoint {
        url: format!("{scheme}://{host}{path}"),
        host,
        path,
        https,
    })
}

// ---------------------------------------------------------------------------------------------
// Retry policy
// ---------------------------------------------------------------------------------------------

/// The outcome of one attempt, as the retry policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The service answered `Response.Error` with this code.
    ApiError(&'a str),
    /// Could not connect: the request never reached the server.
    ConnectFailed,
    /// Timed out or the connection broke: the request may have reached the server.
    MaybeSent { timeout: bool },
    /// An answer that is not the API's JSON, with this HTTP status.
    NotApi(u16),
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Fail,
    /// Retry after a backoff computed from this base (throttling uses a longer base).
    Retry {
        throttled: bool,
    },
}

fn code_is(code: &str, family: &str) -> bool {
    code == family
        || (code.len() > family.len()
            && code.starts_with(family)
            && code.as_bytes()[family.len()] == b'.')
}

/// Whether the service rejected the request without acting on it (safe to retry anything).
pub fn is_throttle(code: &str) -> bool {
    code_is(code, "RequestLimitExceeded")
}

/// Codes that are retried (InternalError only when the request is idempotent).
pub fn is_retryable_code(code: &str) -> bool {
    is_throttle(code) || code_is(code, "InternalError")
}

/// The policy, without the budget or the attempt count: may this failure be retried?
/// `idempotent`: the action is Describe*/Inquiry* or the request carries a ClientToken.
pub fn decide(outcome: Outcome<'_>, idempotent: bool) -> Decision {
    match outcome {
        Outcome::ApiError(code) if is_throttle(code) => Decision::Retry { throttled: true },
        Outcome::ApiError(code) if is_retryable_code(code) && idempotent => {
            Decision::Retry { throttled: false }
        }
        Outcome::ApiError(_) => Decision::Fail,
        Outcome::ConnectFailed => Decision::Retry { throttled: false },
        Outcome::MaybeSent { .. } if idempotent => Decision::Retry { throttled: false },
        Outcome::MaybeSent { .. } => Decision::Fail,
        Outcome::NotApi(status)
            if idempotent && (status >= 500 || status == 429 || status < 200) =>
        {
            Decision::Retry {
                throttled: status == 429,
            }
        }
        // A 4xx page (a proxy refusing, a wrong path, a firewall) is not the service and says
        // the same again; 408 (the request timed out) is worth another try.
        Outcome::NotApi(status) if (400..500).contains(&status) && status != 408 => Decision::Fail,
        // A 2xx/3xx (or 408) that is not the API's JSON: a broken answer, retried when safe.
        Outcome::NotApi(_) if idempotent => Decision::Retry { throttled: false },
        Outcome::NotApi(_) => Decision::Fail,
    }
}

/// The actions whose input has a `ClientToken`, read from the service model (the one source of
/// truth) once per process.
pub fn model_client_token_actions() -> &'static HashSet<String> {
    static SET: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let model: Value =
            serde_json::from_str(include_str!("model/cvm-2017-03-12.json")).unwrap_or_default();
        let mut set = HashSet::new();
        if let Some(actions) = model.get("actions").and_then(Value::as_object) {
            for (name, a) in actions {
                let by_flag = a.get("client_token").and_then(Value::as_bool) == Some(true);
                let by_input = a
                    .get("inputs")
                    .and_then(Value::as_array)
                    .is_some_and(|ins| {
                        ins.iter()
                            .any(|i| i.get("name") == Some(&Value::from("ClientToken")))
                    });
                if by_flag || by_input {
                    set.insert(name.clone());
                }
            }
        }
        set
    })
}

/// Whether an action is idempotent by its name.
pub fn idempotent_action(action: &str) -> bool {
    action.starts_with("Describe") || action.starts_with("Inquiry")
}

/// Full-jitter exponential backoff: uniform in `[0, min(cap, base * 2^(retry-1))]`.
pub fn backoff_delay(b: &Backoff, throttled: bool, retry: u32) -> Duration {
    let base = if throttled { b.throttle_base } else { b.base };
    let exp = base * 2f64.powi(retry.saturating_sub(1).min(30) as i32);
    let ceiling = exp.min(b.cap).max(0.0);
    if ceiling <= 0.0 || !ceiling.is_finite() {
        return Duration::ZERO;
    }
    let s = rand::rng().random_range(0.0..=ceiling);
    Duration::from_secs_f64(s)
}

/// A retry quota shared by all calls of a client, so a dead endpoint is not hammered. Lock-free
/// (a lock held by a parent thread at a fork would stay held in the child).
#[derive(Debug)]
pub struct RetryBudget {
    tokens: AtomicI64,
    capacity: i64,
}

pub const RETRY_COST: i64 = 5;
pub const TIMEOUT_RETRY_COST: i64 = 10;

impl RetryBudget {
    pub fn new(capacity: i64) -> RetryBudget {
        RetryBudget {
            tokens: AtomicI64::new(capacity),
            capacity,
        }
    }
    /// Take the cost of a retry; false when the budget is exhausted.
    pub fn acquire(&self, cost: i64) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t >= cost).then_some(t - cost)
            })
            .is_ok()
    }
    /// A success gives back one token (and the cost of its own retry, if it retried).
    pub fn release(&self, amount: i64) {
        let capacity = self.capacity;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(amount).min(capacity))
            });
    }
    pub fn available(&self) -> i64 {
        self.tokens.load(Ordering::Acquire)
    }
}

// ---------------------------------------------------------------------------------------------
// Client-side rate limiting
// ---------------------------------------------------------------------------------------------

/// The documented requests per second of each action, from the service model.
pub fn model_rate_limit(action: &str) -> Option<u32> {
    crate::model::action(action)
        .map(|a| a.rate_limit)
        .filter(|l| *l > 0)
}

/// The window the service counts requests in, plus a small margin.
pub const RATE_WINDOW: Duration = Duration::from_millis(1010);

/// Per-action request permits: `limit` per action; a request holds one from before it is sent
/// until its answer is in, and the permit comes back one window after that. The service
/// received the request before the answer came, so any `limit + 1` requests to an action
/// reach it at least a window apart, whatever the latency. FIFO (tokio's semaphore), shared by
/// every thread and task of the client; per process (permits held by the parent's requests
/// would never come back in a forked child).
#[derive(Debug, Default)]
pub struct RateLimiter {
    permits: PerProcess<Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>>,
}

/// A permit held for one request; dropping it gives it back one window later.
#[derive(Debug)]
pub struct RatePermit(Option<tokio::sync::OwnedSemaphorePermit>);

impl Drop for RatePermit {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // On the process runtime, always driven: not on a sync lane, which runs only while
            // a thread calls on it (a call waiting on the process runtime for this permit
            // would wait until then).
            crate::runtime::get().spawn(async move {
                tokio::time::sleep(RATE_WINDOW).await;
                drop(p);
            });
        }
    }
}

impl RateLimiter {
    fn semaphore(&self, action: &str, limit: u32) -> Arc<tokio::sync::Semaphore> {
        let mut map = match self.permits.get().lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match map.get(action) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(tokio::sync::Semaphore::new(limit.max(1) as usize));
                map.insert(action.to_string(), s.clone());
                s
            }
        }
    }

    /// Wait for a permit to send one request to `action` (limited to `limit` per window).
    pub async fn acquire(&self, action: &str, limit: u32) -> RatePermit {
        let sem = self.semaphore(action, limit);
        // The semaphore is never closed: acquire only fails if it were.
        RatePermit(sem.acquire_owned().await.ok())
    }
}

// ---------------------------------------------------------------------------------------------
// TLS configuration, shared by all clients
// ---------------------------------------------------------------------------------------------

/// What reqwest builds for each client by default (crypto provider, platform verifier, session
/// cache for 256 servers, ALPN), built once per process and TLS setting and shared: a client
/// gets a clone (its verifier, provider and session cache are `Arc`s). That was ~100 KiB and
/// milliseconds per client. Keyed by the setting and, for a CA bundle, by the file's content
/// (a changed file gives a new configuration). Rebuilt after a fork: the session cache's lock
/// may have been held by a parent thread.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TlsKey {
    Default,
    Off,
    Ca(Vec<u8>),
}

static TLS_CONFIGS: PerProcess<Mutex<Vec<(TlsKey, rustls::ClientConfig)>>> = PerProcess::new();

/// The shared TLS configuration for `verify` (the first use of a setting builds it).
pub fn tls_config(verify: &Verify) -> Result<rustls::ClientConfig, Error> {
    let key = match verify {
        Verify::Default => TlsKey::Default,
        Verify::Off => TlsKey::Off,
        Verify::CaFile(path) => TlsKey::Ca(
            std::fs::read(path)
                .map_err(|e| Error::Config(format!("cannot read CA bundle {path:?}: {e}")))?,
        ),
    };
    let mut cache = match TLS_CONFIGS.get().lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
        return Ok(c.clone());
    }
    let c = build_tls_config(verify, &key)?;
    cache.push((key, c.clone()));
    Ok(c)
}

fn build_tls_config(verify: &Verify, key: &TlsKey) -> Result<rustls::ClientConfig, Error> {
    use rustls::crypto::CryptoProvider;
    // As reqwest does: a provider the application installed, else aws-lc-rs.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| Error::Config(format!("cannot build the TLS configuration: {e}")))?
        .dangerous();
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match key {
        TlsKey::Off => Arc::new(AcceptAnyCertificate(provider)),
        TlsKey::Default => Arc::new(
            rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| Error::Config(format!("cannot load the trust store: {e}")))?,
        ),
        TlsKey::Ca(pem) => {
            use rustls::pki_types::pem::PemObject;
            let path = match verify {
                Verify::CaFile(p) => p.as_str(),
                _ => "",
            };
            let certs = rustls::pki_types::CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Config(format!("invalid CA bundle {path:?}: {e}")))?;
            if certs.is_empty() {
                return Err(Error::Config(format!(
                    "CA bundle {path:?} holds no certificate"
                )));
            }
            Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(certs, provider)
                    .map_err(|e| Error::Config(format!("invalid CA bundle {path:?}: {e}")))?,
            )
        }
    };
    let mut config = builder
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// `verify=False`: nothing about the server's certificate is checked (what reqwest's
/// `tls_danger_accept_invalid_certs(true)` did).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

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

tokio::task_local! {
    /// The HTTP client of the sync lane a call runs on (none: the process runtime's pool).
    static SYNC_LANE_HTTP: reqwest::Client;
}

/// Sync lanes per client at most: threads beyond this many calling at once use the process
/// runtime (each lane holds a runtime of its own and at least one connection).
pub const MAX_LANES: usize = 16;

/// A client's sync lane: a current-thread runtime and the HTTP client whose connection tasks
/// run on it. Only ever dropped in the process that built it: a client's lanes are held per
/// process ([`PerProcess`]), and a forked child forgets its parent's.
pub struct Lane {
    /// A thread is driving the lane (see [`Client::call_blocking`]).
    busy: AtomicBool,
    /// How long the last call on this lane waited for its answer, in nanoseconds (time spent
    /// pending, not working); `u64::MAX` before the first. See [`poll_budget`].
    last_wait: AtomicU64,
    parts: Option<(tokio::runtime::Runtime, reqwest::Client)>,
}

/// The longest a sync call polls for its answer before it sleeps (see [`crate::spin`]);
/// `TCCVM_SPIN_US` (microseconds) overrides it, 0 switches polling off.
const POLL_FOR: Duration = Duration::from_micros(250);

/// A sync call polls for its answer only when the last call on its lane waited less than this:
/// an endpoint on this machine, such as the emulator (a remote one answers in milliseconds).
const POLL_IF_WAITED_UNDER: Duration = Duration::from_millis(1);

/// How long a sync call on a lane whose last call waited `last_wait_ns` may poll for its answer.
fn poll_budget(last_wait_ns: u64) -> Duration {
    static LIMIT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    let limit = *LIMIT.get_or_init(|| spin::limit_from_env("TCCVM_SPIN_US", POLL_FOR));
    let last_wait = (last_wait_ns != u64::MAX).then(|| Duration::from_nanos(last_wait_ns));
    spin::budget(last_wait, limit, POLL_IF_WAITED_UNDER)
}

/// The calling thread's turn on a lane; gives it back when dropped (also on a panic).
struct LaneTurn<'a>(&'a AtomicBool);

impl Drop for LaneTurn<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Some((runtime, http)) = self.parts.take() {
            drop(http);
            // Never blocks, so dropping the last reference is fine on any thread (also inside
            // another runtime, where a plain drop would panic).
            runtime.shutdown_background();
        }
    }
}

/// A successful answer: the whole body, and what the call's [`Check`] built of it, if it did
/// (otherwise its `Response` is built into Python objects later).
#[derive(Debug)]
pub struct Answer {
    pub body: Bytes,
    pub request_id: Option<String>,
    pub built: Option<Built>,
}

/// What a [`Check`] built of an answer (for the Python layer, its `Response` object).
pub type Built = Box<dyn std::any::Any + Send>;

/// Judges an answer: `Ok` with its head exactly when [`wire::inspect`] would be, and the same
/// error otherwise. It may build the answer in the same pass (so the body is read once): a
/// sync call decodes it on the calling thread this way, before the retry decision.
pub type Check = fn(&[u8]) -> Result<(wire::Head, Option<Built>), wire::NotApi>;

/// The [`Check`] that builds nothing.
fn inspect_only(body: &[u8]) -> Result<(wire::Head, Option<Built>), wire::NotApi> {
    wire::inspect(body).map(|head| (head, None))
}

pub struct Client {
    pub config: Config,
    pub endpoint: Endpoint,
    pub credentials: CredentialStore,
    /// `endpoint.url` parsed once (parsing it per request, IDNA included, was ~2% of a call).
    url: reqwest::Url,
    /// The pool used on the process runtime (async calls). Per process, like the lanes: a
    /// forked child builds its own and never takes a lock its parent's threads may have held.
    http: PerProcess<Mutex<Option<reqwest::Client>>>,
    /// The sync lanes, built as sync calls need them (an async-only client never has one).
    lanes: PerProcess<Mutex<Vec<Arc<Lane>>>>,
    budget: RetryBudget,
    limiter: RateLimiter,
    /// Seconds to add to the local clock (corrected from the server's Date header).
    clock_offset: AtomicI64,
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

/// A random ClientToken (UUID v4 text).
pub fn new_client_token() -> String {
    let v: u128 = rand::random();
    let v =
        (v & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48) | (0x8000u128 << 48);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        let nibble = (v >> (124 - 4 * i)) & 0xF;
        out.push(char::from(HEX[nibble as usize]));
    }
    out
}

/// One request, ready to send.
struct Prepared {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
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

    fn build_http(&self) -> Result<reqwest::Client, Error> {
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

    /// Block on [`Client::call_observed`] run as a task of the process runtime (its panic
    /// becomes `Error::Internal`).
    pub fn call_on_runtime(
        self: Arc<Self>,
        action: String,
        params: Value,
        observer: Option<AttemptObserver>,
    ) -> Result<Answer, Error> {
        let runtime = crate::runtime::get();
        runtime.block_on(async move {
            match runtime
                .spawn(self.call_observed(action, params, observer))
                .await
            {
                Ok(r) => r,
                Err(e) if e.is_panic() => Err(Error::Internal(crate::error::panic_message(
                    e.into_panic().as_ref(),
                ))),
                Err(_) => Err(Error::Internal("the call was cancelled".into())),
            }
        })
    }

    /// A free sync lane of this client in this process, marked busy (the caller must hand it
    /// back through [`LaneTurn`]); a new one while fewer than [`MAX_LANES`] exist; `None` when
    /// that many threads are calling at once. The lanes are this process's: a forked child
    /// builds its own (the parent's epoll fds and connections are not its to use).
    fn take_lane(&self) -> Result<Option<Arc<Lane>>, Error> {
        let mut g = match self.lanes.get().lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for l in g.iter() {
            if l.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(Some(l.clone()));
            }
        }
        if g.len() >= MAX_LANES {
            return Ok(None);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start a tokio runtime: {e}")))?;
        let lane = Arc::new(Lane {
            busy: AtomicBool::new(true),
            last_wait: AtomicU64::new(u64::MAX),
            parts: Some((runtime, self.build_http()?)),
        });
        g.push(lane.clone());
        Ok(Some(lane))
    }

    /// Run [`Client::call_observed`] on a sync lane of this client, driven by the calling thread
    /// (which blocks until the answer is in). Threads calling at once each take a lane of their
    /// own (up to [`MAX_LANES`]; beyond that the call runs on the process runtime).
    ///
    /// Fails (no panic) on a thread that is already inside a tokio runtime, e.g. a log handler
    /// called during a call that makes a sync call itself.
    ///
    /// On a lane, answers are judged by `check` (on the calling thread); on the process runtime
    /// by [`wire::inspect`].
    pub fn call_blocking(
        self: Arc<Self>,
        action: String,
        params: Value,
        observer: Option<AttemptObserver>,
        check: Check,
    ) -> Result<Answer, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Internal(
                "a synchronous tccvm call cannot be made on a thread that is already running \
                 a tokio runtime (for example from a log handler during another call, or from \
                 a task on a runtime thread); use tccvm.AsyncClient there, or another thread"
                    .into(),
            ));
        }
        // One thread at a time drives a lane. tokio would let several threads block on one
        // current-thread runtime at once, but then one of them runs every connection task and
        // wakes the others for each answer: 4 threads made half the calls per second of 1.
        let Some(lane) = self.take_lane()? else {
            return self.call_on_runtime(action, params, observer);
        };
        let _turn = LaneTurn(&lane.busy);
        let Some((runtime, http)) = lane.parts.as_ref() else {
            return Err(Error::Internal("the sync lane is gone".into()));
        };
        let http = http.clone();
        let last_wait = &lane.last_wait;
        runtime.block_on(SYNC_LANE_HTTP.scope(http, async move {
            // Nobody drove this lane since the last call: let its connection tasks see what
            // happened meanwhile (a server that closed an idle connection) before a pooled
            // connection is picked. The first yield polls the I/O driver, the second lets the
            // woken connection tasks run.
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            let call = self.call_checked(action, params, observer, check);
            let mut budget = poll_budget(last_wait.load(Ordering::Relaxed));
            let slot = (!budget.is_zero()).then(spin::PollSlot::claim).flatten();
            if slot.is_none() {
                budget = Duration::ZERO;
            }
            let (answer, waited) = spin::poll_briefly(call, budget).await;
            drop(slot);
            let waited = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX - 1);
            last_wait.store(waited, Ordering::Relaxed);
            answer
        }))
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
        wire::strip_nulls(params);
        let mut has_token =
            matches!(params.get("ClientToken"), Some(Value::String(s)) if !s.is_empty());
        if !has_token
            && (self.config.client_token_actions.contains(action)
                || model_client_token_actions().contains(action))
        {
            if let Value::Object(map) = params {
                map.insert("ClientToken".into(), Value::String(new_client_token()));
                has_token = true;
            }
        }
        has_token || idempotent_action(action)
    }

    /// The endpoint's URL with this (already percent-encoded) query.
    fn url_with_query(&self, query: &str) -> reqwest::Url {
        let mut url = self.url.clone();
        url.set_query(Some(query));
        url
    }

    fn prepare(
        &self,
        action: &str,
        params: &Value,
        creds: &Credentials,
        timestamp: i64,
    ) -> Prepared {
        let nonce: u32 = rand::rng().random_range(1..=i32::MAX as u32);
        let c = &self.config;
        let ep = &self.endpoint;
        let key = creds.secret_key.expose().as_bytes();
        match c.sign_method {
            SignMethod::HmacSha1 | SignMethod::HmacSha256 => {
                let mut pairs: Vec<(String, String)> = vec![
                    ("Action".into(), action.into()),
                    ("Nonce".into(), nonce.to_string()),
                    ("Timestamp".into(), timestamp.to_string()),
                    ("Version".into(), VERSION.into()),
                    ("SecretId".into(), creds.secret_id.clone()),
                    ("SignatureMethod".into(), c.sign_method.as_str().into()),
                ];
                if let Some(r) = &c.region {
                    pairs.push(("Region".into(), r.clone()));
                }
                if let Some(t) = &creds.token {
                    pairs.push(("Token".into(), t.expose().to_string()));
                }
                if let Some(l) = &c.language {
                    pairs.push(("Language".into(), l.clone()));
                }
                let common = pairs.len();
                for (k, v) in wire::flatten(params) {
                    // Common parameters are ours; a user value of the same name is dropped.
                    if pairs[..common].iter().any(|(ck, _)| *ck == k) || k == "Signature" {
                        continue;
                    }
                    pairs.push((k, v));
                }
                let http_method = c.http_method.as_str();
                let signature =
                    sign::v1_sign(c.sign_method, key, http_method, &ep.host, &ep.path, &pairs)
                        .unwrap_or_default();
                pairs.push(("Signature".into(), signature));
                let encoded = wire::encode_pairs(&pairs);
                match c.http_method {
                    HttpMethod::Get => Prepared {
                        method: reqwest::Method::GET,
                        url: self.url_with_query(&encoded),
                        headers: vec![],
                        body: None,
                    },
                    HttpMethod::Post => Prepared {
                        method: reqwest::Method::POST,
                        url: self.url.clone(),
                        headers: vec![(
                            "content-type",
                            "application/x-www-form-urlencoded".to_string(),
                        )],
                        body: Some(encoded.into_bytes()),
                    },
                }
            }
            SignMethod::Tc3HmacSha256 => {
                let (content_type, query, payload) = match c.http_method {
                    HttpMethod::Get => (
                        "application/x-www-form-urlencoded",
                        wire::encode_pairs(&wire::flatten(params)),
                        Vec::new(),
                    ),
                    HttpMethod::Post => {
                        ("application/json", String::new(), wire::json_body(params))
                    }
                };
                let headers = [("content-type", content_type), ("host", ep.host.as_str())];
                let out = sign::tc3_sign(
                    &creds.secret_id,
                    key,
                    &sign::Tc3Input {
                        http_method: c.http_method.as_str(),
                        path: &ep.path,
                        canonical_query: &query,
                        headers: &headers,
                        payload: &payload,
                        service: SERVICE,
                        timestamp,
                    },
                );
                let mut h: Vec<(&'static str, String)> = vec![
                    ("authorization", out.authorization),
                    ("content-type", content_type.to_string()),
                    ("x-tc-action", action.to_string()),
                    ("x-tc-timestamp", timestamp.to_string()),
                    ("x-tc-version", VERSION.to_string()),
                ];
                if let Some(r) = &c.region {
                    h.push(("x-tc-region", r.clone()));
                }
                if let Some(t) = &creds.token {
                    h.push(("x-tc-token", t.expose().to_string()));
                }
                if let Some(l) = &c.language {
                    h.push(("x-tc-language", l.clone()));
                }
                let url = if query.is_empty() {
                    self.url.clone()
                } else {
                    self.url_with_query(&query)
                };
                Prepared {
                    method: if c.http_method == HttpMethod::Get {
                        reqwest::Method::GET
                    } else {
                        reqwest::Method::POST
                    },
                    url,
                    headers: h,
                    body: if c.http_method == HttpMethod::Post {
                        Some(payload)
                    } else {
                        None
                    },
                }
            }
        }
    }

    /// Send one attempt. Returns the HTTP status, the Date header (Unix seconds) and the body.
    async fn send(
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
    /// the policy. The answer's body is returned for the caller to build (GIL held).
    pub async fn call(self: Arc<Self>, action: String, params: Value) -> Result<Answer, Error> {
        self.call_observed(action, params, None).await
    }

    /// [`Client::call`], reporting every attempt to `observer` (logging) when one is given.
    pub async fn call_observed(
        self: Arc<Self>,
        action: String,
        params: Value,
        observer: Option<AttemptObserver>,
    ) -> Result<Answer, Error> {
        self.call_checked(action, params, observer, inspect_only)
            .await
    }

    /// [`Client::call_observed`] with answers judged by `check`.
    async fn call_checked(
        self: Arc<Self>,
        action: String,
        mut params: Value,
        observer: Option<AttemptObserver>,
        check: Check,
    ) -> Result<Answer, Error> {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let idempotent = self.prepare_params(&action, &mut params);
        let max = self.config.max_attempts;
        let mut attempt: u32 = 0;
        let mut retried_cost: i64 = 0;
        let mut clock_corrected = false;
        loop {
            attempt += 1;
            self.stats.attempts.fetch_add(1, Ordering::Relaxed);
            // Held until this attempt's answer is in (dropped at the end of the iteration).
            let _permit = match (self.config.rate_limit, model_rate_limit(&action)) {
                (true, Some(limit)) => {
                    let t = std::time::Instant::now();
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
            let started = std::time::Instant::now();
            let mut seen_status: Option<u16> = None;
            let mut seen_request_id: Option<String> = None;
            let (err, outcome_kind): (Error, OutcomeKind) = match self.send(prepared).await {
                Ok((status, date, body)) => match check(&body) {
                    Ok((head, built)) => match head.error {
                        None => {
                            self.budget.release(1 + retried_cost);
                            if let Some(obs) = &observer {
                                obs(&AttemptLog {
                                    attempt,
                                    max_attempts: max,
                                    status: Some(status),
                                    latency: started.elapsed(),
                                    request_id: head.request_id.clone(),
                                    outcome: "ok".into(),
                                    retry_in: None,
                                });
                            }
                            return Ok(Answer {
                                body,
                                request_id: head.request_id,
                                built,
                            });
                        }
                        Some((code, message)) => {
                            seen_status = Some(status);
                            seen_request_id = head.request_id.clone();
                            if code == "AuthFailure.SignatureExpire" && !clock_corrected {
                                if let Some(server) = date {
                                    if let Some(obs) = &observer {
                                        obs(&AttemptLog {
                                            attempt,
                                            max_attempts: max,
                                            status: Some(status),
                                            latency: started.elapsed(),
                                            request_id: seen_request_id.clone(),
                                            outcome: format!("{code} (clock corrected)"),
                                            retry_in: Some(Duration::ZERO),
                                        });
                                    }
                                    clock_corrected = true;
                                    self.set_clock_offset(server - now_secs());
                                    self.stats.clock_corrections.fetch_add(1, Ordering::Relaxed);
                                    // The correction does not use up an attempt.
                                    attempt -= 1;
                                    continue;
                                }
                            }
                            let kind = OutcomeKind::Api(code.clone());
                            (
                                Error::Api {
                                    code,
                                    message,
                                    request_id: head.request_id,
                                    action: action.clone(),
                                },
                                kind,
                            )
                        }
                    },
                    Err(not_api) => (
                        {
                            seen_status = Some(status);
                            Error::Transport {
                                kind: TransportKind::NotApi,
                                message: format!("the answer is not the API's JSON: {not_api}"),
                                status: Some(status),
                                action: action.clone(),
                                attempts: attempt,
                            }
                        },
                        OutcomeKind::NotApi(status),
                    ),
                },
                Err((kind, message)) => (
                    Error::Transport {
                        kind,
                        message,
                        status: None,
                        action: action.clone(),
                        attempts: attempt,
                    },
                    match kind {
                        TransportKind::Connect => OutcomeKind::Connect,
                        TransportKind::Timeout => OutcomeKind::MaybeSent(true),
                        TransportKind::Request => OutcomeKind::Fatal,
                        _ => OutcomeKind::MaybeSent(false),
                    },
                ),
            };
            let decision = match &outcome_kind {
                OutcomeKind::Api(code) => decide(Outcome::ApiError(code), idempotent),
                OutcomeKind::NotApi(s) => decide(Outcome::NotApi(*s), idempotent),
                OutcomeKind::Connect => decide(Outcome::ConnectFailed, idempotent),
                OutcomeKind::MaybeSent(t) => decide(Outcome::MaybeSent { timeout: *t }, idempotent),
                OutcomeKind::Fatal => Decision::Fail,
            };
            let retry_delay = match decision {
                Decision::Fail => None,
                // No sleep (and no retry) after the last attempt.
                Decision::Retry { .. } if attempt >= max => None,
                Decision::Retry { throttled } => {
                    let cost = if matches!(outcome_kind, OutcomeKind::MaybeSent(true)) {
                        TIMEOUT_RETRY_COST
                    } else {
                        RETRY_COST
                    };
                    if self.budget.acquire(cost) {
                        retried_cost += cost;
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        Some(backoff_delay(&self.config.backoff, throttled, attempt))
                    } else {
                        None
                    }
                }
            };
            if let Some(obs) = &observer {
                obs(&AttemptLog {
                    attempt,
                    max_attempts: max,
                    status: seen_status,
                    latency: started.elapsed(),
                    request_id: seen_request_id,
                    outcome: outcome_kind.label(),
                    retry_in: retry_delay,
                });
            }
            let Some(delay) = retry_delay else {
                return Err(err);
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
}

enum OutcomeKind {
    Api(String),
    NotApi(u16),
    Connect,
    MaybeSent(bool),
    Fatal,
}

impl OutcomeKind {
    /// What an attempt log says happened: the API's error code or the transport failure.
    fn label(&self) -> String {
        match self {
            OutcomeKind::Api(code) => code.clone(),
            OutcomeKind::NotApi(_) => "not_api".into(),
            OutcomeKind::Connect => "connect".into(),
            OutcomeKind::MaybeSent(true) => "timeout".into(),
            OutcomeKind::MaybeSent(false) => "io".into(),
            OutcomeKind::Fatal => "request".into(),
        }
    }
}

/// One attempt as reported to an [`AttemptObserver`] (logging). It never holds a secret: no
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

fn classify(e: reqwest::Error) -> (TransportKind, String) {
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
    fn endpoints() {
        let e = resolve_endpoint(None, Some("ap-guangzhou")).unwrap();
        assert_eq!(e.url, "https://cvm.tencentcloudapi.com/");
        assert_eq!(e.host, "cvm.tencentcloudapi.com");
        let e = resolve_endpoint(None, Some("ap-shanghai-fsi")).unwrap();
        assert_eq!(e.host, "cvm.ap-shanghai-fsi.tencentcloudapi.com");
        let e = resolve_endpoint(None, Some("ap-shenzhen-fsi")).unwrap();
        assert_eq!(e.url, "https://cvm.ap-shenzhen-fsi.tencentcloudapi.com/");
        let e = resolve_endpoint(Some("cvm.internal.example"), None).unwrap();
        assert_eq!(e.url, "https://cvm.internal.example/");
        let e = resolve_endpoint(Some("http://127.0.0.1:9000"), None).unwrap();
        assert_eq!(
            (e.url.as_str(), e.host.as_str(), e.path.as_str(), e.https),
            ("http://127.0.0.1:9000/", "127.0.0.1:9000", "/", false)
        );
        let e = resolve_endpoint(Some("https://h:443/"), None).unwrap();
        assert_eq!(e.host, "h");
        assert!(resolve_endpoint(Some("ftp://h"), None).is_err());
        assert!(resolve_endpoint(Some("http://h/?a=1"), None).is_err());
        assert!(resolve_endpoint(Some("http://"), None).is_err());
    }

    #[test]
    fn retry_decisions() {
        use Decision::*;
        assert_eq!(
            decide(Outcome::ApiError("RequestLimitExceeded"), false),
            Retry { throttled: true }
        );
        assert_eq!(
            decide(
                Outcome::ApiError("RequestLimitExceeded.UinLimitExceeded"),
                false
            ),
            Retry { throttled: true }
        );
        assert_eq!(
            decide(Outcome::ApiError("RequestLimitExceededX"), true),
            Fail
        );
        assert_eq!(
            decide(Outcome::ApiError("InternalError"), true),
            Retry { throttled: false }
        );
        assert_eq!(decide(Outcome::ApiError("InternalError"), false), Fail);
        for code in [
            "AuthFailure",
            "AuthFailure.SignatureFailure",
            "InvalidParameter",
            "InvalidParameterValue.Range",
            "MissingParameter",
            "UnknownParameter",
            "InvalidInstanceId.NotFound",
            "ResourceNotFound",
        ] {
            assert_eq!(decide(Outcome::ApiError(code), true), Fail, "{code}");
        }
        assert_eq!(
            decide(Outcome::ConnectFailed, false),
            Retry { throttled: false }
        );
        assert_eq!(decide(Outcome::MaybeSent { timeout: true }, false), Fail);
        assert_eq!(
            decide(Outcome::MaybeSent { timeout: true }, true),
            Retry { throttled: false }
        );
        assert_eq!(
            decide(Outcome::NotApi(502), true),
            Retry { throttled: false }
        );
        assert_eq!(decide(Outcome::NotApi(502), false), Fail);
        assert_eq!(
            decide(Outcome::NotApi(200), true),
            Retry { throttled: false }
        );
        for status in [400, 403, 404, 407, 413] {
            assert_eq!(decide(Outcome::NotApi(status), true), Fail, "{status}");
        }
        assert_eq!(
            decide(Outcome::NotApi(408), true),
            Retry { throttled: false }
        );
        assert_eq!(
            decide(Outcome::NotApi(429), true),
            Retry { throttled: true }
        );
        assert!(idempotent_action("DescribeInstances"));
        assert!(idempotent_action("InquiryPriceRunInstances"));
        assert!(!idempotent_action("RunInstances"));
        assert!(model_client_token_actions().contains("RunInstances"));
        assert!(!model_client_token_actions().contains("StartInstances"));
    }

    #[test]
    fn backoff_is_capped_full_jitter() {
        let b = Backoff {
            base: 0.05,
            throttle_base: 1.0,
            cap: 2.0,
        };
        for retry in 1..40 {
            let d = backoff_delay(&b, true, retry);
            assert!(d <= Duration::from_secs_f64(2.0));
            let d = backoff_delay(&b, false, retry);
            assert!(
                d <= Duration::from_secs_f64(0.05 * 2f64.powi(retry as i32 - 1).min(2.0 / 0.05))
            );
        }
        let zero = Backoff {
            base: 0.0,
            throttle_base: 0.0,
            cap: 1.0,
        };
        assert_eq!(backoff_delay(&zero, true, 3), Duration::ZERO);
    }

    #[test]
    fn rate_limiter_permits() {
        let rt = crate::runtime::get();
        rt.block_on(async {
            let l = Arc::new(RateLimiter::default());
            let t = tokio::time::Instant::now();
            // `limit` at once; the next waits a window after the first answer.
            let a = l.acquire("A", 2).await;
            let _b = l.acquire("A", 2).await;
            assert!(t.elapsed() < Duration::from_millis(100));
            // Other actions have their own permits.
            drop(l.acquire("B", 1).await);
            drop(a);
            let _c = l.acquire("A", 2).await;
            assert!(t.elapsed() >= RATE_WINDOW, "{:?}", t.elapsed());
        });
        assert_eq!(model_rate_limit("DescribeInstances"), Some(40));
        assert_eq!(model_rate_limit("NoSuchAction"), None);
    }

    #[test]
    fn sync_call_inside_a_runtime_is_an_error_not_a_panic() {
        let c = Arc::new(
            Client::new(
                Config {
                    endpoint: Some("http://127.0.0.1:9".into()),
                    ..Config::default()
                },
                Credentials::new("id".into(), "key".into(), None, None).unwrap(),
            )
            .unwrap(),
        );
        let inner = c.clone();
        let r = crate::runtime::get().block_on(async move {
            inner.call_blocking(
                "DescribeZones".into(),
                serde_json::json!({}),
                None,
                inspect_only,
            )
        });
        match r {
            Err(Error::Internal(m)) => assert!(m.contains("already running a tokio runtime")),
            other => panic!("{other:?}"),
        }
        // No lane was built for it; outside a runtime the call runs (and fails to connect).
        assert!(c.lanes.get().lock().unwrap().is_empty());
        let r = c.clone().call_blocking(
            "DescribeZones".into(),
            serde_json::json!({}),
            None,
            inspect_only,
        );
        assert!(matches!(
            r,
            Err(Error::Transport {
                kind: TransportKind::Connect,
                ..
            })
        ));
        assert_eq!(c.lanes.get().lock().unwrap().len(), 1);
        c.close();
        assert!(c.lanes.get().lock().unwrap().is_empty());
    }

    /// A sync client against `endpoint`, signing with the emulator's keys.
    fn client_of(emu: &crate::emulator::Emulator) -> Arc<Client> {
        Arc::new(
            Client::new(
                Config {
                    endpoint: Some(format!("http://{}", emu.addr)),
                    region: Some("ap-guangzhou".into()),
                    ..Config::default()
                },
                Credentials::new(
                    emu.secret_id().to_string(),
                    emu.secret_key().to_string(),
                    None,
                    None,
                )
                .unwrap(),
            )
            .unwrap(),
        )
    }

    fn last_wait(c: &Client) -> u64 {
        let lanes = c.lanes.get().lock().unwrap();
        assert_eq!(lanes.len(), 1);
        lanes[0].last_wait.load(Ordering::Relaxed)
    }

    #[test]
    fn a_lane_polls_only_after_fast_answers() {
        let emu = crate::emulator::Emulator::start(Default::default()).unwrap();
        let c = client_of(&emu);
        let call = |c: &Arc<Client>| {
            c.clone()
                .call_blocking(
                    "DescribeZones".into(),
                    serde_json::json!({}),
                    None,
                    inspect_only,
                )
                .unwrap()
        };
        call(&c);
        let fast = last_wait(&c);
        assert!(fast > 0 && fast < 1_000_000_000, "{fast} ns");
        // The emulator on loopback answers within the millisecond (unless this machine is very
        // busy); the next call may poll, on a machine where this thread has several CPUs.
        for _ in 0..20 {
            call(&c);
            if last_wait(&c) < POLL_IF_WAITED_UNDER.as_nanos() as u64 {
                break;
            }
        }
        let w = last_wait(&c);
        let expect = if w < POLL_IF_WAITED_UNDER.as_nanos() as u64 && spin::may_use_other_cpus() {
            POLL_FOR
        } else {
            Duration::ZERO
        };
        assert_eq!(poll_budget(w), expect);
        // An answer 20 ms late: the next call sleeps at once.
        emu.shared.faults.lock().unwrap().latency = Duration::from_millis(20);
        call(&c);
        let slow = last_wait(&c);
        assert!(slow >= 20_000_000, "{slow} ns");
        assert_eq!(poll_budget(slow), Duration::ZERO);
        assert_eq!(poll_budget(u64::MAX), Duration::ZERO);
        c.close();
    }

    #[test]
    fn tls_configurations_are_shared_per_setting() {
        let a = tls_config(&Verify::Default).unwrap();
        let b = tls_config(&Verify::Default).unwrap();
        assert!(Arc::ptr_eq(a.crypto_provider(), b.crypto_provider()));
        assert_eq!(a.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        let off = tls_config(&Verify::Off).unwrap();
        assert!(!Arc::ptr_eq(a.crypto_provider(), off.crypto_provider()));
        let off2 = tls_config(&Verify::Off).unwrap();
        assert!(Arc::ptr_eq(off.crypto_provider(), off2.crypto_provider()));
        let missing = tls_config(&Verify::CaFile("/nonexistent/ca.pem".into()));
        assert!(matches!(missing, Err(Error::Config(m)) if m.contains("cannot read")));
        let dir = std::env::temp_dir().join(format!("tccvm-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, b"no certificate here\n").unwrap();
        let r = tls_config(&Verify::CaFile(empty.to_string_lossy().into_owned()));
        assert!(matches!(r, Err(Error::Config(m)) if m.contains("holds no certificate")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn budget() {
        let b = RetryBudget::new(10);
        assert!(b.acquire(5));
        assert!(b.acquire(5));
        assert!(!b.acquire(5));
        b.release(100);
        assert_eq!(b.available(), 10);
    }

    #[test]
    fn client_tokens() {
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
