//! A local, stateful emulator of the CVM 2017-03-12 API: a real HTTP server on a tokio runtime
//! of its own that authenticates like the service, keeps per-region state, and injects faults.
//!
//! Layout: `server` (HTTP, parsing, dispatch), `auth` (v1 / TC3 verification), `params`
//! (flattened -> nested), `model_view` (what the model says), `state` (the account),
//! `catalog` (regions, zones, types, public images), `handlers/*` (one module per resource
//! family), `faults` (injection and rate limits), `metadata` (CVM role credentials),
//! `control` (reset / seed / timers / faults / counters), `poll` (the server's poller), `conn`
//! (one connection: `tls` for HTTPS, `netem` for a simulated round trip). The pyo3 class
//! that starts it from Python lives in the binding crate (`crates/py/src/emulator.rs`).

pub mod auth;
pub mod catalog;
pub mod conn;
pub mod control;
pub mod fam_state;
pub mod faults;
pub mod handlers;
pub mod keygen;
pub mod metadata;
pub mod model_view;
pub mod netem;
pub mod params;
pub mod poll;
pub mod precise_sleep;
pub mod server;
pub mod state;
pub mod tls;
pub mod util;

use auth::{Cred, Creds};
use faults::{Faults, Limiter};
use rand::distr::Alphanumeric;
use rand::Rng;
use state::{Timers, World};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Settings {
    pub check_signatures: bool,
    /// Seconds added to the server clock (to test SignatureExpire).
    pub clock_offset: i64,
    pub role_name: String,
    /// Lifetime of the temporary credentials the metadata endpoint hands out, in seconds.
    pub metadata_ttl: i64,
}

/// Everything the server tasks share.
pub struct Shared {
    pub settings: RwLock<Settings>,
    pub world: Mutex<World>,
    pub creds: Mutex<Creds>,
    pub faults: Mutex<Faults>,
    pub limiter: Mutex<Limiter>,
    pub requests: AtomicU64,
    pub by_action: Mutex<HashMap<String, u64>>,
    /// Error codes answered by a handler that the model does not document for the action
    /// (nor as a common code): action -> codes. Empty is the goal.
    pub undocumented: Mutex<HashMap<String, Vec<String>>>,
    /// The temporary credentials currently served by the metadata endpoint.
    pub role_creds: Mutex<Option<metadata::Issued>>,
    pub secret_id: String,
    pub seed: Mutex<Option<u64>>,
    /// How connections are carried (TLS, simulated round trip) and how many were opened.
    pub wire: Arc<conn::Wire>,
}

impl Shared {
    pub fn settings(&self) -> Settings {
        match self.settings.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// (check_signatures, clock_offset), read without copying the settings.
    pub fn clock(&self) -> (bool, i64) {
        let s = match self.settings.read() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        (s.check_signatures, s.clock_offset)
    }
}

pub fn random_string(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

pub struct Options {
    pub host: String,
    pub port: u16,
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub check_signatures: bool,
    pub seed: Option<u64>,
    pub timers: Timers,
    /// Serve HTTPS (a CA and a server certificate made at start; see [`Emulator::ca_bundle`]).
    pub tls: bool,
    /// A simulated round trip (a testing aid; see `netem`): zero for none.
    pub rtt: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: "127.0.0.1".into(),
            port: 0,
            secret_id: None,
            secret_key: None,
            check_signatures: true,
            seed: None,
            timers: Timers::default(),
            tls: false,
            rtt: std::time::Duration::ZERO,
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    pub shared: Arc<Shared>,
    pub addr: SocketAddr,
    secret_key: String,
    stop: Option<watch::Sender<bool>>,
    /// The emulator's own thread: a current-thread tokio runtime serving every connection,
    /// so that a request never hops between worker threads (no futex wake-ups per request).
    thread: Option<std::thread::JoinHandle<()>>,
    pid: u32,
    tls: Option<tls::Tls>,
}

impl Emulator {
    pub fn start(opts: Options) -> std::io::Result<Emulator> {
        let secret_id = opts
            .secret_id
            .unwrap_or_else(|| format!("AKID{}", random_string(32)));
        let secret_key = opts.secret_key.unwrap_or_else(|| random_string(32));
        let mut creds = Creds::default();
        creds.insert(
            secret_id.clone(),
            Cred {
                secret_key: secret_key.clone(),
                token: None,
                expires: None,
            },
        );
        let tls = if opts.tls {
            Some(tls::Tls::generate(std::slice::from_ref(&opts.host))?)
        } else {
            None
        };
        let wire = Arc::new(conn::Wire {
            tls: tls.as_ref().map(|t| t.acceptor.clone()),
            rtt: opts.rtt,
            ..conn::Wire::default()
        });
        let fault_seed = opts.seed.unwrap_or_else(|| rand::rng().random());
        let shared = Arc::new(Shared {
            settings: RwLock::new(Settings {
                check_signatures: opts.check_signatures,
                clock_offset: 0,
                role_name: "tccvm-emulator-role".into(),
                metadata_ttl: 7200,
            }),
            world: Mutex::new(World::new(opts.seed, opts.timers)),
            creds: Mutex::new(creds),
            faults: Mutex::new(Faults::new(fault_seed)),
            limiter: Mutex::new(Limiter::default()),
            requests: AtomicU64::new(0),
            by_action: Mutex::new(HashMap::new()),
            undocumented: Mutex::new(HashMap::new()),
            role_creds: Mutex::new(None),
            secret_id,
            seed: Mutex::new(opts.seed),
            wire: wire.clone(),
        });
        let std_listener = std::net::TcpListener::bind((opts.host.as_str(), opts.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (tx, rx) = watch::channel(false);
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tccvm-emulator".into())
            .spawn(move || {
                rt.block_on(server::serve(listener, served, wire, rx));
                // Blocking helpers (key generation) still running are not waited for long.
                rt.shutdown_timeout(std::time::Duration::from_secs(1));
            })?;
        Ok(Emulator {
            shared,
            addr,
            secret_key,
            stop: Some(tx),
            thread: Some(thread),
            pid: std::process::id(),
            tls,
        })
    }

    pub fn secret_id(&self) -> &str {
        &self.shared.secret_id
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The PEM file of the CA that signed the server's certificate (HTTPS only).
    pub fn ca_bundle(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().map(|t| t.ca_bundle())
    }

    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stop accepting, close every connection, and wait (bounded) for the server task.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(thread) = self.thread.take() {
            if self.pid != std::process::id() {
                // In a forked child the server thread exists only in the parent.
                return;
            }
            // Bounded wait: the thread ends once its connections are closed.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !thread.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
    }
}
