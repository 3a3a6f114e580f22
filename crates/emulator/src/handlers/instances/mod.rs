//! Instances: launch, lifecycle, attributes, renewals, charge types. This file holds the
//! lookups and state checks every instance action shares; the actions live in the
//! submodules named by what they do, re-exported here (`instances::run_instances`).

mod describe;
mod extra;
mod launch;
mod lifecycle;
mod modify;
mod render;

pub use describe::*;
pub use extra::*;
pub use launch::*;
pub use lifecycle::*;
pub use modify::*;
pub use render::*;

use super::{check_ids, Ctx};
use crate::catalog;
use crate::state::{after, Instance};
use crate::util::{well_formed, ApiError, P};

/// Resolve the ids of an action on existing instances (malformed / not found / too many).
fn existing(ctx: &mut Ctx<'_>, p: &P<'_>, key: &str) -> Result<Vec<String>, ApiError> {
    let ids = p.req_list(key)?;
    let reg = ctx.reg();
    check_ids(&ids, "ins", "InvalidInstanceId", |id| {
        reg.instance(id).is_some()
    })?;
    Ok(ids)
}

fn one(ctx: &mut Ctx<'_>, p: &P<'_>, key: &str) -> Result<String, ApiError> {
    let id = p.req_str(key)?;
    let reg = ctx.reg();
    check_ids(std::slice::from_ref(&id), "ins", "InvalidInstanceId", |x| {
        reg.instance(x).is_some()
    })?;
    Ok(id)
}

/// A copy of instance `id` of the request's region (InvalidInstanceId.NotFound without it).
fn instance_of(ctx: &mut Ctx<'_>, id: &str) -> Result<Instance, ApiError> {
    ctx.reg().instance(id).cloned().ok_or_else(|| {
        ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("The id `{id}` does not exist."),
        )
    })
}

fn wrong_state(ctx: &Ctx<'_>, i: &Instance, want: &str) -> ApiError {
    ApiError::new(
        ctx.code(&[
            "InvalidInstanceState",
            "InvalidInstance.NotSupported",
            "UnsupportedOperation",
        ]),
        format!(
            "The instance `{}` is {}; {} needs it {}.",
            i.id, i.state, ctx.action, want
        ),
    )
}

/// Check every instance is in one of `allowed` before changing any of them.
fn require_state(ctx: &mut Ctx<'_>, ids: &[String], allowed: &[&str]) -> Result<(), ApiError> {
    let reg = ctx.reg();
    let bad = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .find(|i| !allowed.contains(&i.state.as_str()))
        .cloned();
    match bad {
        Some(i) => Err(wrong_state(ctx, &i, &allowed.join(" or "))),
        None => Ok(()),
    }
}

fn transition(
    ctx: &mut Ctx<'_>,
    ids: &[String],
    now_state: &str,
    next: &'static str,
    d: std::time::Duration,
) {
    let due = after(ctx.now, d);
    let reg = ctx.reg();
    for id in ids {
        if let Some(i) = reg.instance_mut(id) {
            i.state = now_state.to_string();
            i.next = Some((due, next));
        }
    }
}

pub fn check_password(pw: &str) -> Result<(), ApiError> {
    let classes = [
        pw.bytes().any(|b| b.is_ascii_lowercase()),
        pw.bytes().any(|b| b.is_ascii_uppercase()),
        pw.bytes().any(|b| b.is_ascii_digit()),
        pw.bytes()
            .any(|b| b"()`~!@#$%^&*-+=_|{}[]:;'<>,.?/".contains(&b)),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if !(8..=30).contains(&pw.len()) || classes < 2 || !pw.is_ascii() {
        return Err(ApiError::new(
            "InvalidPassword",
            "The password must be 8-30 characters with at least two of: lower case, upper case, digits, symbols.",
        ));
    }
    Ok(())
}

/// (cpu, memory) of an instance type: from the catalogue, or `CDH_<n>C<m>G`.
pub fn parse_type(t: &str) -> Result<(i64, i64), ApiError> {
    if let Some(def) = catalog::instance_type(t) {
        return Ok((def.cpu, def.memory));
    }
    if let Some(rest) = t.strip_prefix("CDH_") {
        if let Some((c, m)) = rest.strip_suffix('G').and_then(|r| r.split_once('C')) {
            if let (Ok(c), Ok(m)) = (c.parse::<i64>(), m.parse::<i64>()) {
                if c > 0 && m > 0 {
                    return Ok((c, m));
                }
            }
        }
    }
    let shaped = t.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && t.bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'.')
    });
    if shaped {
        Err(ApiError::new(
            "InvalidParameterValue",
            format!("The instance type `{t}` is not sold here."),
        ))
    } else {
        Err(ApiError::new(
            "InvalidInstanceType.Malformed",
            format!("The instance type `{t}` is malformed."),
        ))
    }
}

/// The OS name of an image usable for a launch (public, or NORMAL private/shared image).
pub fn find_image_os(ctx: &mut Ctx<'_>, image_id: &str) -> Result<String, ApiError> {
    if let Some(img) = catalog::PUBLIC_IMAGES.iter().find(|i| i.id == image_id) {
        return Ok(img.os_name.to_string());
    }
    let not_found = ctx.code(&["InvalidImageId.NotFound", "InvalidParameterValue"]);
    let malformed = ctx.code(&["InvalidImageId.Malformed", "InvalidParameterValue"]);
    if !well_formed(image_id, "img") {
        return Err(ApiError::new(
            malformed,
            format!("The image id `{image_id}` is malformed."),
        ));
    }
    let state_code = ctx.code(&["InvalidImageId.IncorrectState", "InvalidParameterValue"]);
    let reg = ctx.reg();
    match reg.images.iter().find(|i| i.id == image_id) {
        Some(i) if i.state == "NORMAL" => Ok(i.os_name.clone()),
        Some(i) => Err(ApiError::new(
            state_code,
            format!("The image `{}` is {}.", i.id, i.state),
        )),
        None => Err(ApiError::new(
            not_found,
            format!("The image `{image_id}` does not exist."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(parse_type("S1.SMALL2").unwrap(), (1, 2));
        assert_eq!(parse_type("CDH_2C4G").unwrap(), (2, 4));
        assert_eq!(
            parse_type("bad type").unwrap_err().code,
            "InvalidInstanceType.Malformed"
        );
        assert_eq!(
            parse_type("Z9.HUGE").unwrap_err().code,
            "InvalidParameterValue"
        );
    }

    #[test]
    fn passwords() {
        assert!(check_password("Abcdefg1").is_ok());
        assert!(check_password("short1A").is_err());
        assert!(check_password("alllowercase").is_err());
    }
}
