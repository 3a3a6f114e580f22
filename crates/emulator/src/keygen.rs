//! Real OpenSSH RSA key pairs for CreateKeyPair, and public-key parsing for ImportKeyPair.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn put_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let trimmed: &[u8] = {
        let mut b = be;
        while b.len() > 1 && b[0] == 0 {
            b = &b[1..];
        }
        b
    };
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v = Vec::with_capacity(trimmed.len() + 1);
        v.push(0);
        v.extend_from_slice(trimmed);
        put_string(out, &v);
    } else {
        put_string(out, trimmed);
    }
}

/// A fresh RSA-2048 pair: (OpenSSH public key `ssh-rsa <base64>`, PKCS#1 PEM private key).
pub fn rsa_pair() -> Result<(String, String), String> {
    let mut rng = rsa::rand_core::OsRng;
    let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| e.to_string())?;
    let mut blob = vec![];
    put_string(&mut blob, b"ssh-rsa");
    put_mpint(&mut blob, &key.e().to_bytes_be());
    put_mpint(&mut blob, &key.n().to_bytes_be());
    let public = format!("ssh-rsa {}", B64.encode(blob));
    let private = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .map_err(|e| e.to_string())?
        .to_string();
    Ok((public, private))
}

/// Check an OpenSSH public key line: `<type> <base64 blob> [comment]`, the blob starting with
/// the same type string. Returns the normalised `<type> <blob>`.
pub fn parse_public(line: &str) -> Option<String> {
    let mut parts = line.split_whitespace();
    let kind = parts.next()?;
    let b64 = parts.next()?;
    if !matches!(
        kind,
        "ssh-rsa"
            | "ssh-ed25519"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "ssh-dss"
    ) {
        return None;
    }
    let blob = B64.decode(b64).ok()?;
    let len = u32::from_be_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    let inner = blob.get(4..4 + len)?;
    if inner != kind.as_bytes() || blob.len() < 4 + len + 8 {
        return None;
    }
    Some(format!("{kind} {b64}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_key_parses() {
        let (public, private) = super::rsa_pair().unwrap();
        assert!(public.starts_with("ssh-rsa AAAA"));
        assert!(private.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(super::parse_public(&public).is_some());
        assert!(super::parse_public("ssh-rsa notbase64").is_none());
        assert!(super::parse_public("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIG").is_none());
    }
}
