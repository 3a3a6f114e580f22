//! The retry policy: what one attempt's outcome was, whether it may be retried, how long to wait
//! (full-jitter exponential backoff) and the retry budget a client's calls share, so that a dead
//! endpoint is not hammered. Whether a request is safe to send again comes from the service
//! model (`idempotent`, `client_token`), never from the action's name.

use crate::config::Backoff;
use crate::error::TransportKind;
use rand::Rng;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The outcome of one failed attempt: what the attempt loop, the retry policy and the attempt
/// log all read (one type for every path a call takes: sync lane, async, fallback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered `Response.Error` with this code.
    ApiError(String),
    /// Could not connect: the request never reached the server.
    ConnectFailed,
    /// Timed out or the connection broke: the request may have reached the server.
    MaybeSent { timeout: bool },
    /// An answer that is not the API's JSON, with this HTTP status.
    NotApi(u16),
    /// The request could not be built (a header value that cannot be sent): nothing was sent,
    /// and sending it again would fail the same way.
    Unsendable,
    /// The answer was over `max_response_bytes`: it would be as long again.
    TooLarge,
    /// Out of file descriptors: another attempt now would only burn the retry budget.
    FdLimit,
}

impl Outcome {
    /// The outcome of a transport failure of this kind.
    pub fn of_transport(kind: TransportKind) -> Outcome {
        match kind {
            TransportKind::Connect => Outcome::ConnectFailed,
            TransportKind::Timeout => Outcome::MaybeSent { timeout: true },
            TransportKind::Request => Outcome::Unsendable,
            TransportKind::Io | TransportKind::NotApi => Outcome::MaybeSent { timeout: false },
            TransportKind::TooLarge => Outcome::TooLarge,
            TransportKind::FdLimit => Outcome::FdLimit,
        }
    }

    /// What an attempt log says happened: the API's error code or the transport failure.
    pub fn label(&self) -> String {
        match self {
            Outcome::ApiError(code) => code.clone(),
            Outcome::NotApi(_) => "not_api".into(),
            Outcome::ConnectFailed => "connect".into(),
            Outcome::MaybeSent { timeout: true } => "timeout".into(),
            Outcome::MaybeSent { timeout: false } => "io".into(),
            Outcome::Unsendable => "request".into(),
            Outcome::TooLarge => "too_large".into(),
            Outcome::FdLimit => "fd_limit".into(),
        }
    }

    /// What a retry after this outcome costs from the budget (a timeout costs more: the
    /// endpoint may be overloaded).
    pub fn retry_cost(&self) -> i64 {
        match self {
            Outcome::MaybeSent { timeout: true } => TIMEOUT_RETRY_COST,
            _ => RETRY_COST,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Fail,
    /// Retry after a backoff computed from this base (throttling uses a longer base).
    Retry {
        throttled: bool,
    },
}

fn code_is(code: &str, family: &str) -> bool {
    code == family
        || (code.len() > family.len()
            && code.starts_with(family)
            && code.as_bytes()[family.len()] == b'.')
}

/// Whether the service rejected the request without acting on it (safe to retry anything).
pub fn is_throttle(code: &str) -> bool {
    code_is(code, "RequestLimitExceeded")
}

/// Codes that are retried (InternalError only when the request is idempotent).
pub fn is_retryable_code(code: &str) -> bool {
    is_throttle(code) || code_is(code, "InternalError")
}

/// The policy, without the budget or the attempt count: may this failure be retried?
/// `idempotent`: the action is read-only by the model or the request carries a ClientToken.
pub fn decide(outcome: &Outcome, idempotent: bool) -> Decision {
    match outcome {
        Outcome::ApiError(code) if is_throttle(code) => Decision::Retry { throttled: true },
        Outcome::ApiError(code) if is_retryable_code(code) && idempotent => {
            Decision::Retry { throttled: false }
        }
        Outcome::ApiError(_) | Outcome::Unsendable | Outcome::TooLarge | Outcome::FdLimit => {
            Decision::Fail
        }
        Outcome::ConnectFailed => Decision::Retry { throttled: false },
        Outcome::MaybeSent { .. } if idempotent => Decision::Retry { throttled: false },
        Outcome::MaybeSent { .. } => Decision::Fail,
        &Outcome::NotApi(status)
            if idempotent && (status >= 500 || status == 429 || status < 200) =>
        {
            Decision::Retry {
                throttled: status == 429,
            }
        }
        // A 4xx page (a proxy refusing, a wrong path, a firewall) is not the service and says
        // the same again; 408 (the request timed out) is worth another try.
        &Outcome::NotApi(status) if (400..500).contains(&status) && status != 408 => Decision::Fail,
        // A 2xx/3xx (or 408) that is not the API's JSON: a broken answer, retried when safe.
        Outcome::NotApi(_) if idempotent => Decision::Retry { throttled: false },
        Outcome::NotApi(_) => Decision::Fail,
    }
}

/// Whether the model says `action` only reads (Describe*, Inquiry*...): safe to resend after it
/// may have arrived. An action outside the model (reached through `call()`) is not.
pub fn idempotent_action(action: &str) -> bool {
    crate::model::action(action).is_some_and(|a| a.idempotent)
}

/// Whether the model gives `action` a `ClientToken` parameter (one is filled in when the caller
/// gave none, so that the call can be retried safely).
pub fn takes_client_token(action: &str) -> bool {
    crate::model::action(action).is_some_and(|a| a.client_token)
}

/// Full-jitter exponential backoff: uniform in `[0, min(cap, base * 2^(retry-1))]`.
pub fn backoff_delay(b: &Backoff, throttled: bool, retry: u32) -> Duration {
    let base = if throttled { b.throttle_base } else { b.base };
    let exp = base * 2f64.powi(retry.saturating_sub(1).min(30) as i32);
    let ceiling = exp.min(b.cap).max(0.0);
    if ceiling <= 0.0 || !ceiling.is_finite() {
        return Duration::ZERO;
    }
    let s = rand::rng().random_range(0.0..=ceiling);
    Duration::from_secs_f64(s)
}

/// A retry quota shared by all calls of a client, so a dead endpoint is not hammered. Lock-free
/// (a lock held by a parent thread at a fork would stay held in the child).
#[derive(Debug)]
pub struct RetryBudget {
    tokens: AtomicI64,
    capacity: i64,
}

pub const RETRY_COST: i64 = 5;
pub const TIMEOUT_RETRY_COST: i64 = 10;

impl RetryBudget {
    pub fn new(capacity: i64) -> RetryBudget {
        RetryBudget {
            tokens: AtomicI64::new(capacity),
            capacity,
        }
    }
    /// Take the cost of a retry; false when the budget is exhausted.
    pub fn acquire(&self, cost: i64) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t >= cost).then_some(t - cost)
            })
            .is_ok()
    }
    /// A success gives back one token (and the cost of its own retry, if it retried).
    pub fn release(&self, amount: i64) {
        let capacity = self.capacity;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(amount).min(capacity))
            });
    }
    pub fn available(&self) -> i64 {
        self.tokens.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_decisions() {
        use Decision::*;
        assert_eq!(
            decide(&Outcome::ApiError("RequestLimitExceeded".into()), false),
            Retry { throttled: true }
        );
        assert_eq!(
            decide(
                &Outcome::ApiError("RequestLimitExceeded.UinLimitExceeded".into()),
                false
            ),
            Retry { throttled: true }
        );
        assert_eq!(
            decide(&Outcome::ApiError("RequestLimitExceededX".into()), true),
            Fail
        );
        assert_eq!(
            decide(&Outcome::ApiError("InternalError".into()), true),
            Retry { throttled: false }
        );
        assert_eq!(
            decide(&Outcome::ApiError("InternalError".into()), false),
            Fail
        );
        for code in [
            "AuthFailure",
            "AuthFailure.SignatureFailure",
            "InvalidParameter",
            "InvalidParameterValue.Range",
            "MissingParameter",
            "UnknownParameter",
            "InvalidInstanceId.NotFound",
            "ResourceNotFound",
        ] {
            assert_eq!(
                decide(&Outcome::ApiError(code.into()), true),
                Fail,
                "{code}"
            );
        }
        assert_eq!(
            decide(&Outcome::ConnectFailed, false),
            Retry { throttled: false }
        );
        assert_eq!(decide(&Outcome::MaybeSent { timeout: true }, false), Fail);
        assert_eq!(
            decide(&Outcome::MaybeSent { timeout: true }, true),
            Retry { throttled: false }
        );
        assert_eq!(
            decide(&Outcome::NotApi(502), true),
            Retry { throttled: false }
        );
        assert_eq!(decide(&Outcome::NotApi(502), false), Fail);
        assert_eq!(
            decide(&Outcome::NotApi(200), true),
            Retry { throttled: false }
        );
        for status in [400, 403, 404, 407, 413] {
            assert_eq!(decide(&Outcome::NotApi(status), true), Fail, "{status}");
        }
        assert_eq!(
            decide(&Outcome::NotApi(408), true),
            Retry { throttled: false }
        );
        assert_eq!(
            decide(&Outcome::NotApi(429), true),
            Retry { throttled: true }
        );
        assert!(idempotent_action("DescribeInstances"));
        assert!(idempotent_action("InquiryPriceRunInstances"));
        assert!(!idempotent_action("RunInstances"));
        assert!(!idempotent_action("DescribeSomethingNewerThanTheModel"));
        assert!(takes_client_token("RunInstances"));
        assert!(!takes_client_token("StartInstances"));
        assert_eq!(decide(&Outcome::Unsendable, true), Fail);
        assert_eq!(decide(&Outcome::TooLarge, true), Fail);
        assert_eq!(decide(&Outcome::FdLimit, true), Fail);
    }

    #[test]
    fn backoff_is_capped_full_jitter() {
        let b = Backoff {
            base: 0.05,
            throttle_base: 1.0,
            cap: 2.0,
        };
        for retry in 1..40 {
            let d = backoff_delay(&b, true, retry);
            assert!(d <= Duration::from_secs_f64(2.0));
            let d = backoff_delay(&b, false, retry);
            assert!(
                d <= Duration::from_secs_f64(0.05 * 2f64.powi(retry as i32 - 1).min(2.0 / 0.05))
            );
        }
        let zero = Backoff {
            base: 0.0,
            throttle_base: 0.0,
            cap: 1.0,
        };
        assert_eq!(backoff_delay(&zero, true, 3), Duration::ZERO);
    }

    #[test]
    fn budget() {
        let b = RetryBudget::new(10);
        assert!(b.acquire(5));
        assert!(b.acquire(5));
        assert!(!b.acquire(5));
        b.release(100);
        assert_eq!(b.available(), 10);
    }
}
