//! Authentication exactly as the service does it: v1 (HmacSHA1 / HmacSHA256 over the sorted
//! parameters) and TC3-HMAC-SHA256 (canonical request over the headers as sent). Signatures are
//! recomputed with `tccvm_core::sign` and compared in constant time.

use super::util::ApiError;
use std::collections::HashMap;
use std::fmt;

/// One accepted credential. Temporary credentials carry a token and an expiry.
#[derive(Clone)]
pub struct Cred {
    pub secret_key: String,
    pub token: Option<String>,
    pub expires: Option<i64>,
}

impl fmt::Debug for Cred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cred")
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("expires", &self.expires)
            .finish()
    }
}

#[derive(Default)]
pub struct Creds {
    pub by_id: HashMap<String, Cred>,
    /// (secret id, nonce) -> timestamp of first use.
    nonces: HashMap<(String, String), i64>,
}

impl Creds {
    pub fn insert(&mut self, id: String, cred: Cred) {
        self.by_id.insert(id, cred);
    }

    /// Drop expired temporary credentials and nonces outside the window.
    pub fn purge(&mut self, now: i64) {
        self.by_id
            .retain(|_, c| c.expires.is_none_or(|e| e + 3600 > now));
        self.nonces.retain(|_, t| *t + 2 * WINDOW > now);
    }
}

/// Requests more than this many seconds off the server clock are refused.
pub const WINDOW: i64 = 300;

/// What a request presents to be authenticated.
pub enum Presented<'a> {
    V1 {
        http_method: &'a str,
        host: &'a str,
        path: &'a str,
        /// Every parameter as decoded, Signature included.
        pairs: &'a [(String, String)],
    },
    Tc3 {
        authorization: &'a str,
        http_method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a super::server::Headers<'a>,
        body: &'a [u8],
        timestamp: Option<&'a str>,
        token: Option<&'a str>,
    },
}

fn fail(code: &str, msg: &str) -> ApiError {
    ApiError::new(code, msg)
}

fn sig_failure() -> ApiError {
    fail(
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    )
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    tccvm_core::sign::signatures_equal(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b))
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

fn check_time(ts: Option<&str>, now: i64) -> Result<i64, ApiError> {
    let ts: i64 = ts.and_then(|t| t.trim().parse().ok()).ok_or_else(|| {
        fail(
            "MissingParameter",
            "The request is missing a valid Timestamp.",
        )
    })?;
    if (now - ts).abs() > WINDOW {
        return Err(fail(
            "AuthFailure.SignatureExpire",
            "The signature expired: the Timestamp is more than 5 minutes away from the server time.",
        ));
    }
    Ok(ts)
}

fn lookup<'c>(
    creds: &'c Creds,
    id: &str,
    token: Option<&str>,
    now: i64,
) -> Result<&'c Cred, ApiError> {
    let cred = creds.by_id.get(id).ok_or_else(|| {
        fail(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    })?;
    match (&cred.token, token) {
        (None, None) => {}
        (None, Some("")) => {}
        (Some(want), Some(got)) if ct_eq(want.as_bytes(), got.as_bytes()) => {}
        (Some(_), _) | (None, Some(_)) => {
            return Err(fail("AuthFailure.TokenFailure", "The token is invalid."))
        }
    }
    if cred.expires.is_some_and(|e| e <= now) {
        return Err(fail(
            "AuthFailure.TokenFailure",
            "The temporary credentials have expired.",
        ));
    }
    Ok(cred)
}

/// Authenticate a request. Returns the SecretId on success.
pub fn verify(creds: &mut Creds, p: &Presented<'_>, now: i64) -> Result<String, ApiError> {
    match p {
        Presented::V1 {
            http_method,
            host,
            path,
            pairs,
        } => {
            let ts = check_time(get(pairs, "Timestamp"), now)?;
            let nonce = get(pairs, "Nonce")
                .filter(|n| n.parse::<u64>().is_ok_and(|v| v > 0))
                .ok_or_else(|| fail("MissingParameter", "The request is missing a valid Nonce."))?;
            let id = get(pairs, "SecretId")
                .ok_or_else(|| fail("MissingParameter", "The request is missing SecretId."))?;
            let signature = get(pairs, "Signature")
                .ok_or_else(|| fail("MissingParameter", "The request is missing Signature."))?;
            let method = get(pairs, "SignatureMethod").unwrap_or("HmacSHA1");
            let cred = lookup(creds, id, get(pairs, "Token"), now)?;
            let unsigned: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != "Signature")
                .cloned()
                .collect();
            let expected = sig::v1(method, http_method, host, path, &unsigned, &cred.secret_key)
                .ok_or_else(|| {
                    fail(
                        "InvalidParameterValue",
                        "SignatureMethod must be HmacSHA1 or HmacSHA256.",
                    )
                })?;
            if !ct_eq(expected.as_bytes(), signature.as_bytes()) {
                return Err(sig_failure());
            }
            let key = (id.to_string(), nonce.to_string());
            if creds.nonces.contains_key(&key) {
                return Err(fail(
                    "AuthFailure.SignatureFailure",
                    "The Nonce has already been used: replayed requests are refused.",
                ));
            }
            creds.nonces.insert(key, ts);
            if creds.nonces.len() % 4096 == 0 {
                creds.purge(now);
            }
            Ok(id.to_string())
        }
        Presented::Tc3 {
            authorization,
            http_method,
            path,
            query,
            headers,
            body,
            timestamp,
            token,
        } => {
            let ts = check_time(*timestamp, now)?;
            let auth = sig::parse_tc3(authorization).ok_or_else(sig_failure)?;
            let cred = lookup(creds, &auth.secret_id, *token, now)?;
            let signs = |h: &str| auth.signed_headers.iter().any(|x| x == h);
            if !signs("content-type") || !signs("host") {
                return Err(fail(
                    "AuthFailure.SignatureFailure",
                    "SignedHeaders must include content-type and host.",
                ));
            }
            if auth.service != "cvm" || auth.date != tccvm_core::sign::utc_date(ts) {
                return Err(sig_failure());
            }
            let expected = sig::tc3(
                &cred.secret_key,
                http_method,
                path,
                query,
                headers,
                &auth.signed_headers,
                body,
                ts,
                &auth.date,
                &auth.service,
            )
            .ok_or_else(sig_failure)?;
            if !ct_eq(expected.as_bytes(), auth.signature.as_bytes()) {
                return Err(sig_failure());
            }
            Ok(auth.secret_id)
        }
    }
}

/// The host name of a Host header, lower case, without its port or a final dot.
fn host_name(host: &str) -> String {
    let h = host.trim();
    let name = match h.rsplit_once(':') {
        Some((n, port)) if !n.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => h,
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The Finance regions have their own domain (reference, "Request Structure" and the note
/// of each action: "If the common parameter Region is a Finance region, a domain name with
/// the Finance region needs to be specified, for example cvm.ap-shanghai-fsi.tencentcloudapi.com").
/// Both signature methods sign the host, so a request signed for a service domain that does
/// not serve its Region was signed for the wrong host: `AuthFailure.SignatureFailure`, naming
/// the domain to use. A Finance region's domain serves that region only. The other domains
/// serve every other region (the nearest or a named access point). A host outside the
/// service's domain (the emulator's own address, or any name put in front of it) is the
/// emulator itself and serves every region. Regions and domains come from the model.
pub fn check_signed_host(host: &str, region: &str) -> Result<(), ApiError> {
    let meta = &tccvm_core::model::model().metadata;
    let name = host_name(host);
    let root = meta
        .endpoint
        .split_once('.')
        .map_or(meta.endpoint.as_str(), |(_, r)| r);
    if name != root && !name.strip_suffix(root).is_some_and(|p| p.ends_with('.')) {
        return Ok(());
    }
    let domain = |r: &str| meta.regional_endpoint.replace("{region}", r);
    if meta.finance_regions.iter().any(|f| f == region) {
        let want = domain(region);
        if name != want {
            return Err(fail(
                "AuthFailure.SignatureFailure",
                &format!(
                    "The request for the Finance region `{region}` was signed for the host \
                     `{name}`; a Finance region is served only by its own domain: sign and \
                     send the request for `{want}`."
                ),
            ));
        }
    } else if let Some(f) = meta.finance_regions.iter().find(|f| domain(f) == name) {
        if !region.is_empty() {
            return Err(fail(
                "AuthFailure.SignatureFailure",
                &format!(
                    "The request for the region `{region}` was signed for the host `{name}`, \
                     which serves the Finance region `{f}` only: sign and send the request \
                     for `{}` or a domain of that region.",
                    meta.endpoint
                ),
            ));
        }
    }
    Ok(())
}

/// The bridge to `tccvm_core::sign` (the single implementation of signing).
mod sig {
    use tccvm_core::sign::{self, SignMethod};

    pub fn v1(
        sign_method: &str,
        http_method: &str,
        host: &str,
        path: &str,
        pairs: &[(String, String)],
        key: &str,
    ) -> Option<String> {
        let method = SignMethod::parse(sign_method).filter(|m| m.is_v1())?;
        sign::v1_sign(method, key.as_bytes(), http_method, host, path, pairs)
    }

    pub fn parse_tc3(h: &str) -> Option<sign::Tc3Authorization> {
        sign::tc3_parse_authorization(h)
            .filter(|a| a.algorithm == "TC3-HMAC-SHA256" && a.terminator == "tc3_request")
    }

    /// Recompute the signature over the headers named in SignedHeaders, as sent.
    #[allow(clippy::too_many_arguments)]
    pub fn tc3(
        key: &str,
        http_method: &str,
        path: &str,
        query: &str,
        headers: &crate::server::Headers<'_>,
        signed: &[String],
        body: &[u8],
        ts: i64,
        date: &str,
        service: &str,
    ) -> Option<String> {
        let mut chosen: Vec<(&str, &str)> = vec![];
        for name in signed {
            let v = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_ref())?;
            chosen.push((name.as_str(), v));
        }
        let unsigned = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("x-tc-content-sha256") && v == "UNSIGNED-PAYLOAD");
        let payload: &[u8] = if unsigned { b"UNSIGNED-PAYLOAD" } else { body };
        let canonical = sign::tc3_canonical_request(
            http_method,
            path,
            query,
            &sign::tc3_canonical_headers(&chosen),
            &sign::tc3_signed_headers(&chosen),
            payload,
        );
        let scope = format!("{date}/{service}/tc3_request");
        let sts = sign::tc3_string_to_sign(ts, &scope, &canonical);
        Some(sign::tc3_signature(key.as_bytes(), date, service, &sts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_reference_example() {
        // The worked example of the reference (with the ERRATA's corrected signature).
        let pairs: Vec<(String, String)> = [
            ("Action", "DescribeInstances"),
            ("InstanceIds.0", "ins-09dx96dg"),
            ("Limit", "20"),
            ("Nonce", "11886"),
            ("Offset", "0"),
            ("Region", "ap-guangzhou"),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"),
            ("Timestamp", "1465185768"),
            ("Version", "2017-03-12"),
            ("Signature", "EliP9YW3pW28FpsEdkXt/+WcGeI="),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let mut creds = Creds::default();
        creds.insert(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
            Cred {
                secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE".into(),
                token: None,
                expires: None,
            },
        );
        let p = Presented::V1 {
            http_method: "GET",
            host: "cvm.tencentcloudapi.com",
            path: "/",
            pairs: &pairs,
        };
        assert!(verify(&mut creds, &p, 1_465_185_768).is_ok());
        // replay
        assert_eq!(
            verify(&mut creds, &p, 1_465_185_768).unwrap_err().code,
            "AuthFailure.SignatureFailure"
        );
        // clock
        assert_eq!(
            verify(&mut creds, &p, 1_465_185_768 + 301)
                .unwrap_err()
                .code,
            "AuthFailure.SignatureExpire"
        );
    }

    #[test]
    fn finance_regions_only_at_their_own_domain() {
        let ok = |h: &str, r: &str| check_signed_host(h, r).is_ok();
        let code = |h: &str, r: &str| check_signed_host(h, r).map_err(|e| e.code);
        // the emulator's own addresses and other names serve every region
        for h in [
            "127.0.0.1:9000",
            "localhost",
            "[::1]:80",
            "cvm.internal.example",
            "",
        ] {
            assert!(ok(h, "ap-shanghai-fsi") && ok(h, "ap-guangzhou"), "{h}");
        }
        assert!(ok(
            "cvm.ap-shanghai-fsi.tencentcloudapi.com",
            "ap-shanghai-fsi"
        ));
        assert!(ok(
            "CVM.AP-Shanghai-FSI.tencentcloudapi.com.:443",
            "ap-shanghai-fsi"
        ));
        assert!(ok(
            "cvm.ap-shenzhen-fsi.tencentcloudapi.com",
            "ap-shenzhen-fsi"
        ));
        assert!(ok("cvm.tencentcloudapi.com", "ap-guangzhou"));
        assert!(ok("cvm.ap-beijing.tencentcloudapi.com:443", "ap-guangzhou"));
        // DescribeRegions takes no Region
        assert!(ok("cvm.ap-shanghai-fsi.tencentcloudapi.com", ""));
        for (h, r) in [
            ("cvm.tencentcloudapi.com", "ap-shanghai-fsi"),
            ("cvm.ap-shanghai.tencentcloudapi.com", "ap-shanghai-fsi"),
            ("cvm.ap-shenzhen-fsi.tencentcloudapi.com", "ap-shanghai-fsi"),
            ("tencentcloudapi.com", "ap-shenzhen-fsi"),
            ("cvm.ap-shanghai-fsi.tencentcloudapi.com", "ap-shanghai"),
            (
                "cvm.ap-shenzhen-fsi.tencentcloudapi.com:8443",
                "ap-guangzhou",
            ),
        ] {
            assert_eq!(
                code(h, r),
                Err("AuthFailure.SignatureFailure".into()),
                "{h} {r}"
            );
        }
        let msg = check_signed_host("cvm.tencentcloudapi.com", "ap-shanghai-fsi")
            .unwrap_err()
            .message;
        assert!(
            msg.contains("`cvm.ap-shanghai-fsi.tencentcloudapi.com`"),
            "{msg}"
        );
    }

    fn tc3_request(host: &str, signed: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
        let out = tccvm_core::sign::tc3_sign(
            "AKIDtest",
            b"secret",
            &tccvm_core::sign::Tc3Input {
                http_method: "POST",
                path: "/",
                canonical_query: "",
                headers: signed,
                payload: b"{}",
                service: "cvm",
                timestamp: 1_700_000_000,
            },
        );
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), host.to_string()),
            ("x-tc-action".to_string(), "DescribeZones".to_string()),
        ];
        (out.authorization, headers)
    }

    #[test]
    fn tc3_uses_host_and_signed_headers_as_sent() {
        let mut creds = Creds::default();
        creds.insert(
            "AKIDtest".into(),
            Cred {
                secret_key: "secret".into(),
                token: None,
                expires: None,
            },
        );
        let check = |creds: &mut Creds, auth: &str, headers: &[(String, String)]| {
            let headers: Vec<(&str, std::borrow::Cow<str>)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().into()))
                .collect();
            let headers = &headers[..];
            let p = Presented::Tc3 {
                authorization: auth,
                http_method: "POST",
                path: "/",
                query: "",
                headers,
                body: b"{}",
                timestamp: Some("1700000000"),
                token: None,
            };
            verify(creds, &p, 1_700_000_000)
        };
        let both = [
            ("content-type", "application/json"),
            ("host", "127.0.0.1:9000"),
        ];
        let (auth, headers) = tc3_request("127.0.0.1:9000", &both);
        assert_eq!(check(&mut creds, &auth, &headers).unwrap(), "AKIDtest");
        let (_, other_host) = tc3_request("127.0.0.1:9001", &both);
        assert_eq!(
            check(&mut creds, &auth, &other_host).unwrap_err().code,
            "AuthFailure.SignatureFailure"
        );
        let (auth_host_only, headers) =
            tc3_request("127.0.0.1:9000", &[("host", "127.0.0.1:9000")]);
        assert_eq!(
            check(&mut creds, &auth_host_only, &headers)
                .unwrap_err()
                .code,
            "AuthFailure.SignatureFailure"
        );
        let three = [
            ("content-type", "application/json"),
            ("host", "127.0.0.1:9000"),
            ("x-tc-action", "DescribeZones"),
        ];
        let (auth3, headers) = tc3_request("127.0.0.1:9000", &three);
        assert!(check(&mut creds, &auth3, &headers).is_ok());
    }
}
