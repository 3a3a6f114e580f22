//! tccvm's core: everything between a call's parameters and its answer's bytes, in pure Rust
//! (no Python). The binding crate (`tccvm-py`) turns Python values into parameters and answers
//! into Python objects; the emulator crate (`tccvm-emulator`) serves the same API locally.
//!
//! - the service model and validation: [`model`] (the one typed parse), [`validate`]
//! - signing: [`sign`]; credentials: [`credentials`]
//! - requests: [`params`] (encoding), [`request`] (a signed request per attempt)
//! - answers: [`json`] (the grammar), [`answer`] (the judge)
//! - transport: [`client`] (the attempt loop), [`transfer`] (one attempt on the wire: the
//!   connection limit, the answer size limit, keep-alive hints), [`pool`] (a pool generation
//!   and its first HTTPS connection's gate), [`lanes`] (sync calls and
//!   their interruption), [`retry`] (the policy),
//!   [`rate_limit`], [`endpoint`], [`tls`], [`config`]
//! - [`observe`] (what a call reports per attempt: logging, hooks, the redacted wire view)
//! - [`fetch`] (a plain GET for the metadata service), [`runtime`] (the process runtime,
//!   fork-safe holders), [`error`]

pub mod answer;
pub mod client;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod fetch;
pub mod json;
pub mod lanes;
pub mod model;
pub mod observe;
pub mod params;
pub mod pool;
pub mod rate_limit;
pub mod request;
pub mod retry;
pub mod runtime;
pub mod sign;
pub mod tls;
pub mod transfer;
pub mod validate;
