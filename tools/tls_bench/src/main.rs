//! Full (and resumed) TLS 1.3 handshakes between a rustls client and a rustls server in memory,
//! with the certificate chain of tools/smoke_tls (ECDSA P-256, verified against its CA like
//! `verify=<CA bundle>` does). The server always uses aws-lc-rs and takes the post-quantum
//! hybrid X25519MLKEM768 when offered; what is compared is the time spent in the client's
//! calls, for each client: aws-lc-rs with the hybrid first (rustls's `prefer-post-quantum`),
//! aws-lc-rs as rustls builds it without that feature (X25519 first, the hybrid last),
//! aws-lc-rs with X25519 only, and ring (X25519; ring has no ML-KEM).
//! Cases are interleaved round by round so that load on the machine hits them alike.
use rustls::client::Resumption;
use rustls::crypto::{aws_lc_rs, ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../smoke_tls");

fn server_config() -> Arc<ServerConfig> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(format!("{DIR}/server.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{DIR}/server.key")).unwrap();
    let mut provider = aws_lc_rs::default_provider();
    provider
        .kx_groups
        .retain(|g| g.name() != rustls::NamedGroup::X25519MLKEM768);
    provider
        .kx_groups
        .insert(0, aws_lc_rs::kx_group::X25519MLKEM768);
    let mut c = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    c.send_tls13_tickets = 2;
    Arc::new(c)
}

fn client_config(provider: CryptoProvider, resume: bool) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(format!("{DIR}/ca.pem")).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let mut c = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.resumption = if resume {
        Resumption::default()
    } else {
        Resumption::disabled()
    };
    Arc::new(c)
}

/// One handshake; returns the time spent in the client's calls.
fn handshake(ccfg: &Arc<ClientConfig>, scfg: &Arc<ServerConfig>) -> Duration {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut spent = Duration::ZERO;
    let t = Instant::now();
    let mut c = ClientConnection::new(ccfg.clone(), name).unwrap();
    spent += t.elapsed();
    let mut s = ServerConnection::new(scfg.clone()).unwrap();
    let mut buf = Vec::with_capacity(8192);
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        let t = Instant::now();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        spent += t.elapsed();
        let mut r = &buf[..];
        while !r.is_empty() {
            s.read_tls(&mut r).unwrap();
        }
        s.process_new_packets().unwrap();
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        let t = Instant::now();
        let mut r = &buf[..];
        while !r.is_empty() {
            c.read_tls(&mut r).unwrap();
        }
        c.process_new_packets().unwrap();
        spent += t.elapsed();
    }
    spent
}

/// The key exchange group one full handshake agrees on.
fn negotiated(ccfg: &Arc<ClientConfig>, scfg: &Arc<ServerConfig>) -> String {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut c = ClientConnection::new(ccfg.clone(), name).unwrap();
    let mut s = ServerConnection::new(scfg.clone()).unwrap();
    let mut buf = Vec::new();
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        s.read_tls(&mut &buf[..]).unwrap();
        s.process_new_packets().unwrap();
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        c.read_tls(&mut &buf[..]).unwrap();
        c.process_new_packets().unwrap();
    }
    format!("{:?}", c.negotiated_key_exchange_group().map(|g| g.name()))
}

fn main() {
    let per_round: usize = std::env::args().nth(1).map_or(200, |a| a.parse().unwrap());
    let rounds = 15;
    let scfg = server_config();
    // What rustls's `prefer-post-quantum` feature gives: the hybrid first.
    let pq_first = || {
        let mut p = aws_lc_rs::default_provider();
        p.kx_groups
            .retain(|g| g.name() != rustls::NamedGroup::X25519MLKEM768);
        p.kx_groups.insert(0, aws_lc_rs::kx_group::X25519MLKEM768);
        p
    };
    let x25519_only = || {
        let mut p = aws_lc_rs::default_provider();
        p.kx_groups = vec![aws_lc_rs::kx_group::X25519];
        p
    };
    for resume in [false, true] {
        let cases: Vec<(&str, Arc<ClientConfig>)> = vec![
            (
                "aws-lc-rs (X25519MLKEM768)",
                client_config(pq_first(), resume),
            ),
            (
                "aws-lc-rs (rustls default)",
                client_config(aws_lc_rs::default_provider(), resume),
            ),
            (
                "aws-lc-rs (X25519 only)",
                client_config(x25519_only(), resume),
            ),
            (
                "ring (X25519)",
                client_config(ring::default_provider(), resume),
            ),
        ];
        for (name, c) in &cases {
            if !resume {
                println!("  {name:28} negotiates {}", negotiated(c, &scfg));
            }
            for _ in 0..50 {
                handshake(c, &scfg);
            }
        }
        // Every handshake's client-side time, in microseconds; the cases take turns each round.
        let mut per_case: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
        for _ in 0..rounds {
            for (i, (_, c)) in cases.iter().enumerate() {
                for _ in 0..per_round {
                    per_case[i].push(handshake(c, &scfg).as_secs_f64() * 1e6);
                }
            }
        }
        println!(
            "{} handshakes, client side, microseconds ({rounds} rounds of {per_round} each):",
            if resume {
                "resumed (TLS 1.3 ticket)"
            } else {
                "full"
            }
        );
        for (i, (name, _)) in cases.iter().enumerate() {
            let v = &mut per_case[i];
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let q = |f: f64| v[((v.len() - 1) as f64 * f) as usize];
            println!(
                "  {name:28} p10 {:6.1}  median {:6.1}  p90 {:7.1}",
                q(0.1),
                q(0.5),
                q(0.9)
            );
        }
    }
}
