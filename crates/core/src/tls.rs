//! TLS configurations, shared by all clients of a process: one rustls `ClientConfig` per
//! verification setting (a CA bundle keyed by its content), handed to every reqwest client.

use crate::config::Verify;
use crate::error::Error;
use crate::runtime::PerProcess;
use std::sync::{Arc, Mutex};

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
            // The bundle replaces the platform's trust store, as `verify=<path>` does in
            // requests and httpx (and `curl --cacert`): only its CAs are trusted, and the
            // system's ~150 roots are neither read nor parsed (~10 ms per process).
            let mut roots = rustls::RootCertStore::empty();
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| Error::Config(format!("invalid CA bundle {path:?}: {e}")))?;
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| Error::Config(format!("invalid CA bundle {path:?}: {e}")))?
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
