//! Fault injection (deterministic under a seed) and per-action rate limits.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Response.Error.Code = InternalError`; the action does not run.
    InternalError,
    /// `Response.Error.Code = RequestLimitExceeded`; the action does not run.
    RequestLimitExceeded,
    /// HTTP 502 with an HTML body; the action does not run.
    Http502,
    /// HTTP 503 with an HTML body; the action does not run.
    Http503,
    /// HTTP 200 whose body is not JSON; the action does not run.
    Malformed,
    /// HTTP 200 with the real answer cut in half; the action HAS run.
    Truncated,
    /// The connection is closed without an answer; the action does not run.
    DropBefore,
    /// The connection is closed without an answer; the action HAS run.
    DropAfter,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "internal_error" | "InternalError" => Kind::InternalError,
            "request_limit_exceeded" | "RequestLimitExceeded" | "throttle" => {
                Kind::RequestLimitExceeded
            }
            "http_502" | "502" => Kind::Http502,
            "http_503" | "503" => Kind::Http503,
            "malformed" | "malformed_json" => Kind::Malformed,
            "truncated" | "truncated_json" => Kind::Truncated,
            "drop" | "drop_before" => Kind::DropBefore,
            "drop_after" => Kind::DropAfter,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::InternalError => "internal_error",
            Kind::RequestLimitExceeded => "request_limit_exceeded",
            Kind::Http502 => "http_502",
            Kind::Http503 => "http_503",
            Kind::Malformed => "malformed",
            Kind::Truncated => "truncated",
            Kind::DropBefore => "drop_before",
            Kind::DropAfter => "drop_after",
        }
    }
    pub const ALL: [Kind; 8] = [
        Kind::InternalError,
        Kind::RequestLimitExceeded,
        Kind::Http502,
        Kind::Http503,
        Kind::Malformed,
        Kind::Truncated,
        Kind::DropBefore,
        Kind::DropAfter,
    ];
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: Kind,
    /// Probability per matching request (0..=1), drawn from the seeded generator.
    pub rate: f64,
    /// Fire on the next `count` matching requests regardless of `rate`.
    pub count: Option<u64>,
    /// Only these actions (None: every action).
    pub actions: Option<Vec<String>>,
}

pub struct Faults {
    rng: StdRng,
    pub rules: Vec<Rule>,
    pub latency: Duration,
    pub jitter: Duration,
    pub latency_actions: Option<Vec<String>>,
    pub injected: HashMap<&'static str, u64>,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Faults {
            rng: StdRng::seed_from_u64(seed),
            rules: vec![],
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            latency_actions: None,
            injected: HashMap::new(),
        }
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// The added latency and the fault (if any) for one request to `action`.
    pub fn decide(&mut self, action: &str) -> (Duration, Option<Kind>) {
        let applies =
            |a: &Option<Vec<String>>| a.as_ref().is_none_or(|l| l.iter().any(|x| x == action));
        let mut delay = Duration::ZERO;
        if applies(&self.latency_actions) && (!self.latency.is_zero() || !self.jitter.is_zero()) {
            delay = self.latency;
            if !self.jitter.is_zero() {
                let j = self.rng.random_range(0..=self.jitter.as_micros() as u64);
                delay += Duration::from_micros(j);
            }
        }
        let mut fired = None;
        for rule in self.rules.iter_mut() {
            if !applies(&rule.actions) {
                continue;
            }
            let hit = match rule.count.as_mut() {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                Some(_) => false,
                None => rule.rate > 0.0 && self.rng.random::<f64>() < rule.rate,
            };
            if hit && fired.is_none() {
                fired = Some(rule.kind);
            }
        }
        if let Some(k) = fired {
            *self.injected.entry(k.name()).or_insert(0) += 1;
        }
        (delay, fired)
    }
}

/// Sliding one-second windows per action.
#[derive(Default)]
pub struct Limiter {
    pub enabled: bool,
    /// Per-action overrides of the model's limit.
    pub overrides: HashMap<String, u32>,
    windows: HashMap<String, VecDeque<Instant>>,
}

impl Limiter {
    /// Whether one more request to `action` fits under `limit` per second.
    pub fn admit(&mut self, action: &str, model_limit: Option<u32>, now: Instant) -> bool {
        if !self.enabled {
            return true;
        }
        let Some(limit) = self.overrides.get(action).copied().or(model_limit) else {
            return true;
        };
        let w = self.windows.entry(action.to_string()).or_default();
        while w
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            w.pop_front();
        }
        if w.len() as u32 >= limit {
            return false;
        }
        w.push_back(now);
        true
    }

    pub fn clear(&mut self) {
        self.windows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_under_a_seed() {
        let run = |seed| {
            let mut f = Faults::new(seed);
            f.rules.push(Rule {
                kind: Kind::InternalError,
                rate: 0.3,
                count: None,
                actions: None,
            });
            (0..200)
                .map(|_| f.decide("X").1.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        let hits = run(7).iter().filter(|h| **h).count();
        assert!((30..90).contains(&hits), "{hits}");
    }

    #[test]
    fn counted_and_per_action() {
        let mut f = Faults::new(1);
        f.rules.push(Rule {
            kind: Kind::DropAfter,
            rate: 0.0,
            count: Some(2),
            actions: Some(vec!["A".into()]),
        });
        assert_eq!(f.decide("B").1, None);
        assert_eq!(f.decide("A").1, Some(Kind::DropAfter));
        assert_eq!(f.decide("A").1, Some(Kind::DropAfter));
        assert_eq!(f.decide("A").1, None);
    }

    #[test]
    fn limiter() {
        let mut l = Limiter {
            enabled: true,
            ..Default::default()
        };
        let t = Instant::now();
        assert!(l.admit("A", Some(2), t));
        assert!(l.admit("A", Some(2), t));
        assert!(!l.admit("A", Some(2), t));
        assert!(l.admit("A", Some(2), t + Duration::from_secs(1)));
        assert!(l.admit("B", None, t));
    }
}
