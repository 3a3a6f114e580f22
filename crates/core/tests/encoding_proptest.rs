//! Property tests (proptest) over the response parser, the flattening and encoding of
//! parameters, the model's validation and the signers, with arbitrary bytes and arbitrary JSON:
//! nothing panics, and what round-trips does.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tccvm_core::params as wire;
use tccvm_core::{answer, sign, validate};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        "[A-Za-z]{1,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[A-Za-z][A-Za-z0-9.]{0,8}|.{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[A-Z][A-Za-z]{0,10}", arb_json()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
}

fn leaves(v: &Value) -> usize {
    match v {
        Value::Null => 0,
        Value::Array(a) => a.iter().map(leaves).sum(),
        Value::Object(m) => m.values().map(leaves).sum(),
        _ => 1,
    }
}

fn action_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let m: Value = serde_json::from_str(tccvm_core::model::JSON).expect("the model is JSON");
        m["actions"]
            .as_object()
            .expect("actions")
            .keys()
            .cloned()
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn inspect_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = answer::inspect(&body);
    }

    #[test]
    fn inspect_never_panics_on_json(v in arb_json()) {
        let body = serde_json::to_vec(&v).unwrap_or_default();
        let r = answer::inspect(&body);
        // Ok exactly when there is a "Response" object whose RequestId/Error have the right types.
        if let Ok(head) = r {
            let resp = &v["Response"];
            prop_assert!(resp.is_object());
            prop_assert_eq!(head.request_id.as_deref(), resp["RequestId"].as_str());
            prop_assert_eq!(head.error.is_some(), resp.get("Error").is_some_and(|e| !e.is_null()));
        }
    }

    #[test]
    fn inspect_reads_envelopes(rid in ".{0,40}", code in proptest::option::of("[A-Za-z.]{1,40}"),
                               msg in ".{0,60}", extra in arb_json(), cut in 0usize..400) {
        let mut resp = json!({"RequestId": rid, "Extra": extra});
        if let Some(c) = &code {
            resp["Error"] = json!({"Code": c, "Message": msg});
        }
        let body = serde_json::to_vec(&json!({"Response": resp})).unwrap_or_default();
        let head = answer::inspect(&body);
        prop_assert!(head.is_ok());
        let head = head.unwrap_or_default();
        prop_assert_eq!(head.request_id.as_deref(), Some(rid.as_str()));
        prop_assert_eq!(head.error.map(|e| e.0), code);
        // Any strict prefix (a truncated answer) is never taken for the API's JSON.
        if cut < body.len() {
            prop_assert!(answer::inspect(&body[..cut]).is_err());
        }
    }

    #[test]
    fn inspect_checks_json_like_serde(v in arb_json(), pos in any::<prop::sample::Index>(),
                                      byte in any::<u8>(), op in 0u8..4) {
        // A damaged answer (one byte changed, removed or added) is taken for JSON exactly when
        // serde_json takes it for JSON (the transport's check of every answer).
        let mut body = serde_json::to_vec(&json!({"Response": {"RequestId": "r", "V": v}}))
            .unwrap_or_default();
        let k = pos.index(body.len());
        match op {
            0 => body[k] = byte,
            1 => { body.remove(k); }
            2 => body.insert(k, byte),
            _ => {}
        }
        let serde = serde_json::from_slice::<Value>(&body);
        // serde_json refuses a float beyond f64 (1e999); json.loads (and tccvm) take it as inf.
        prop_assume!(!serde.as_ref().is_err_and(|e| e.to_string().contains("number out of range")));
        let serde_ok = serde.is_ok();
        let ours = answer::inspect(&body);
        prop_assert_eq!(serde_ok, !matches!(ours, Err(answer::NotApi::NotJson(_))), "{:?}", ours);
    }

    #[test]
    fn flatten_counts_and_round_trips(params in arb_object()) {
        let pairs = wire::flatten(&params);
        prop_assert_eq!(pairs.len(), leaves(&params));
        let encoded = wire::encode_pairs(&pairs);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%' | b'=' | b'&')));
        prop_assert_eq!(form_urlencoded::parse(encoded.as_bytes()).into_owned().collect::<Vec<_>>(), pairs.iter()
            .filter(|(k, v)| !(k.is_empty() && v.is_empty()))
            .cloned().collect::<Vec<_>>());
    }

    #[test]
    fn flatten_never_panics(v in arb_json()) {
        let _ = wire::flatten(&v);
        let mut s = v.clone();
        wire::strip_nulls(&mut s);
        let _ = wire::flatten(&s);
    }

    #[test]
    fn json_body_round_trips(params in arb_object()) {
        let body = wire::json_body(&params);
        let back: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut stripped = params.clone();
        wire::strip_nulls(&mut stripped);
        prop_assert_eq!(back, stripped);
    }

    #[test]
    fn validate_never_panics(idx in any::<prop::sample::Index>(), v in arb_json(), o in arb_object()) {
        let names = action_names();
        let a = idx.get(names);
        let _ = validate::validate(a, &v);
        let _ = validate::validate(a, &o);
        let _ = validate::validate("NoSuchAction", &o);
    }

    #[test]
    fn signers_never_panic(key in prop::collection::vec(any::<u8>(), 0..64), params in arb_object(),
                           host in ".{0,20}", path in ".{0,20}", ts in any::<i64>()) {
        let pairs = wire::flatten(&params);
        for m in [sign::SignMethod::HmacSha1, sign::SignMethod::HmacSha256] {
            let _ = sign::v1_sign(m, &key, "POST", &host, &path, &pairs);
        }
        let body = wire::json_body(&params);
        let _ = sign::tc3_sign("AKID", &key, &sign::Tc3Input {
            http_method: "POST",
            path: &path,
            canonical_query: "",
            headers: &[("content-type", "application/json"), ("host", &host)],
            payload: &body,
            service: "cvm",
            timestamp: ts,
        });
    }
}
