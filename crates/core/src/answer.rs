//! An answer read as the transport needs it, without the GIL: its head (`RequestId`, `Error`)
//! and whether it is the API's JSON at all. The attempt loop (`crate::client`) turns this into
//! one [`crate::retry::Outcome`] whatever path the call took.

use crate::json::{describe, fail, Fail, Parser};
use std::fmt;

/// What the transport needs to know about an answer, read without building it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    pub request_id: Option<String>,
    /// `(Code, Message)` of `Response.Error`.
    pub error: Option<(String, String)>,
}

/// Why an answer is not the API's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApi {
    Empty,
    NotJson(String),
    NoResponse,
}

impl fmt::Display for NotApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotApi::Empty => f.write_str("empty body"),
            NotApi::NotJson(e) => write!(f, "body is not JSON ({e})"),
            NotApi::NoResponse => f.write_str("JSON without a \"Response\" object"),
        }
    }
}

/// Parse the head of an answer: a JSON object with a `Response` object; the whole body is
/// checked (a truncated or garbled answer is not the API's JSON) but nothing else is built.
pub fn inspect(body: &[u8]) -> Result<Head, NotApi> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NotApi::Empty);
    }
    let mut p = Parser::new(body);
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(NotApi::NotJson("not a JSON object".into()));
    }
    let mut response: Option<Option<Head>> = None;
    let r = p
        .members(0, |p, key| {
            if p.text(key) != b"Response" {
                return p.skip_value(1);
            }
            if response.is_some() {
                return fail(p.i, "duplicate \"Response\"");
            }
            response = Some(match p.peek() {
                Some(b'{') => Some(read_head(p)?),
                Some(b'n') => p.literal(b"null").map(|()| None)?,
                _ => return p.unexpected("\"Response\" is not an object"),
            });
            Ok(())
        })
        .and_then(|()| p.end());
    if let Err(f) = r {
        // Only the reason and the position: never the body (could hold anything).
        return Err(NotApi::NotJson(describe(body, f)));
    }
    response.flatten().ok_or(NotApi::NoResponse)
}

/// `Response`'s `RequestId` and `Error` (`Code`, `Message`); other members are checked only.
fn read_head(p: &mut Parser<'_>) -> Result<Head, Fail> {
    let mut request_id: Option<Option<String>> = None;
    let mut error: Option<Option<(Option<String>, Option<String>)>> = None;
    p.members(1, |p, key| match p.text(key) {
        b"RequestId" => {
            if request_id.is_some() {
                return fail(p.i, "duplicate \"RequestId\"");
            }
            request_id = Some(p.opt_string()?);
            Ok(())
        }
        b"Error" => {
            if error.is_some() {
                return fail(p.i, "duplicate \"Error\"");
            }
            error = Some(match p.peek() {
                Some(b'{') => {
                    let (mut code, mut message) = (None, None);
                    p.members(2, |p, key| match p.text(key) {
                        b"Code" if code.is_none() => {
                            code = Some(p.opt_string()?);
                            Ok(())
                        }
                        b"Message" if message.is_none() => {
                            message = Some(p.opt_string()?);
                            Ok(())
                        }
                        b"Code" | b"Message" => fail(p.i, "duplicate error field"),
                        _ => p.skip_value(3),
                    })?;
                    Some((code.flatten(), message.flatten()))
                }
                Some(b'n') => p.literal(b"null").map(|()| None)?,
                _ => return p.unexpected("\"Error\" is not an object"),
            });
            Ok(())
        }
        _ => p.skip_value(2),
    })?;
    Ok(Head {
        request_id: request_id.flatten(),
        error: error.flatten().map(|(code, message)| {
            (
                code.unwrap_or_else(|| "UnknownError".to_string()),
                message.unwrap_or_default(),
            )
        }),
    })
}

/// How a call builds its result from a successful answer, in the pass that judges it.
pub trait Decode: Send + Sync + 'static {
    /// What it builds (for the binding's sync calls: the `Response` as Python objects).
    type Output: Send + 'static;

    /// The answer's request id and what was built of it, exactly when it is a plain success:
    /// the API's JSON with no `Error`, as [`inspect`] reads it. `None` for anything else (then
    /// [`judge`] reads the answer with [`inspect`]), so that whatever a decoder does, every
    /// answer gets the same verdict.
    fn success(&self, body: &[u8]) -> Option<(Option<String>, Self::Output)>;
}

/// The [`Decode`] that builds nothing: the caller builds its result from the body later (the
/// binding's async calls, on their event loop's thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct Inspect;

impl Decode for Inspect {
    type Output = ();
    fn success(&self, _body: &[u8]) -> Option<(Option<String>, ())> {
        None
    }
}

/// What an answer says, for the attempt loop.
#[derive(Debug)]
pub enum Verdict<T> {
    /// `Response` without `Error`; `built` is what the decoder made of it, if it did.
    Success {
        request_id: Option<String>,
        built: Option<T>,
    },
    /// `Response.Error`: the service refused the request.
    Error {
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// Not the API's JSON (an HTML error page, an empty or truncated body ...).
    NotApi(NotApi),
}

/// The one judge of an answer, whatever path the call took: a plain success built by `decode`
/// in the same pass, otherwise what [`inspect`] reads.
pub fn judge<D: Decode>(decode: &D, body: &[u8]) -> Verdict<D::Output> {
    if let Some((request_id, built)) = decode.success(body) {
        return Verdict::Success {
            request_id,
            built: Some(built),
        };
    }
    match inspect(body) {
        Ok(Head {
            request_id,
            error: None,
        }) => Verdict::Success {
            request_id,
            built: None,
        },
        Ok(Head {
            request_id,
            error: Some((code, message)),
        }) => Verdict::Error {
            code,
            message,
            request_id,
        },
        Err(why) => Verdict::NotApi(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::MAX_DEPTH;

    #[test]
    fn inspect_heads() {
        let ok = inspect(br#"{"Response": {"TotalCount": 1, "RequestId": "r-1"}}"#).unwrap();
        assert_eq!(ok.request_id.as_deref(), Some("r-1"));
        assert_eq!(ok.error, None);
        let err = inspect(
            br#"{"Response": {"Error": {"Code": "AuthFailure", "Message": "no", "Extra": 1}, "RequestId": "r-2"}}"#,
        )
        .unwrap();
        assert_eq!(err.error, Some(("AuthFailure".into(), "no".into())));
        assert_eq!(inspect(b""), Err(NotApi::Empty));
        assert_eq!(inspect(b"  \n"), Err(NotApi::Empty));
        assert!(matches!(
            inspect(b"<html>502</html>"),
            Err(NotApi::NotJson(_))
        ));
        assert!(matches!(
            inspect(br#"{"Response": {"a": "#),
            Err(NotApi::NotJson(_))
        ));
        assert_eq!(inspect(br#"{"Other": 1}"#), Err(NotApi::NoResponse));
        assert!(matches!(
            inspect(br#"{"Response": 3}"#),
            Err(NotApi::NotJson(_))
        ));
        assert!(matches!(inspect(br#"[1]"#), Err(NotApi::NotJson(_))));
        // Arrays are not objects, at any level (serde's derive would read them as structs).
        for body in [
            &br#"[{}]"#[..],
            br#" [{"RequestId": "r"}]"#,
            br#"{"Response": ["r", null]}"#,
            br#"{"Response": {"RequestId": "r", "Error": ["Code", "Msg"]}}"#,
        ] {
            assert!(matches!(inspect(body), Err(NotApi::NotJson(_))), "{body:?}");
        }
        let ok = inspect(br#"{"Response": {"RequestId": "r", "Error": null}}"#).unwrap();
        assert_eq!((ok.request_id.as_deref(), ok.error), (Some("r"), None));
        assert_eq!(inspect(br#"{"Response": null}"#), Err(NotApi::NoResponse));
    }

    #[test]
    fn inspect_edges() {
        // Escaped names are the same names; other members are checked, not read.
        let h = inspect(
            "\u{feff} {\"X\": [1, {\"a\": \"\\u00e9\"}], \"Re\\u0073ponse\": {\"RequestId\": \"r\\n\", \"Error\": {\"Code\": \"A.B\", \"Extra\": [true]}}}\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(h.request_id.as_deref(), Some("r\n"));
        assert_eq!(h.error, Some(("A.B".into(), String::new())));
        let h = inspect(br#"{"Response": {"Error": {"Code": null, "Message": "m"}}}"#).unwrap();
        assert_eq!(h.error, Some(("UnknownError".into(), "m".into())));
        for body in [
            &br#"{"Response": {}, "Response": {}}"#[..],
            br#"{"Response": {"RequestId": "a", "RequestId": "b"}}"#,
            br#"{"Response": {"Error": null, "Error": {}}}"#,
            br#"{"Response": {"RequestId": 5}}"#,
            br#"{"Response": {"Error": {"Code": 1}}}"#,
            br#"{"Response": {"RequestId": "r"}} x"#,
            br#"{"Response": {"RequestId": "r", "X": NaN}}"#,
            br#"{"Response": {"RequestId": "r", "X": "\x"}}"#,
            b"{\"Response\": {\"RequestId\": \"\xff\"}}",
            b"{\"Response\": {\"RequestId\": \"a\x01\"}}",
        ] {
            assert!(matches!(inspect(body), Err(NotApi::NotJson(_))), "{body:?}");
        }
        // Nesting is bounded (the same bound as the decoder's), deep input never overflows.
        let deep = |n: usize| {
            let mut b = br#"{"Response": {"X": "#.to_vec();
            b.extend(std::iter::repeat_n(b'[', n));
            b.extend(std::iter::repeat_n(b']', n));
            b.extend_from_slice(b"}}");
            b
        };
        assert!(inspect(&deep(MAX_DEPTH - 2)).is_ok());
        assert!(
            matches!(inspect(&deep(MAX_DEPTH - 1)), Err(NotApi::NotJson(e)) if e.contains("nesting"))
        );
        assert!(matches!(inspect(&deep(1_000_000)), Err(NotApi::NotJson(_))));
        // Errors say where, never what.
        let Err(NotApi::NotJson(e)) =
            inspect(b"{\"Response\": {\"RequestId\": \"secret-1\",\n  \"X\": secret-2}}")
        else {
            panic!("not rejected");
        };
        assert_eq!(e, "expected a value at line 2 column 8");
    }
}
