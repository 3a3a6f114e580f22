//! Criterion benchmarks of signing: v1 HmacSHA1, v1 HmacSHA256 and TC3-HMAC-SHA256 over the
//! request a `DescribeInstances` call with a filter sends. `cargo bench --bench sign`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::hint::black_box;
use tccvm_core::params as wire;
use tccvm_core::sign::{self, SignMethod, Tc3Input};

const KEY: &[u8] = b"Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const HOST: &str = "cvm.tencentcloudapi.com";

fn params() -> serde_json::Value {
    json!({
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Offset": 0,
        "Limit": 20,
    })
}

fn v1_pairs(method: SignMethod) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = vec![
        ("Action".into(), "DescribeInstances".into()),
        ("Nonce".into(), "11886".into()),
        ("Timestamp".into(), "1465185768".into()),
        ("Version".into(), "2017-03-12".into()),
        (
            "SecretId".into(),
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
        ),
        ("SignatureMethod".into(), method.as_str().into()),
        ("Region".into(), "ap-guangzhou".into()),
    ];
    pairs.extend(wire::flatten(&params()));
    pairs
}

fn bench_sign(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign");
    for method in [SignMethod::HmacSha1, SignMethod::HmacSha256] {
        let pairs = v1_pairs(method);
        g.bench_function(format!("v1 {} (POST form)", method.as_str()), |b| {
            b.iter(|| sign::v1_sign(method, black_box(KEY), "POST", HOST, "/", black_box(&pairs)))
        });
    }
    let body = wire::json_body(&params());
    let headers = [("content-type", "application/json"), ("host", HOST)];
    g.bench_function("TC3-HMAC-SHA256 (POST JSON)", |b| {
        b.iter(|| {
            sign::tc3_sign(
                "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                black_box(KEY),
                &Tc3Input {
                    http_method: "POST",
                    path: "/",
                    canonical_query: "",
                    headers: &headers,
                    payload: black_box(&body),
                    service: "cvm",
                    timestamp: 1_551_113_065,
                },
            )
        })
    });
    let query = wire::encode_pairs(&wire::flatten(&params()));
    let headers_get = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", HOST),
    ];
    g.bench_function("TC3-HMAC-SHA256 (GET query)", |b| {
        b.iter(|| {
            sign::tc3_sign(
                "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                black_box(KEY),
                &Tc3Input {
                    http_method: "GET",
                    path: "/",
                    canonical_query: black_box(&query),
                    headers: &headers_get,
                    payload: b"",
                    service: "cvm",
                    timestamp: 1_551_113_065,
                },
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
