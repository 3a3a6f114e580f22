//! SSH key pairs: create (real RSA pair), import, modify, delete, bind to instances.

use super::tags::{is_tag_filter, render_tags, tag_filter, tag_specs};
use super::{check_ids, matches_any, unknown_filter, Ctx};
use crate::keygen;
use crate::state::KeyPair;
use crate::util::{filters, iso8601, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

fn render(k: &KeyPair) -> Value {
    json!({
        "KeyId": k.id, "KeyName": k.name, "ProjectId": k.project_id.to_string(),
        "Description": k.description, "PublicKey": k.public_key,
        "AssociatedInstanceIds": k.instances, "CreatedTime": iso8601(k.created),
        "Tags": render_tags(&k.tags),
    })
}

fn check_name(ctx: &mut Ctx<'_>, name: &str, except: Option<&str>) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::new(
            ctx.code(&["InvalidKeyPairNameEmpty", "InvalidKeyPairName.Empty"]),
            "The key name is empty.",
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::new(
            ctx.code(&[
                "InvalidKeyPairNameIncludeIllegalChar",
                "InvalidKeyPairName.IncludeIllegalChar",
            ]),
            "A key name may contain only letters, digits and underscores.",
        ));
    }
    if name.len() > 25 {
        return Err(ApiError::new(
            ctx.code(&["InvalidKeyPairNameTooLong", "InvalidKeyPairName.TooLong"]),
            "The key name is longer than 25 characters.",
        ));
    }
    let dup = ctx.code(&["InvalidKeyPairName.Duplicate", "InvalidKeyName.Duplicate"]);
    if ctx
        .reg()
        .key_pairs
        .iter()
        .any(|k| k.name == name && Some(k.id.as_str()) != except)
    {
        return Err(ApiError::new(
            dup,
            format!("A key pair named `{name}` exists."),
        ));
    }
    Ok(())
}

fn project(ctx: &Ctx<'_>, p: &P<'_>) -> Result<i64, ApiError> {
    let id = p
        .int("ProjectId")?
        .ok_or_else(|| ApiError::new("MissingParameter", "The request is missing `ProjectId`."))?;
    if id < 0 {
        return Err(ApiError::new(
            ctx.code(&["InvalidProjectId.NotFound", "InvalidParameterValue"]),
            format!("The project `{id}` does not exist."),
        ));
    }
    Ok(id)
}

fn quota(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    let q = ctx.world.key_pair_quota;
    if ctx.reg().key_pairs.len() >= q {
        return Err(ApiError::new(
            "InvalidKeyPair.LimitExceeded",
            "The key pair quota is exhausted.",
        ));
    }
    Ok(())
}

pub fn create_key_pair(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let name = p.str("KeyName").unwrap_or_default();
    check_name(ctx, &name, None)?;
    let project_id = project(ctx, p)?;
    quota(ctx)?;
    let id = ctx.world.ids.id("skey");
    let pair = match ctx.keypair.take() {
        Some(p) => Ok(p),
        None => keygen::rsa_pair(),
    };
    let (public, private) =
        pair.map_err(|e| ApiError::new("InternalError", format!("key generation failed: {e}")))?;
    let public = format!("{public} {id}");
    let k = KeyPair {
        id,
        name,
        project_id,
        description: String::new(),
        public_key: public,
        instances: vec![],
        created: ctx.unix,
        tags: tag_specs(p),
    };
    let mut out = render(&k);
    out["PrivateKey"] = Value::String(private);
    ctx.reg().key_pairs.push(k);
    Ok(json!({ "KeyPair": out }))
}

pub fn import_key_pair(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let name = p.str("KeyName").unwrap_or_default();
    check_name(ctx, &name, None)?;
    let project_id = project(ctx, p)?;
    let public = p.req_str("PublicKey")?;
    let norm = keygen::parse_public(&public).ok_or_else(|| {
        ApiError::new(
            "InvalidPublicKey.Malformed",
            "The public key is not an OpenSSH public key.",
        )
    })?;
    if ctx
        .reg()
        .key_pairs
        .iter()
        .any(|k| keygen::parse_public(&k.public_key).as_deref() == Some(norm.as_str()))
    {
        return Err(ApiError::new(
            "InvalidPublicKey.Duplicate",
            "This public key has been imported already.",
        ));
    }
    quota(ctx)?;
    let id = ctx.world.ids.id("skey");
    let k = KeyPair {
        id: id.clone(),
        name,
        project_id,
        description: String::new(),
        public_key: public.trim().to_string(),
        instances: vec![],
        created: ctx.unix,
        tags: tag_specs(p),
    };
    ctx.reg().key_pairs.push(k);
    Ok(json!({ "KeyId": id }))
}

fn existing_keys(ctx: &mut Ctx<'_>, ids: &[String], family: &str) -> Result<(), ApiError> {
    let reg = ctx.reg();
    check_ids(ids, "skey", family, |id| {
        reg.key_pairs.iter().any(|k| k.id == id)
    })
}

pub fn delete_key_pairs(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("KeyIds")?;
    if ids.len() > 100 {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            "At most 100 key ids may be given.",
        ));
    }
    if let Some(bad) = ids.iter().find(|i| !well_formed(i, "skey")) {
        return Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!("The key id `{bad}` is malformed."),
        ));
    }
    existing_keys(ctx, &ids, "InvalidKeyId")?;
    let reg = ctx.reg();
    reg.key_pairs.retain(|k| !ids.contains(&k.id));
    for i in reg.instances_mut() {
        i.key_ids.retain(|k| !ids.contains(k));
    }
    Ok(json!({}))
}

pub fn modify_key_pair_attribute(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("KeyId")?;
    existing_keys(ctx, std::slice::from_ref(&id), "InvalidKeyId")?;
    let name = p.str("KeyName");
    if let Some(n) = &name {
        if ctx
            .reg()
            .key_pairs
            .iter()
            .any(|k| &k.name == n && k.id != id)
        {
            return Err(ApiError::new(
                "InvalidKeyName.Duplicate",
                format!("A key pair named `{n}` exists."),
            ));
        }
        check_name(ctx, n, Some(&id)).map_err(|e| ApiError::new("InvalidParameter", e.message))?;
    }
    let desc = p.str("Description");
    if desc.as_ref().is_some_and(|d| d.chars().count() > 60) {
        return Err(ApiError::new(
            "InvalidParameter",
            "Description is longer than 60 characters.",
        ));
    }
    if let Some(k) = ctx.reg().key_pairs.iter_mut().find(|k| k.id == id) {
        if let Some(n) = name {
            k.name = n;
        }
        if let Some(d) = desc {
            k.description = d;
        }
    }
    Ok(json!({}))
}

fn binding(ctx: &mut Ctx<'_>, p: &P<'_>, bind: bool) -> HResult {
    let iids = p.req_list("InstanceIds")?;
    let kids = p.req_list("KeyIds")?;
    if kids.len() > 100 {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            "At most 100 key ids may be given.",
        ));
    }
    let force = p.boolean("ForceStop")?.unwrap_or(false);
    let reg = ctx.reg();
    check_ids(&iids, "ins", "InvalidInstanceId", |id| {
        reg.instance(id).is_some()
    })?;
    existing_keys(ctx, &kids, "InvalidKeyId")?;
    let reg = ctx.reg();
    for id in &iids {
        if let Some(i) = reg.instance(id) {
            let ok = i.state == "STOPPED" || (force && i.state == "RUNNING");
            if !ok || i.os_name.contains("Windows") {
                return Err(ApiError::new(
                    "InvalidInstance.NotSupported",
                    format!("The instance `{id}` is {} (key pairs need a STOPPED Linux instance, or ForceStop).", i.state),
                ));
            }
        }
    }
    for id in &iids {
        if let Some(i) = reg.instance_mut(id) {
            for k in &kids {
                if bind && !i.key_ids.contains(k) {
                    i.key_ids.push(k.clone());
                }
                if !bind {
                    i.key_ids.retain(|x| x != k);
                }
            }
        }
    }
    for k in reg.key_pairs.iter_mut().filter(|k| kids.contains(&k.id)) {
        for id in &iids {
            if bind && !k.instances.contains(id) {
                k.instances.push(id.clone());
            }
            if !bind {
                k.instances.retain(|x| x != id);
            }
        }
    }
    Ok(json!({}))
}

pub fn associate(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    binding(ctx, p, true)
}

pub fn disassociate(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    binding(ctx, p, false)
}

pub fn describe_key_pairs(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.str_list("KeyIds");
    let fs = filters(p)?;
    if !ids.is_empty() && !fs.is_empty() {
        return Err(ApiError::new(
            "InvalidParameter",
            "KeyIds and Filters cannot be given together.",
        ));
    }
    if let Some(bad) = ids.iter().find(|i| !well_formed(i, "skey")) {
        return Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!("The key id `{bad}` is malformed."),
        ));
    }
    for (n, _) in &fs {
        if n != "project-id" && n != "key-name" && !is_tag_filter(n) {
            return Err(unknown_filter(n));
        }
    }
    let offset = p.int("Offset")?.unwrap_or(0);
    let (default_limit, max_limit) = ctx.page_limits();
    let limit = p.int("Limit")?.unwrap_or(default_limit);
    if offset < 0 {
        return Err(ApiError::new(
            "InvalidParameterValueOffset",
            "Offset must not be negative.",
        ));
    }
    if !(0..=max_limit).contains(&limit) {
        return Err(ApiError::new(
            "InvalidParameterValueLimit",
            "Limit must be between 0 and 100.",
        ));
    }
    let reg = ctx.reg();
    let found: Vec<Value> = reg
        .key_pairs
        .iter()
        .filter(|k| ids.is_empty() || ids.contains(&k.id))
        .filter(|k| {
            fs.iter().all(|(n, v)| match n.as_str() {
                "project-id" => matches_any(v, &k.project_id.to_string()),
                "key-name" => matches_any(v, &k.name),
                _ => tag_filter(n, v, &k.tags).unwrap_or(false),
            })
        })
        .map(render)
        .collect();
    let total = found.len();
    let page: Vec<Value> = found
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok(json!({"TotalCount": total, "KeyPairSet": page}))
}
