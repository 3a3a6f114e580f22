//! One accepted connection: the simulated network distance (`netem`), TLS with ALPN (`tls`),
//! then HTTP/1.1 (plain) or HTTP/1.1 and HTTP/2 (over TLS, hyper-util's auto builder), until
//! it closes or the server stops.

use crate::netem;
use crate::server::{Dropped, Resp, IDLE_SECS};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// How connections are carried: TLS or not, and the simulated round trip.
#[derive(Default)]
pub struct Wire {
    pub tls: Option<TlsAcceptor>,
    pub rtt: Duration,
    /// Connections accepted, and those of them that negotiated HTTP/2.
    pub opened: AtomicU64,
    pub opened_h2: AtomicU64,
}

/// Serve `stream` with `svc` until the connection closes or `stop` changes.
pub async fn serve<S>(stream: TcpStream, wire: &Wire, svc: S, stop: watch::Receiver<bool>)
where
    S: Service<Request<Incoming>, Response = Resp, Error = Dropped> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let _ = stream.set_nodelay(true);
    wire.opened.fetch_add(1, Ordering::Relaxed);
    if wire.rtt.is_zero() {
        over(stream, wire, svc, stop).await;
    } else {
        let (app, pumps) = netem::delayed(stream, wire.rtt);
        tokio::join!(over(app, wire, svc, stop), pumps);
    }
}

async fn over<I, S>(io: I, wire: &Wire, svc: S, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Resp, Error = Dropped> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let Some(acceptor) = &wire.tls else {
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .keep_alive(true)
            .header_read_timeout(Duration::from_secs(IDLE_SECS))
            .serve_connection(TokioIo::new(io), svc);
        tokio::pin!(conn);
        tokio::select! {
            _ = &mut conn => {}
            _ = stop.changed() => {}
        }
        return;
    };
    let tls = tokio::select! {
        accepted = acceptor.accept(io) => match accepted {
            Ok(t) => t,
            Err(_) => return,
        },
        _ = stop.changed() => return,
    };
    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
        wire.opened_h2.fetch_add(1, Ordering::Relaxed);
    }
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_secs(IDLE_SECS));
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection(TokioIo::new(tls), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = &mut conn => {}
        _ = stop.changed() => {}
    }
}
