//! Control operations, shared by the Python methods and `POST /_emulator/<op>` (JSON).

use super::faults::{Kind, Rule};
use super::state::{IdGen, World};
use super::util::unix_now;
use super::{metadata, Shared};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;
use std::time::Duration;

fn lock<T>(m: &std::sync::Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn secs(v: &Value, what: &str) -> Result<Duration, String> {
    let f = v
        .as_f64()
        .filter(|f| f.is_finite() && *f >= 0.0 && *f < 86_400.0)
        .ok_or_else(|| format!("{what} must be a number of seconds (0 to 86400)"))?;
    Ok(Duration::from_secs_f64(f))
}

fn str_list(v: Option<&Value>) -> Result<Option<Vec<String>>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .ok_or_else(|| "actions must be strings".to_string())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err("actions must be a list of action names".into()),
    }
}

pub fn stats(shared: &Shared) -> Value {
    let world = lock(&shared.world);
    let by_action: BTreeMap<String, u64> = lock(&shared.by_action).clone().into_iter().collect();
    let by_token: BTreeMap<String, u64> = world.launches_by_token.clone().into_iter().collect();
    let faults: BTreeMap<&str, u64> = lock(&shared.faults).injected.clone().into_iter().collect();
    let undocumented: BTreeMap<String, Vec<String>> =
        lock(&shared.undocumented).clone().into_iter().collect();
    json!({
        "requests": shared.requests.load(Ordering::Relaxed),
        "requests_by_action": by_action,
        "launches": world.launches_total,
        "launches_by_token": by_token,
        "faults_injected": faults,
        "undocumented_errors": undocumented,
        "connections": shared.wire.opened.load(Ordering::Relaxed),
        "connections_h2": shared.wire.opened_h2.load(Ordering::Relaxed),
    })
}

pub fn run(shared: &Shared, op: &str, args: &Value) -> Result<Value, String> {
    match op {
        "reset" => {
            let seed = *lock(&shared.seed);
            let timers = lock(&shared.world).timers.clone();
            *lock(&shared.world) = World::new(seed, timers);
            shared.requests.store(0, Ordering::Relaxed);
            shared.wire.opened.store(0, Ordering::Relaxed);
            shared.wire.opened_h2.store(0, Ordering::Relaxed);
            lock(&shared.by_action).clear();
            lock(&shared.undocumented).clear();
            {
                let mut f = lock(&shared.faults);
                f.rules.clear();
                f.latency = Duration::ZERO;
                f.jitter = Duration::ZERO;
                f.latency_actions = None;
                f.injected.clear();
            }
            {
                let mut l = lock(&shared.limiter);
                l.enabled = false;
                l.overrides.clear();
                l.clear();
            }
            *lock(&shared.role_creds) = None;
            if let Ok(mut s) = shared.settings.write() {
                s.clock_offset = 0;
            }
            Ok(json!({}))
        }
        "seed" => {
            let seed = args
                .get("seed")
                .and_then(Value::as_u64)
                .ok_or("seed must be a non-negative integer")?;
            *lock(&shared.seed) = Some(seed);
            lock(&shared.world).ids = IdGen::new(Some(seed));
            lock(&shared.faults).reseed(seed);
            Ok(json!({}))
        }
        "timers" => {
            let mut w = lock(&shared.world);
            let t = &mut w.timers;
            let obj = args.as_object().ok_or("timers takes an object")?;
            for (k, v) in obj {
                let d = secs(v, k)?;
                match k.as_str() {
                    "all" => {
                        t.pending = d;
                        t.starting = d;
                        t.stopping = d;
                        t.rebooting = d;
                        t.terminating = d;
                        t.image_creating = d;
                    }
                    "pending" => t.pending = d,
                    "starting" => t.starting = d,
                    "stopping" => t.stopping = d,
                    "rebooting" => t.rebooting = d,
                    "terminating" => t.terminating = d,
                    "image_creating" => t.image_creating = d,
                    other => return Err(format!("unknown timer `{other}`")),
                }
            }
            let t = &w.timers;
            Ok(json!({
                "pending": t.pending.as_secs_f64(), "starting": t.starting.as_secs_f64(),
                "stopping": t.stopping.as_secs_f64(), "rebooting": t.rebooting.as_secs_f64(),
                "terminating": t.terminating.as_secs_f64(), "image_creating": t.image_creating.as_secs_f64(),
            }))
        }
        "rate_limits" => {
            let mut l = lock(&shared.limiter);
            if let Some(e) = args.get("enabled") {
                l.enabled = e.as_bool().ok_or("enabled must be a boolean")?;
            }
            if let Some(Value::Object(m)) = args.get("limits") {
                for (k, v) in m {
                    let n = v
                        .as_u64()
                        .filter(|n| *n > 0 && *n < 1_000_000)
                        .ok_or("limits must be positive integers")?;
                    l.overrides.insert(k.clone(), n as u32);
                }
            }
            l.clear();
            Ok(json!({"enabled": l.enabled}))
        }
        "faults" => {
            let mut f = lock(&shared.faults);
            if let Some(s) = args.get("seed") {
                f.reseed(s.as_u64().ok_or("seed must be a non-negative integer")?);
            }
            if let Some(v) = args.get("latency") {
                f.latency = secs(v, "latency")?;
            }
            if let Some(v) = args.get("jitter") {
                f.jitter = secs(v, "jitter")?;
            }
            if args.get("latency_actions").is_some() {
                f.latency_actions = str_list(args.get("latency_actions"))?;
            }
            if let Some(rules) = args.get("rules") {
                let rules = rules.as_array().ok_or("rules must be a list")?;
                let mut parsed = vec![];
                for r in rules {
                    let kind = r
                        .get("kind")
                        .and_then(Value::as_str)
                        .and_then(Kind::parse)
                        .ok_or_else(|| {
                            format!(
                                "unknown fault kind in {r}; kinds: {}",
                                Kind::ALL.map(|k| k.name()).join(", ")
                            )
                        })?;
                    let rate = match r.get("rate") {
                        None | Some(Value::Null) => 0.0,
                        Some(v) => v
                            .as_f64()
                            .filter(|x| (0.0..=1.0).contains(x))
                            .ok_or("rate must be between 0 and 1")?,
                    };
                    let count = match r.get("count") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(v.as_u64().ok_or("count must be a non-negative integer")?),
                    };
                    if count.is_none() && rate == 0.0 {
                        return Err("a fault rule needs a rate or a count".into());
                    }
                    parsed.push(Rule {
                        kind,
                        rate,
                        count,
                        actions: str_list(r.get("actions"))?,
                    });
                }
                if args.get("append").and_then(Value::as_bool).unwrap_or(false) {
                    f.rules.extend(parsed);
                } else {
                    f.rules = parsed;
                }
            }
            Ok(json!({"rules": f.rules.len()}))
        }
        "clear_faults" => {
            let mut f = lock(&shared.faults);
            f.rules.clear();
            f.latency = Duration::ZERO;
            f.jitter = Duration::ZERO;
            f.latency_actions = None;
            Ok(json!({}))
        }
        "quotas" => {
            let mut w = lock(&shared.world);
            if let Some(v) = args.get("instances") {
                w.instance_quota = v
                    .as_u64()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or("instances must be an integer from 1 to 100000")?
                    as usize;
            }
            Ok(json!({"instances": w.instance_quota}))
        }
        "signature_check" => {
            let on = args
                .get("enabled")
                .and_then(Value::as_bool)
                .ok_or("enabled must be a boolean")?;
            if let Ok(mut s) = shared.settings.write() {
                s.check_signatures = on;
            }
            Ok(json!({"enabled": on}))
        }
        "clock_offset" => {
            let secs = args
                .get("seconds")
                .and_then(Value::as_i64)
                .ok_or("seconds must be an integer")?;
            if let Ok(mut s) = shared.settings.write() {
                s.clock_offset = secs;
            }
            Ok(json!({"seconds": secs}))
        }
        "metadata" => {
            if let Ok(mut s) = shared.settings.write() {
                if let Some(r) = args.get("role").and_then(Value::as_str) {
                    if r.is_empty() || r.contains('/') {
                        return Err("role must be a non-empty name without '/'".into());
                    }
                    s.role_name = r.to_string();
                }
                if let Some(t) = args.get("ttl") {
                    s.metadata_ttl = t
                        .as_i64()
                        .filter(|t| *t > 0)
                        .ok_or("ttl must be a positive integer")?;
                }
            }
            *lock(&shared.role_creds) = None;
            let s = shared.settings();
            Ok(json!({"role": s.role_name, "ttl": s.metadata_ttl}))
        }
        "issue_credentials" => {
            let ttl = args
                .get("ttl")
                .and_then(Value::as_i64)
                .unwrap_or(shared.settings().metadata_ttl);
            if ttl <= 0 {
                return Err("ttl must be positive".into());
            }
            let c = metadata::issue(shared, ttl);
            Ok(
                json!({"secret_id": c.secret_id, "secret_key": c.secret_key, "token": c.token, "expired_time": c.expires}),
            )
        }
        "stats" => Ok(stats(shared)),
        "launch_failures" => {
            let n = args
                .get("count")
                .and_then(Value::as_u64)
                .ok_or("count must be a non-negative integer")?;
            lock(&shared.world).launch_failures = n;
            Ok(json!({"count": n}))
        }
        "instances" => {
            let region = args
                .get("region")
                .and_then(Value::as_str)
                .ok_or("region is required")?;
            let mut w = lock(&shared.world);
            let now = std::time::Instant::now();
            let list: Vec<Value> = w
                .region(region, now)
                .instances()
                .iter()
                .map(|i| json!({"InstanceId": i.id, "InstanceState": i.state, "InstanceName": i.name, "ClientToken": i.client_token}))
                .collect();
            Ok(Value::Array(list))
        }
        "now" => Ok(json!(unix_now(shared.settings().clock_offset))),
        "actions" => Ok(json!(super::model_view::actions())),
        other => Err(format!("unknown control operation `{other}`")),
    }
}
