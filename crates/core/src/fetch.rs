//! A plain GET to a service of the machine itself (the CVM metadata service that hands out the
//! role's credentials), on the core's HTTP stack: no proxy, no redirects, a connect timeout and
//! an overall deadline (name lookup included), and a cap on the body.

use crate::config::Verify;
use crate::error::TransportKind;
use crate::tls::tls_config;
use crate::transfer::{classify, read_limited};
use std::time::Duration;

/// `GET url`: the HTTP status and at most `max_bytes` of the body (a longer body is an error).
pub async fn get(
    url: &str,
    connect_timeout: Duration,
    timeout: Duration,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), (TransportKind, String)> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| (TransportKind::Request, format!("invalid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err((
            TransportKind::Request,
            format!("unsupported scheme {:?}", parsed.scheme()),
        ));
    }
    let tls = tls_config(&Verify::Default).map_err(|e| (TransportKind::Request, e.to_string()))?;
    let http = reqwest::Client::builder()
        .user_agent(concat!("tccvm/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| {
            (
                TransportKind::Request,
                format!("cannot build the HTTP client: {e}"),
            )
        })?;
    // The deadline covers everything, the name lookup included (the system resolver has no
    // time limit of its own).
    let fetch = async {
        let resp = http
            .get(parsed)
            .header("accept", "*/*")
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status().as_u16();
        let body = read_limited(resp, max_bytes as u64).await?.to_vec();
        Ok((status, body))
    };
    match tokio::time::timeout(timeout, fetch).await {
        Ok(r) => r,
        Err(_) => Err((TransportKind::Timeout, "the request timed out".into())),
    }
}
