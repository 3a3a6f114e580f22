//! Credentials as the core holds them: the secret key and token live only here (zeroized on
//! drop, redacted in Debug), swapped atomically when a provider refreshes them.
//!
//! The provider chain (arguments, environment, credentials file, metadata role) is resolved in
//! Python (`tccvm._credentials`); the core receives the result and, for expiring credentials, a
//! `refresh` callable it calls (GIL held, before the request leaves) when they are about to
//! expire.

use std::fmt;
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// A secret string: zeroized on drop, never printed.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(Zeroizing::new(s))
    }
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One set of credentials.
#[derive(Clone)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
    /// Unix seconds after which these credentials stop working (role credentials).
    pub expires_at: Option<i64>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Refresh this long before expiry.
pub const REFRESH_MARGIN_SECS: i64 = 300;

impl Credentials {
    pub fn new(
        secret_id: String,
        secret_key: String,
        token: Option<String>,
        expires_at: Option<i64>,
    ) -> Result<Credentials, crate::error::Error> {
        if secret_id.is_empty() || secret_key.is_empty() {
            return Err(crate::error::Error::Credential(
                "secret_id and secret_key must be non-empty".into(),
            ));
        }
        if secret_id.contains('/') || secret_id.chars().any(|c| c.is_control()) {
            return Err(crate::error::Error::Credential(
                "secret_id contains a character that cannot be signed ('/' or a control character)"
                    .into(),
            ));
        }
        // The token goes in a header: a control character there could not be sent.
        if token
            .as_deref()
            .is_some_and(|t| t.chars().any(|c| c.is_control()))
        {
            return Err(crate::error::Error::Credential(
                "token contains a control character (it is sent in a header)".into(),
            ));
        }
        Ok(Credentials {
            secret_id,
            secret_key: Secret::new(secret_key),
            token: token.filter(|t| !t.is_empty()).map(Secret::new),
            expires_at,
        })
    }

    /// Whether these credentials should be refreshed now (`now` in Unix seconds).
    pub fn needs_refresh(&self, now: i64) -> bool {
        matches!(self.expires_at, Some(t) if now >= t - REFRESH_MARGIN_SECS)
    }
}

/// The current credentials of a client, shared by all its calls.
#[derive(Debug)]
pub struct CredentialStore {
    current: RwLock<Arc<Credentials>>,
}

impl CredentialStore {
    pub fn new(c: Credentials) -> CredentialStore {
        CredentialStore {
            current: RwLock::new(Arc::new(c)),
        }
    }
    pub fn get(&self) -> Arc<Credentials> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
    /// The lock is held only to swap a pointer (the old value is dropped after): a fork that
    /// lands while a parent thread holds it is that unlikely.
    pub fn set(&self, c: Credentials) {
        let new = Arc::new(c);
        let old = match self.current.write() {
            Ok(mut g) => std::mem::replace(&mut *g, new),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), new),
        };
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::new(
            "AKIDx".into(),
            "very-secret-key".into(),
            Some("tok-secret".into()),
            Some(10),
        )
        .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("AKIDx"));
        assert!(!d.contains("very-secret-key"));
        assert!(!d.contains("tok-secret"));
        assert!(c.needs_refresh(10 - REFRESH_MARGIN_SECS));
        assert!(!c.needs_refresh(10 - REFRESH_MARGIN_SECS - 1));
        assert!(Credentials::new(String::new(), "k".into(), None, None).is_err());
        assert!(Credentials::new("a/b".into(), "k".into(), None, None).is_err());
        let store = CredentialStore::new(c);
        store.set(Credentials::new("B".into(), "k2".into(), None, None).unwrap());
        assert_eq!(store.get().secret_id, "B");
        assert!(store.get().token.is_none());
    }
}
