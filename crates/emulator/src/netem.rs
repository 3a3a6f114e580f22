//! Simulated network distance (`Options::rtt`), a testing aid: every byte a connection carries
//! is delayed by half the round trip in each direction, and the first bytes a new connection
//! brings in by one round trip more (TCP's handshake, which loopback makes free), so a new TLS
//! connection costs what it costs over a real network. Bandwidth is not limited: what is sent
//! back to back arrives back to back, half a round trip later.

use bytes::Bytes;
use std::time::Duration;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Chunks in flight per direction before the sender waits (a bound on what one connection can
/// make the emulator hold).
const IN_FLIGHT: usize = 256;
const CHUNK: usize = 64 * 1024;

/// The stream the server reads and writes in place of `stream`, and the future that carries
/// bytes between the two with the delays (run it alongside the connection: it ends when both
/// directions have closed).
pub fn delayed(
    stream: TcpStream,
    rtt: Duration,
) -> (DuplexStream, impl std::future::Future<Output = ()> + Send) {
    let (app, wire) = tokio::io::duplex(CHUNK * 4);
    let (tcp_r, tcp_w) = stream.into_split();
    let (wire_r, wire_w) = tokio::io::split(wire);
    let half = rtt / 2;
    let pumps = async move {
        tokio::join!(
            carry(tcp_r, wire_w, half, rtt),
            carry(wire_r, tcp_w, half, Duration::ZERO)
        );
    };
    (app, pumps)
}

/// Copy `from` to `to`, each chunk written `delay` after it was read (the first `first_extra`
/// later still), in order; EOF is passed on the same way.
async fn carry<R, W>(mut from: R, mut to: W, delay: Duration, first_extra: Duration)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<(Instant, Option<Bytes>)>(IN_FLIGHT);
    let read = async move {
        let mut extra = first_extra;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = from.read(&mut buf).await.unwrap_or(0);
            let at = Instant::now() + delay + std::mem::take(&mut extra);
            let chunk = buf
                .get(..n)
                .filter(|c| !c.is_empty())
                .map(Bytes::copy_from_slice);
            let end = chunk.is_none();
            if tx.send((at, chunk)).await.is_err() || end {
                break;
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = rx.recv().await {
            // Not tokio's timer: its millisecond ticks made each chunk up to ~2 ms late.
            crate::precise_sleep::sleep_until(at).await;
            match chunk {
                Some(b) => {
                    if to.write_all(&b).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = to.shutdown().await;
                    break;
                }
            }
        }
    };
    tokio::join!(read, write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn each_direction_is_delayed_by_half_and_the_first_bytes_by_one_more() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rtt = Duration::from_millis(40);
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (mut app, pumps) = delayed(s, rtt);
            let echo = async move {
                let mut b = [0u8; 1];
                for _ in 0..2 {
                    app.read_exact(&mut b).await.unwrap();
                    app.write_all(&b).await.unwrap();
                }
                drop(app);
            };
            tokio::join!(echo, pumps);
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut b = [0u8; 1];
        let t = std::time::Instant::now();
        c.write_all(b"a").await.unwrap();
        c.read_exact(&mut b).await.unwrap();
        let first = t.elapsed();
        let t = std::time::Instant::now();
        c.write_all(b"b").await.unwrap();
        c.read_exact(&mut b).await.unwrap();
        let second = t.elapsed();
        drop(c);
        server.await.unwrap();
        assert!(
            first >= rtt * 2 && first < rtt * 2 + Duration::from_millis(15),
            "{first:?}"
        );
        assert!(
            second >= rtt && second < rtt + Duration::from_millis(15),
            "{second:?}"
        );
    }
}
