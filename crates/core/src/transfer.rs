//! One attempt on the wire: the request sent through the client's pool (sync lane or process
//! runtime) within its connection limit, the answer read up to `max_response_bytes`, the
//! server's keep-alive hint noted, and every failure classified without the URL in its text
//! (a reused connection that the server reset before answering counts as never sent).

use crate::client::Client;
use crate::error::TransportKind;
use crate::lanes::SYNC_LANE_HTTP;
use crate::observe::{wire_answer, WireAnswer};
use crate::pool::Pool;
use crate::request::Prepared;
use bytes::{Bytes, BytesMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

/// The connector layer that counts a pool's new connections (every connection, direct or
/// through a proxy, is opened through it).
#[derive(Clone)]
pub(crate) struct CountOpened(pub(crate) Arc<AtomicU64>);

impl<S> tower_layer::Layer<S> for CountOpened {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            opened: self.0.clone(),
        }
    }
}

/// A connector that counts its connections (see [`CountOpened`]).
#[derive(Clone)]
pub(crate) struct Counted<S> {
    inner: S,
    opened: Arc<AtomicU64>,
}

impl<S: tower_service::Service<R>, R> tower_service::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }
    fn call(&mut self, dst: R) -> S::Future {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.inner.call(dst)
    }
}

/// A failed attempt: what kind, what to say (never the URL), and the HTTP status when the
/// answer had begun.
pub(crate) type SendFailure = (TransportKind, String, Option<u16>);

/// What came back: the status, the Date header (Unix seconds), the whole body, and its wire
/// view when one was asked for.
pub(crate) type Received = (u16, Option<i64>, Bytes, Option<WireAnswer>);

impl Client {
    /// Send one attempt. Holds one of the client's `max_connections` turns from before the
    /// request leaves until its answer is read (or fails), so that no more than that many
    /// connections are busy at once; calls beyond it queue here.
    pub(crate) async fn send(&self, p: Prepared, wire: bool) -> Result<Received, SendFailure> {
        let slots = self.connection_slots();
        let _turn = match slots.try_acquire() {
            Ok(t) => t,
            Err(_) => slots.acquire().await.map_err(|_| {
                (
                    TransportKind::Request,
                    "the client is closed".to_string(),
                    None,
                )
            })?,
        };
        let (pool, gate) = match SYNC_LANE_HTTP.try_with(Pool::clone) {
            Ok(lane_pool) => (lane_pool, None),
            Err(_) => {
                let pool = self
                    .http()
                    .map_err(|e| (TransportKind::Request, e.to_string(), None))?;
                let first = pool.first.clone();
                (pool, Some(first))
            }
        };
        // The first HTTPS connection of an async pool is made by one call alone (`crate::pool`).
        let gate = gate
            .filter(|_| self.url.scheme() == "https" && !self.http1_server.load(Ordering::Relaxed));
        let first = match &gate {
            Some(g) => g.pass().await,
            None => None,
        };
        // Let the pool's connection tasks see what happened since the last answer (a server
        // that closed the connection after answering) right before a pooled connection is
        // picked, so that a closed one is never written to. On a sync lane nobody drove the
        // runtime meanwhile: the first yield polls the I/O driver, the second lets the woken
        // connection tasks run; on the process runtime they let its workers catch up.
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        // The client's own whole-request timeout (the pool may be shared with clients of
        // other timeouts: `Client::with_options`).
        let mut rb = pool
            .http
            .request(p.method, p.url)
            .timeout(self.config.timeout);
        for (k, v) in p.headers {
            let mut hv = reqwest::header::HeaderValue::from_str(&v).map_err(|_| {
                (
                    TransportKind::Request,
                    format!("the value of the {k} header cannot be sent (control characters?)"),
                    None,
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
        let opened = pool.opened.load(Ordering::Relaxed);
        let resp = rb.send().await.map_err(|e| {
            // No connection was opened for this attempt: it went out on a reused one.
            let reused = pool.opened.load(Ordering::Relaxed) == opened;
            if reused && reset_before_answer(&e) {
                self.note_lost_race();
                (
                    TransportKind::Connect,
                    "the server reset the reused connection without reading the request"
                        .to_string(),
                    None,
                )
            } else {
                if reused && closed_before_answer(&e) {
                    // Maybe read by the server (not resent), but the same sign of a server
                    // closing connections right after answering.
                    self.note_lost_race();
                }
                with_status(classify(e), None)
            }
        })?;
        if let (Some(g), Some(_)) = (&gate, &first) {
            if resp.version() < reqwest::Version::HTTP_2 {
                self.http1_server.store(true, Ordering::Relaxed);
            }
            g.opened();
        }
        drop(first);
        let status = resp.status().as_u16();
        let headers = resp.headers();
        let date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        if let Some(secs) = headers
            .get("keep-alive")
            .and_then(|v| v.to_str().ok())
            .and_then(keep_alive_timeout)
        {
            self.note_idle_hint(secs);
        }
        let seen_headers = wire.then(|| resp.headers().clone());
        let body = read_limited(resp, self.config.max_response_bytes)
            .await
            .map_err(|f| with_status(f, Some(status)))?;
        let seen = seen_headers.map(|h| wire_answer(&h, &body));
        Ok((status, date, body, seen))
    }

    /// The server said it closes idle connections after `secs`: from now on this client's
    /// pools drop theirs before that (the lowest hint seen wins; pools are rebuilt once).
    fn note_idle_hint(&self, secs: u64) {
        let lowered = self
            .idle_hint
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur == 0 || secs < cur).then_some(secs)
            });
        if lowered.is_ok() {
            self.pool_generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A reused connection was closed under a request (the server closes connections right
    /// after answering, and its close came too late to be seen). The third such race within
    /// [`RACES_WITHIN`] attempts of the one before stops this client reusing connections (its
    /// pools are rebuilt keeping none idle): against such a server every reuse is a gamble
    /// that costs an attempt when lost, and a new connection per request is what it gives
    /// anyway. A server that keeps its connections never loses one this way (idle ones are
    /// dropped before its keep-alive limit), so a good server is not taken for one.
    fn note_lost_race(&self) {
        let now = self.stats.attempts.load(Ordering::Relaxed);
        let (streak, last) = &*self.races;
        let before = last.swap(now, Ordering::Relaxed);
        let n = if before != 0 && now - before <= RACES_WITHIN {
            streak.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            streak.store(1, Ordering::Relaxed);
            1
        };
        if n >= RACES_TO_STOP_REUSE && !self.no_reuse.swap(true, Ordering::AcqRel) {
            self.pool_generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// How long a pooled connection may stay idle: 50 s, or less than the server's hint
    /// (2 s less, at most half of it: the server's clock for it started a bit earlier).
    pub(crate) fn pool_idle_timeout(&self) -> Duration {
        let ours = Duration::from_secs(50);
        match self.idle_hint.load(Ordering::Acquire) {
            0 => ours,
            hint => {
                let h = hint as f64;
                ours.min(Duration::from_secs_f64((h - 2.0).max(h / 2.0)))
            }
        }
    }
}

/// Lost keep-alive races (each within [`RACES_WITHIN`] attempts of the one before) after
/// which a client stops reusing connections.
const RACES_TO_STOP_REUSE: u64 = 3;
const RACES_WITHIN: u64 = 100;

fn with_status((kind, message): (TransportKind, String), status: Option<u16>) -> SendFailure {
    (kind, message, status)
}

/// The `timeout=N` of a `Keep-Alive` header (`timeout=5, max=100`).
pub fn keep_alive_timeout(v: &str) -> Option<u64> {
    v.split(',').find_map(|part| {
        let (k, n) = part.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("timeout") {
            n.trim().parse::<u64>().ok().filter(|&n| n > 0)
        } else {
            None
        }
    })
}

/// The whole body, or `TooLarge` as soon as it is known to exceed `max` bytes (announced by
/// Content-Length, or once that many have arrived): nothing beyond `max` is kept, so memory
/// stays near the limit however much the server sends. Dropping the response closes its
/// connection.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    max: u64,
) -> Result<Bytes, (TransportKind, String)> {
    let too_large = || {
        (
            TransportKind::TooLarge,
            format!("the answer is longer than max_response_bytes ({max} bytes)"),
        )
    };
    let announced = resp.content_length();
    if announced.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    // One chunk (the usual case) is kept as it came, without a copy.
    let mut first: Option<Bytes> = None;
    let mut more: Option<BytesMut> = None;
    let mut len: u64 = 0;
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        len += chunk.len() as u64;
        if len > max {
            return Err(too_large());
        }
        match (&mut first, &mut more) {
            (None, _) => first = Some(chunk),
            (Some(f), None) => {
                let cap = announced.unwrap_or(2 * len).min(max) as usize;
                let mut b = BytesMut::with_capacity(cap.max(len as usize));
                b.extend_from_slice(f);
                b.extend_from_slice(&chunk);
                more = Some(b);
            }
            (Some(_), Some(b)) => b.extend_from_slice(&chunk),
        }
    }
    Ok(match more {
        Some(b) => b.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// The kind of a reqwest failure and what to say about it. The error's own text can include
/// the URL (with a GET query: the Signature): never used.
pub(crate) fn classify(e: reqwest::Error) -> (TransportKind, String) {
    if out_of_fds(&e) {
        return (
            TransportKind::FdLimit,
            "could not open a connection: too many open files (raise the process's file \
             limit or lower max_connections)"
                .into(),
        );
    }
    if handed_back_unsent(&e) {
        return (
            TransportKind::Connect,
            "the connection closed before the request was written".into(),
        );
    }
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

/// The causes of `e`, outermost first.
fn causes<'a>(
    e: &'a reqwest::Error,
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(e), |s| s.source())
}

/// EMFILE / ENFILE somewhere in the chain.
fn out_of_fds(e: &reqwest::Error) -> bool {
    causes(e).any(|s| {
        s.downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
            .is_some_and(|code| code == 24 || code == 23)
    })
}

/// hyper gave the request back unwritten: its connection closed before the request was taken
/// to be written (hyper-util's `Canceled` kind, which it retries itself on a reused connection
/// and reports when even a fresh connection closed first). Nothing of it reached the server.
/// Any other failure after the request was handed to a connection (a reset, an EOF before the
/// answer, hyper's own "canceled" of a request it had taken) may have reached it.
fn handed_back_unsent(e: &reqwest::Error) -> bool {
    causes(e).any(|s| {
        s.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(|h| !h.is_connect() && h.to_string() == "client error (Canceled)")
    })
}

/// The connection was reset (or found reset when writing) before any answer: the server closed
/// it with the request still unread in its socket (the keep-alive race: it closed a connection
/// it had answered on just as the next request arrived), so the request never reached the
/// service. A server that read the request and then closed without answering sends a FIN
/// instead ("connection closed before message completed"), which is not this: it may have
/// acted. Only asked about a failure before the answer's head, on a reused connection.
fn reset_before_answer(e: &reqwest::Error) -> bool {
    !e.is_connect()
        && !e.is_timeout()
        && causes(e).any(|s| {
            s.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                )
            })
        })
}

/// The connection was closed (a FIN) before the answer's head: hyper's "incomplete message".
fn closed_before_answer(e: &reqwest::Error) -> bool {
    causes(e).any(|s| s.to_string() == "connection closed before message completed")
}

/// The innermost cause (e.g. "Connection refused (os error 111)"), which never holds the URL.
fn source_hint(e: &reqwest::Error) -> String {
    match causes(e).last() {
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
    fn keep_alive_hints() {
        assert_eq!(keep_alive_timeout("timeout=5, max=1000"), Some(5));
        assert_eq!(keep_alive_timeout("max=3, Timeout = 30"), Some(30));
        assert_eq!(keep_alive_timeout("timeout=0"), None);
        assert_eq!(keep_alive_timeout("timeout=x"), None);
        assert_eq!(keep_alive_timeout("max=5"), None);
    }
}
