//! One request, ready to send: the common parameters, the encoded parameters and the signature
//! (v1 in the parameters, TC3 in the `Authorization` header), built afresh for every attempt
//! (new timestamp and nonce, current credentials). Also the ClientToken generator.

use crate::client::Client;
use crate::config::HttpMethod;
use crate::credentials::Credentials;
use crate::endpoint::{api_version, service};
use crate::params;
use crate::sign::{self, SignMethod};
use rand::Rng;
use serde_json::Value;

/// A random ClientToken (UUID v4 text).
pub fn new_client_token() -> String {
    let v: u128 = rand::random();
    let v =
        (v & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48) | (0x8000u128 << 48);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        let nibble = (v >> (124 - 4 * i)) & 0xF;
        out.push(char::from(HEX[nibble as usize]));
    }
    out
}

/// One request, ready to send.
pub struct Prepared {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl Client {
    /// The endpoint's URL with this (already percent-encoded) query.
    fn url_with_query(&self, query: &str) -> reqwest::Url {
        let mut url = self.url.clone();
        url.set_query(Some(query));
        url
    }

    pub(crate) fn prepare(
        &self,
        action: &str,
        params: &Value,
        creds: &Credentials,
        timestamp: i64,
    ) -> Prepared {
        let nonce: u32 = rand::rng().random_range(1..=i32::MAX as u32);
        let c = &self.config;
        let ep = &self.endpoint;
        let key = creds.secret_key.expose().as_bytes();
        match c.sign_method {
            SignMethod::HmacSha1 | SignMethod::HmacSha256 => {
                let mut pairs: Vec<(String, String)> = vec![
                    ("Action".into(), action.into()),
                    ("Nonce".into(), nonce.to_string()),
                    ("Timestamp".into(), timestamp.to_string()),
                    ("Version".into(), api_version().into()),
                    ("SecretId".into(), creds.secret_id.clone()),
                    ("SignatureMethod".into(), c.sign_method.as_str().into()),
                ];
                if let Some(r) = &c.region {
                    pairs.push(("Region".into(), r.clone()));
                }
                if let Some(t) = &creds.token {
                    pairs.push(("Token".into(), t.expose().to_string()));
                }
                if let Some(l) = &c.language {
                    pairs.push(("Language".into(), l.clone()));
                }
                let common = pairs.len();
                for (k, v) in params::flatten(params) {
                    // Common parameters are ours; a user value of the same name is dropped.
                    if pairs[..common].iter().any(|(ck, _)| *ck == k) || k == "Signature" {
                        continue;
                    }
                    pairs.push((k, v));
                }
                let http_method = c.http_method.as_str();
                let signature =
                    sign::v1_sign(c.sign_method, key, http_method, &ep.host, &ep.path, &pairs)
                        .unwrap_or_default();
                pairs.push(("Signature".into(), signature));
                let encoded = params::encode_pairs(&pairs);
                match c.http_method {
                    HttpMethod::Get => Prepared {
                        method: reqwest::Method::GET,
                        url: self.url_with_query(&encoded),
                        headers: vec![],
                        body: None,
                    },
                    HttpMethod::Post => Prepared {
                        method: reqwest::Method::POST,
                        url: self.url.clone(),
                        headers: vec![(
                            "content-type",
                            "application/x-www-form-urlencoded".to_string(),
                        )],
                        body: Some(encoded.into_bytes()),
                    },
                }
            }
            SignMethod::Tc3HmacSha256 => {
                let (content_type, query, payload) = match c.http_method {
                    HttpMethod::Get => (
                        "application/x-www-form-urlencoded",
                        params::encode_pairs(&params::flatten(params)),
                        Vec::new(),
                    ),
                    HttpMethod::Post => {
                        ("application/json", String::new(), params::json_body(params))
                    }
                };
                let headers = [("content-type", content_type), ("host", ep.host.as_str())];
                let out = sign::tc3_sign(
                    &creds.secret_id,
                    key,
                    &sign::Tc3Input {
                        http_method: c.http_method.as_str(),
                        path: &ep.path,
                        canonical_query: &query,
                        headers: &headers,
                        payload: &payload,
                        service: service(),
                        timestamp,
                    },
                );
                let mut h: Vec<(&'static str, String)> = vec![
                    ("authorization", out.authorization),
                    ("content-type", content_type.to_string()),
                    ("x-tc-action", action.to_string()),
                    ("x-tc-timestamp", timestamp.to_string()),
                    ("x-tc-version", api_version().to_string()),
                ];
                if let Some(r) = &c.region {
                    h.push(("x-tc-region", r.clone()));
                }
                if let Some(t) = &creds.token {
                    h.push(("x-tc-token", t.expose().to_string()));
                }
                if let Some(l) = &c.language {
                    h.push(("x-tc-language", l.clone()));
                }
                let url = if query.is_empty() {
                    self.url.clone()
                } else {
                    self.url_with_query(&query)
                };
                Prepared {
                    method: if c.http_method == HttpMethod::Get {
                        reqwest::Method::GET
                    } else {
                        reqwest::Method::POST
                    },
                    url,
                    headers: h,
                    body: if c.http_method == HttpMethod::Post {
                        Some(payload)
                    } else {
                        None
                    },
                }
            }
        }
    }
}
