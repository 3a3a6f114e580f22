//! The TLS crypto provider is the one DEVELOPING.md ("TLS crypto provider") chose: aws-lc-rs,
//! offering the post-quantum hybrid X25519MLKEM768 first, then plain X25519 (also sent as a key
//! share, so a server without ML-KEM needs no extra round trip). ring has no ML-KEM, so this also
//! tells the provider apart.
use rustls::NamedGroup;
use tccvm_core::config::Verify;
use tccvm_core::tls::tls_config;

#[test]
fn aws_lc_rs_with_the_post_quantum_hybrid_first() {
    for verify in [Verify::Default, Verify::Off] {
        let config = tls_config(&verify).unwrap();
        let provider = config.crypto_provider();
        let groups: Vec<NamedGroup> = provider.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            &groups[..2],
            &[NamedGroup::X25519MLKEM768, NamedGroup::X25519],
            "{groups:?}"
        );
    }
}
