//! Request signing for Tencent Cloud API 3.0: v1 (`HmacSHA1`, `HmacSHA256`) and
//! `TC3-HMAC-SHA256`.
//!
//! Pure functions, no I/O, no clock: the caller supplies timestamps and nonces. The client signs
//! with these functions and the emulator verifies by recomputing with the same ones. (TC3
//! signing keys are memoized per process: see `signing_keys`.)
//!
//! v1: string to sign = `METHOD + host + path + "?" + k=v&...` with the parameters sorted by
//! name (byte order) and the values raw (not URL-encoded); signature = base64(HMAC(key, s)).
//!
//! TC3: canonical request = `METHOD\npath\nquery\ncanonical headers\nsigned headers\nhex(sha256(payload))`;
//! string to sign = `TC3-HMAC-SHA256\n<timestamp>\n<date>/<service>/tc3_request\nhex(sha256(canonical request))`;
//! key chain: `HMAC("TC3"+secret, date)` -> `HMAC(_, service)` -> `HMAC(_, "tc3_request")`;
//! signature = hex(HMAC(signing key, string to sign)).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fmt;

/// The TC3 algorithm name, as it appears in the string to sign and the Authorization header.
pub const TC3_ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The three signature methods the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignMethod {
    HmacSha1,
    HmacSha256,
    Tc3HmacSha256,
}

impl SignMethod {
    /// Parse the name used by the API and by `tccvm.Client(sign_method=...)`.
    pub fn parse(name: &str) -> Option<SignMethod> {
        match name {
            "HmacSHA1" => Some(SignMethod::HmacSha1),
            "HmacSHA256" => Some(SignMethod::HmacSha256),
            "TC3-HMAC-SHA256" => Some(SignMethod::Tc3HmacSha256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignMethod::HmacSha1 => "HmacSHA1",
            SignMethod::HmacSha256 => "HmacSHA256",
            SignMethod::Tc3HmacSha256 => TC3_ALGORITHM,
        }
    }

    pub fn is_v1(self) -> bool {
        !matches!(self, SignMethod::Tc3HmacSha256)
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for Hmac.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> ! {
    // Hmac::new_from_slice only fails for fixed-key-length MACs, which HMAC is not.
    unreachable!("HMAC accepts keys of any length")
}

/// Lower-case hex of SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

// ---------------------------------------------------------------------------------------------
// v1
// ---------------------------------------------------------------------------------------------

/// The v1 string to sign: `METHOD + host + path + "?" + k1=v1&k2=v2...`, parameters sorted by
/// name (byte order, stable), values raw. `params` must contain every parameter that goes on
/// the wire (common ones included) except `Signature`.
pub fn v1_string_to_sign<K, V>(method: &str, host: &str, path: &str, params: &[(K, V)]) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "Signature")
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut s = String::with_capacity(
        method.len()
            + host.len()
            + path.len()
            + 1
            + sorted
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum::<usize>(),
    );
    s.push_str(&method.to_ascii_uppercase());
    s.push_str(host);
    s.push_str(if path.is_empty() { "/" } else { path });
    s.push('?');
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// The v1 signature of a string to sign: base64(HMAC-SHA1 or HMAC-SHA256). `method` must be a
/// v1 method; for `Tc3HmacSha256` this returns `None`.
pub fn v1_signature(method: SignMethod, secret_key: &[u8], string_to_sign: &str) -> Option<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    match method {
        SignMethod::HmacSha1 => {
            Some(engine.encode(hmac_sha1(secret_key, string_to_sign.as_bytes())))
        }
        SignMethod::HmacSha256 => {
            Some(engine.encode(hmac_sha256(secret_key, string_to_sign.as_bytes())))
        }
        SignMethod::Tc3HmacSha256 => None,
    }
}

/// Convenience: v1 string to sign and signature in one step.
pub fn v1_sign<K, V>(
    method: SignMethod,
    secret_key: &[u8],
    http_method: &str,
    host: &str,
    path: &str,
    params: &[(K, V)],
) -> Option<String>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let s = v1_string_to_sign(http_method, host, path, params);
    v1_signature(method, secret_key, &s)
}

// ---------------------------------------------------------------------------------------------
// TC3
// ---------------------------------------------------------------------------------------------

/// Canonical headers: `name:value\n` for each header, names lower-cased, values trimmed, in the
/// order given (the caller passes them in signed order, i.e. sorted by name).
pub fn tc3_canonical_headers<N, V>(headers: &[(N, V)]) -> String
where
    N: AsRef<str>,
    V: AsRef<str>,
{
    let mut s = String::new();
    for (n, v) in headers {
        s.push_str(&n.as_ref().to_ascii_lowercase());
        s.push(':');
        s.push_str(v.as_ref().trim());
        s.push('\n');
    }
    s
}

/// Signed headers: the lower-cased names joined with `;`, in the order given.
pub fn tc3_signed_headers<N, V>(headers: &[(N, V)]) -> String
where
    N: AsRef<str>,
{
    headers
        .iter()
        .map(|(n, _)| n.as_ref().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(";")
}

/// The TC3 canonical request. `canonical_query` is the query string exactly as sent (empty for
/// POST); `canonical_headers` comes from [`tc3_canonical_headers`] (with its trailing newline).
pub fn tc3_canonical_request(
    http_method: &str,
    path: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload: &[u8],
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        http_method.to_ascii_uppercase(),
        if path.is_empty() { "/" } else { path },
        canonical_query,
        canonical_headers,
        signed_headers,
        sha256_hex(payload)
    )
}

/// The UTC date (`YYYY-MM-DD`) of a Unix timestamp, as used in the credential scope.
pub fn utc_date(timestamp: i64) -> String {
    let days = timestamp.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// (year, month, day) of a count of days since 1970-01-01 (Howard Hinnant's days-to-civil
/// algorithm). Shared with the emulator's timestamps.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The credential scope `<UTC date>/<service>/tc3_request`.
pub fn tc3_credential_scope(timestamp: i64, service: &str) -> String {
    format!("{}/{}/tc3_request", utc_date(timestamp), service)
}

/// The TC3 string to sign.
pub fn tc3_string_to_sign(
    timestamp: i64,
    credential_scope: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        TC3_ALGORITHM,
        timestamp,
        credential_scope,
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The derived TC3 signing key for a date (`YYYY-MM-DD`) and service.
pub fn tc3_signing_key(secret_key: &[u8], date: &str, service: &str) -> [u8; 32] {
    if let Some(key) = signing_keys::get(secret_key, date, service) {
        return key;
    }
    let key = derive_tc3_signing_key(secret_key, date, service);
    signing_keys::put(secret_key, date, service, key);
    key
}

fn derive_tc3_signing_key(secret_key: &[u8], date: &str, service: &str) -> [u8; 32] {
    let mut k = Vec::with_capacity(3 + secret_key.len());
    k.extend_from_slice(b"TC3");
    k.extend_from_slice(secret_key);
    let k_date = hmac_sha256(&k, date.as_bytes());
    zeroize::Zeroize::zeroize(&mut k);
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    hmac_sha256(&k_service, b"tc3_request")
}

/// The last few TC3 signing keys derived in this process: a key depends only on the secret, the
/// UTC date and the service, so a client (and the emulator checking it) derives it once a day
/// instead of running three HMACs per request. Memoization only: the functions stay pure.
/// Never blocks (a busy cache is passed over) and is per process (a forked child never waits
/// for a lock its parent held); the secrets and keys it holds are wiped when evicted.
mod signing_keys {
    use crate::runtime::PerProcess;
    use std::sync::Mutex;
    use zeroize::Zeroizing;

    const ENTRIES: usize = 8;

    struct Entry {
        secret: Zeroizing<Vec<u8>>,
        date: String,
        service: String,
        key: Zeroizing<[u8; 32]>,
    }

    static CACHE: PerProcess<Mutex<Vec<Entry>>> = PerProcess::new();

    pub(super) fn get(secret: &[u8], date: &str, service: &str) -> Option<[u8; 32]> {
        let cache = CACHE.get().try_lock().ok()?;
        cache
            .iter()
            .find(|e| e.date == date && e.service == service && e.secret.as_slice() == secret)
            .map(|e| *e.key)
    }

    pub(super) fn put(secret: &[u8], date: &str, service: &str, key: [u8; 32]) {
        let Ok(mut cache) = CACHE.get().try_lock() else {
            return;
        };
        if cache.len() >= ENTRIES {
            cache.remove(0);
        }
        cache.push(Entry {
            secret: Zeroizing::new(secret.to_vec()),
            date: date.to_string(),
            service: service.to_string(),
            key: Zeroizing::new(key),
        });
    }

    #[cfg(test)]
    pub(super) fn len() -> usize {
        CACHE.get().lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// The TC3 signature (lower-case hex) of a string to sign.
pub fn tc3_signature(secret_key: &[u8], date: &str, service: &str, string_to_sign: &str) -> String {
    let key = tc3_signing_key(secret_key, date, service);
    hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value.
pub fn tc3_authorization(
    secret_id: &str,
    credential_scope: &str,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "{TC3_ALGORITHM} Credential={secret_id}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// Everything needed to sign one TC3 request.
#[derive(Debug, Clone)]
pub struct Tc3Input<'a> {
    pub http_method: &'a str,
    pub path: &'a str,
    pub canonical_query: &'a str,
    /// In signed order (sorted by lower-cased name), e.g. `content-type`, `host`.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
    pub service: &'a str,
    pub timestamp: i64,
}

/// The output of [`tc3_sign`]; `authorization` is the header value.
#[derive(Clone)]
pub struct Tc3Output {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub credential_scope: String,
    pub signed_headers: String,
    pub signature: String,
    pub authorization: String,
}

impl fmt::Debug for Tc3Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tc3Output")
            .field("credential_scope", &self.credential_scope)
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// Sign a TC3 request in one step.
pub fn tc3_sign(secret_id: &str, secret_key: &[u8], input: &Tc3Input<'_>) -> Tc3Output {
    let canonical_headers = tc3_canonical_headers(input.headers);
    let signed_headers = tc3_signed_headers(input.headers);
    let canonical_request = tc3_canonical_request(
        input.http_method,
        input.path,
        input.canonical_query,
        &canonical_headers,
        &signed_headers,
        input.payload,
    );
    let date = utc_date(input.timestamp);
    let credential_scope = format!("{}/{}/tc3_request", date, input.service);
    let string_to_sign = tc3_string_to_sign(input.timestamp, &credential_scope, &canonical_request);
    let signature = tc3_signature(secret_key, &date, input.service, &string_to_sign);
    let authorization =
        tc3_authorization(secret_id, &credential_scope, &signed_headers, &signature);
    Tc3Output {
        canonical_request,
        string_to_sign,
        credential_scope,
        signed_headers,
        signature,
        authorization,
    }
}

/// A parsed `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Tc3Authorization {
    pub algorithm: String,
    pub secret_id: String,
    /// `<date>`, `<service>`, and the terminator (`tc3_request`) of the credential scope.
    pub date: String,
    pub service: String,
    pub terminator: String,
    /// Lower-case header names in signed order.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Tc3Authorization {
    pub fn credential_scope(&self) -> String {
        format!("{}/{}/{}", self.date, self.service, self.terminator)
    }
    pub fn signed_headers_joined(&self) -> String {
        self.signed_headers.join(";")
    }
}

impl fmt::Debug for Tc3Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tc3Authorization")
            .field("algorithm", &self.algorithm)
            .field("secret_id", &self.secret_id)
            .field("date", &self.date)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// Parse `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b,
/// Signature=<hex>`. Whitespace around the commas is tolerated; the three fields may come in
/// any order. Returns `None` when anything is missing or malformed.
pub fn tc3_parse_authorization(header: &str) -> Option<Tc3Authorization> {
    let header = header.trim();
    let (algorithm, rest) = header.split_once(' ')?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let slot = match k.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(v.trim());
    }
    let credential = credential?;
    // The secret id cannot contain '/', the scope is exactly three segments.
    let mut it = credential.rsplitn(4, '/');
    let terminator = it.next()?;
    let service = it.next()?;
    let date = it.next()?;
    let secret_id = it.next()?;
    if secret_id.is_empty() || date.is_empty() || service.is_empty() {
        return None;
    }
    let signed = signed?;
    let signed_headers: Vec<String> = signed.split(';').map(|s| s.trim().to_string()).collect();
    if signed_headers.iter().any(|s| s.is_empty()) {
        return None;
    }
    let signature = signature?;
    if signature.is_empty() {
        return None;
    }
    Some(Tc3Authorization {
        algorithm: algorithm.to_string(),
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        terminator: terminator.to_string(),
        signed_headers,
        signature: signature.to_string(),
    })
}

/// Constant-time comparison of two signatures (for verifiers).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const V1_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    fn seed_params() -> Vec<(&'static str, &'static str)> {
        // Deliberately unsorted: sorting is the function's job.
        vec![
            ("Version", "2017-03-12"),
            ("Action", "DescribeInstances"),
            ("SecretId", V1_ID),
            ("Timestamp", "1465185768"),
            ("Nonce", "11886"),
            ("Region", "ap-guangzhou"),
            ("InstanceIds.0", "ins-09dx96dg"),
            ("Offset", "0"),
            ("Limit", "20"),
        ]
    }

    #[test]
    fn v1_seed_worked_example() {
        let s = v1_string_to_sign("GET", "cvm.tencentcloudapi.com", "/", &seed_params());
        assert_eq!(
            s,
            "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12"
        );
        let sig = v1_signature(SignMethod::HmacSha1, V1_KEY.as_bytes(), &s);
        assert_eq!(sig.as_deref(), Some("EliP9YW3pW28FpsEdkXt/+WcGeI="));
        let sig2 = v1_sign(
            SignMethod::HmacSha1,
            V1_KEY.as_bytes(),
            "get",
            "cvm.tencentcloudapi.com",
            "/",
            &seed_params(),
        );
        assert_eq!(sig2.as_deref(), Some("EliP9YW3pW28FpsEdkXt/+WcGeI="));
    }

    #[test]
    fn tc3_signing_keys_from_the_cache_are_the_derived_ones() {
        // More combinations than the cache holds, each asked for twice (the second from the
        // cache unless evicted meanwhile): always the key derived afresh, never another's.
        let secrets: [&[u8]; 3] = [b"secret-a", b"secret-b", b"secret-a\0"];
        let dates = ["2026-11-29", "2026-11-30", "2026-12-01"];
        let services = ["cvm", "cbs"];
        for round in 0..2 {
            for secret in secrets {
                for date in dates {
                    for service in services {
                        let want = derive_tc3_signing_key(secret, date, service);
                        assert_eq!(
                            tc3_signing_key(secret, date, service),
                            want,
                            "round {round}: {date} {service}"
                        );
                        assert_eq!(tc3_signing_key(secret, date, service), want);
                    }
                }
            }
        }
        assert!(signing_keys::len() <= 8);
        assert!(signing_keys::len() > 0);
    }

    #[test]
    fn v1_ignores_signature_param_and_sorts_by_bytes() {
        let mut p = seed_params();
        p.push(("Signature", "whatever"));
        let s = v1_string_to_sign("GET", "h", "/", &p);
        assert!(!s.contains("Signature"));
        // Upper-case sorts before lower-case, '.' before digits.
        let s = v1_string_to_sign(
            "POST",
            "h",
            "/",
            &[("b", "1"), ("B", "2"), ("A.1", "3"), ("A0", "4")],
        );
        assert_eq!(s, "POSTh/?A.1=3&A0=4&B=2&b=1");
    }

    #[test]
    fn v1_sha256_known_answer() {
        // HMAC-SHA256 of the seed string, computed independently (Python hmac module).
        let s = v1_string_to_sign("GET", "cvm.tencentcloudapi.com", "/", &seed_params());
        let sig = v1_signature(SignMethod::HmacSha256, V1_KEY.as_bytes(), &s);
        assert_eq!(sig.as_deref(), Some(V1_SHA256_EXPECTED));
        assert_eq!(v1_signature(SignMethod::Tc3HmacSha256, b"k", "s"), None);
    }
    const V1_SHA256_EXPECTED: &str = "bR/zQ3QqOmcEYeRv71IzG/NxfisUDgy9cqRMQC+UB5g=";

    // The worked example of the vendor's public "Signature v3" documentation (its key and id
    // are published with the trailing asterisks).
    const TC3_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
    const TC3_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3*******";
    const TC3_PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    #[test]
    fn tc3_vendor_documentation_example() {
        assert_eq!(
            sha256_hex(TC3_PAYLOAD.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let headers = [
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cvm.tencentcloudapi.com"),
        ];
        let out = tc3_sign(
            TC3_ID,
            TC3_KEY.as_bytes(),
            &Tc3Input {
                http_method: "POST",
                path: "/",
                canonical_query: "",
                headers: &headers,
                payload: TC3_PAYLOAD.as_bytes(),
                service: "cvm",
                timestamp: 1551113065,
            },
        );
        assert_eq!(
            out.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            out.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            out.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        assert_eq!(
            out.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        let parsed = tc3_parse_authorization(&out.authorization).unwrap();
        assert_eq!(parsed.algorithm, TC3_ALGORITHM);
        assert_eq!(parsed.secret_id, TC3_ID);
        assert_eq!(parsed.date, "2019-02-25");
        assert_eq!(parsed.service, "cvm");
        assert_eq!(parsed.terminator, "tc3_request");
        assert_eq!(parsed.signed_headers, vec!["content-type", "host"]);
        assert_eq!(parsed.signature, out.signature);
        assert_eq!(parsed.credential_scope(), out.credential_scope);
        assert!(!format!("{parsed:?}").contains(&out.signature));
    }

    #[test]
    fn parse_authorization_rejects_garbage() {
        for bad in [
            "",
            "TC3-HMAC-SHA256",
            "TC3-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=id/d/s/tc3_request, SignedHeaders=, Signature=x",
            "TC3-HMAC-SHA256 Credential=id/d/s/tc3_request, SignedHeaders=host",
            "TC3-HMAC-SHA256 Credential=id/d/s/tc3_request, SignedHeaders=host, Signature=x, Signature=y",
            "TC3-HMAC-SHA256 Credential=id/d/s/tc3_request, Foo=1, Signature=x",
        ] {
            assert!(tc3_parse_authorization(bad).is_none(), "{bad}");
        }
        // Tolerant of spacing.
        let p = tc3_parse_authorization(
            "TC3-HMAC-SHA256 Credential=id/2020-01-01/cvm/tc3_request,SignedHeaders=host,Signature=ab",
        )
        .unwrap();
        assert_eq!(p.secret_id, "id");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1551113065), "2019-02-25");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(4_102_444_799), "2099-12-31");
        assert_eq!(utc_date(-1), "1969-12-31");
    }

    #[test]
    fn sign_method_names() {
        for m in [
            SignMethod::HmacSha1,
            SignMethod::HmacSha256,
            SignMethod::Tc3HmacSha256,
        ] {
            assert_eq!(SignMethod::parse(m.as_str()), Some(m));
        }
        assert_eq!(SignMethod::parse("hmacsha1"), None);
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "ab"));
    }
}
