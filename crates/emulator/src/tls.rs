//! HTTPS for the emulator (`Options::tls`): a CA and a server certificate signed by it, both
//! made at start (rcgen, ECDSA P-256), the CA written to a PEM file that clients verify
//! against (`Emulator::ca_bundle`). The leaf is not the CA: rustls refuses a CA certificate
//! used as the end entity. ALPN offers HTTP/2 and HTTP/1.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The emulator's TLS side: the acceptor and the CA bundle it wrote (removed on drop).
pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub ca_bundle: PathBuf,
    /// The process that wrote the file: a forked child leaves it to its parent.
    pid: u32,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("cannot make the emulator's {what}: {e}"))
}

impl Tls {
    /// A new CA, a server certificate for `names` (plus localhost, 127.0.0.1 and ::1) signed by
    /// it, and the CA written to a file of its own in the temporary directory.
    pub fn generate(names: &[String]) -> std::io::Result<Tls> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| invalid("CA", e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "tccvm emulator CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(|e| invalid("CA key", e))?;
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .map_err(|e| invalid("CA", e))?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut sans: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        for n in names {
            let n = n.trim_matches(|c| c == '[' || c == ']');
            if !n.is_empty() && n != "0.0.0.0" && n != "::" && !sans.iter().any(|s| s == n) {
                sans.push(n.to_string());
            }
        }
        let mut leaf_params =
            CertificateParams::new(sans).map_err(|e| invalid("certificate", e))?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "tccvm emulator");
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().map_err(|e| invalid("server key", e))?;
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| invalid("certificate", e))?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::DEFAULT_VERSIONS)
            .map_err(|e| invalid("TLS configuration", e))?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(leaf.der().to_vec()),
                    CertificateDer::from(ca_cert.der().to_vec()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .map_err(|e| invalid("TLS configuration", e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

        let ca_bundle = std::env::temp_dir().join(format!(
            "tccvm-emulator-ca-{}-{}.pem",
            std::process::id(),
            crate::random_string(12)
        ));
        std::fs::write(&ca_bundle, ca_cert.pem())?;
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_bundle,
            pid: std::process::id(),
        })
    }

    pub fn ca_bundle(&self) -> &Path {
        &self.ca_bundle
    }
}

impl Drop for Tls {
    fn drop(&mut self) {
        if self.pid == std::process::id() {
            let _ = std::fs::remove_file(&self.ca_bundle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_file_holds_one_ca_and_goes_with_the_emulator() {
        let t = Tls::generate(&["emulator.test".into()]).unwrap();
        let path = t.ca_bundle().to_path_buf();
        let pem = std::fs::read_to_string(&path).unwrap();
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1);
        assert!(!pem.contains("PRIVATE KEY"));
        drop(t);
        assert!(!path.exists());
    }
}
