//! Where requests go: the endpoint a client resolves from its `endpoint` and `region` settings,
//! with the defaults (the service host, the finance regions' own hosts) read from the service
//! model's metadata.

use crate::error::Error;
use crate::model::model;

/// The service name, as signed (TC3 credential scope).
pub fn service() -> &'static str {
    &model().metadata.service
}

/// The API version sent with every request.
pub fn api_version() -> &'static str {
    &model().metadata.api_version
}

/// The default host: the service's, for every region that has no host of its own.
pub fn default_host() -> &'static str {
    &model().metadata.endpoint
}

/// Whether `region` is served by its own host (the finance regions of the model's metadata).
pub fn has_own_host(region: &str) -> bool {
    model().metadata.finance_regions.iter().any(|r| r == region)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub host: String,
    pub path: String,
    pub https: bool,
}

/// Resolve the endpoint: a host, or an http(s) URL; default per region.
pub fn resolve_endpoint(endpoint: Option<&str>, region: Option<&str>) -> Result<Endpoint, Error> {
    let raw = match endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => e.to_string(),
        None => match region {
            Some(r) if has_own_host(r) => model().metadata.regional_endpoint.replace("{region}", r),
            _ => default_host().to_string(),
        },
    };
    let with_scheme = if raw.contains("://") {
        raw.clone()
    } else {
        format!("https://{raw}")
    };
    let url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| Error::Config(format!("invalid endpoint {raw:?}: {e}")))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        s => {
            return Err(Error::Config(format!(
                "invalid endpoint {raw:?}: scheme {s:?} (use http or https)"
            )))
        }
    };
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::Config(format!(
            "invalid endpoint {raw:?}: no query, fragment or user info allowed"
        )));
    }
    let host_name = url
        .host_str()
        .ok_or_else(|| Error::Config(format!("invalid endpoint {raw:?}: no host")))?;
    let host = match url.port() {
        Some(p) => format!("{host_name}:{p}"),
        None => host_name.to_string(),
    };
    let path = if url.path().is_empty() {
        "/".to_string()
    } else {
        url.path().to_string()
    };
    let scheme = if https { "https" } else { "http" };
    Ok(Endpoint {
        url: format!("{scheme}://{host}{path}"),
        host,
        path,
        https,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = resolve_endpoint(None, Some("ap-guangzhou")).unwrap();
        assert_eq!(e.url, "https://cvm.tencentcloudapi.com/");
        assert_eq!(e.host, "cvm.tencentcloudapi.com");
        let e = resolve_endpoint(None, Some("ap-shanghai-fsi")).unwrap();
        assert_eq!(e.host, "cvm.ap-shanghai-fsi.tencentcloudapi.com");
        let e = resolve_endpoint(None, Some("ap-shenzhen-fsi")).unwrap();
        assert_eq!(e.url, "https://cvm.ap-shenzhen-fsi.tencentcloudapi.com/");
        let e = resolve_endpoint(Some("cvm.internal.example"), None).unwrap();
        assert_eq!(e.url, "https://cvm.internal.example/");
        let e = resolve_endpoint(Some("http://127.0.0.1:9000"), None).unwrap();
        assert_eq!(
            (e.url.as_str(), e.host.as_str(), e.path.as_str(), e.https),
            ("http://127.0.0.1:9000/", "127.0.0.1:9000", "/", false)
        );
        let e = resolve_endpoint(Some("https://h:443/"), None).unwrap();
        assert_eq!(e.host, "h");
        assert!(resolve_endpoint(Some("ftp://h"), None).is_err());
        assert!(resolve_endpoint(Some("http://h/?a=1"), None).is_err());
        assert!(resolve_endpoint(Some("http://"), None).is_err());
    }

    #[test]
    fn defaults_come_from_the_model() {
        assert_eq!(service(), "cvm");
        assert_eq!(api_version(), "2017-03-12");
        assert_eq!(default_host(), "cvm.tencentcloudapi.com");
        assert!(has_own_host("ap-shanghai-fsi") && has_own_host("ap-shenzhen-fsi"));
        assert!(!has_own_host("ap-guangzhou") && !has_own_host(""));
    }
}
