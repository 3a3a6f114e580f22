//! A client's configuration: what the user chose (region, endpoint, signing, timeouts, retries,
//! proxy, TLS verification), checked by `Client::new`.

use crate::sign::SignMethod;
use std::collections::HashSet;
use std::time::Duration;

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
    /// Longest answer body accepted (bytes): reading stops at the limit, the attempt fails
    /// (`TransportKind::TooLarge`) and is not retried.
    pub max_response_bytes: u64,
    /// Requests in flight at once for this client, across its async pool and its sync lanes
    /// (each needs a connection): calls beyond this many wait for a turn.
    pub max_connections: usize,
}

/// Default [`Config::max_response_bytes`]: 64 MiB. The largest real answers are far smaller (100
/// fully populated instances of DescribeInstances: about 0.3 MiB from the emulator).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// Default [`Config::max_connections`] (httpx's and aiohttp's default).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

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
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}
