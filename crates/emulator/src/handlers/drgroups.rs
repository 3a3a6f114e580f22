//! Spread placement (disaster recover) groups, with the quotas of the reference's example.

use super::tags::{is_tag_filter, render_tags, tag_filter, tag_specs};
use super::{unknown_filter, Ctx};
use crate::state::DrGroup;
use crate::util::{filters, iso8601, paginate, ApiError, HResult, P};
use serde_json::{json, Value};

pub const QUOTA_HOST: i64 = 50;
pub const QUOTA_SW: i64 = 20;
pub const QUOTA_RACK: i64 = 30;

pub fn quota_for(t: &str) -> i64 {
    match t {
        "HOST" => QUOTA_HOST,
        "SW" => QUOTA_SW,
        _ => QUOTA_RACK,
    }
}

fn render(g: &DrGroup) -> Value {
    json!({
        "DisasterRecoverGroupId": g.id, "Name": g.name, "Type": g.group_type,
        "CvmQuotaTotal": quota_for(&g.group_type), "CurrentNum": g.instances.len(),
        "Strategy": "", "PartitionCount": 0, "Affinity": 1,
        "InstanceIds": g.instances, "CreateTime": iso8601(g.created),
        "Tags": render_tags(&g.tags),
    })
}

fn check_name(n: &str) -> Result<(), ApiError> {
    if n.is_empty() || n.chars().count() > 60 {
        return Err(ApiError::new(
            "InvalidParameterValue.TooLong",
            "Name must be 1-60 characters.",
        ));
    }
    Ok(())
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound.InvalidPlacementSet",
        format!("The placement group `{id}` does not exist."),
    )
}

pub fn create(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let name = p.req_str("Name")?;
    check_name(&name)?;
    let t = p.req_str("Type")?;
    if !["HOST", "SW", "RACK"].contains(&t.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            "Type must be HOST, SW or RACK.",
        ));
    }
    let quota = ctx.world.dr_group_quota;
    if ctx.reg().dr_groups.len() as i64 >= quota {
        return Err(ApiError::new(
            ctx.code(&["LimitExceeded", "InvalidParameterValue.Range"]),
            "The placement group quota is exhausted.",
        ));
    }
    let g = DrGroup {
        id: ctx.world.ids.id("ps"),
        name,
        group_type: t,
        instances: vec![],
        created: ctx.unix,
        tags: tag_specs(p),
    };
    let out = render(&g);
    ctx.reg().dr_groups.push(g);
    let mut out = out;
    if let Some(o) = out.as_object_mut() {
        for k in ["InstanceIds", "Affinity", "Tags"] {
            o.remove(k);
        }
    }
    Ok(out)
}

pub fn delete(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("DisasterRecoverGroupIds")?;
    let reg = ctx.reg();
    for id in &ids {
        match reg.dr_groups.iter().find(|g| &g.id == id) {
            None => return Err(not_found(id)),
            Some(g) if !g.instances.is_empty() => {
                return Err(ApiError::new(
                    "FailedOperation.PlacementSetNotEmpty",
                    format!("The placement group `{id}` is not empty."),
                ))
            }
            _ => {}
        }
    }
    reg.dr_groups.retain(|g| !ids.contains(&g.id));
    Ok(json!({}))
}

pub fn quota(ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    let quota = ctx.world.dr_group_quota;
    let n = ctx.reg().dr_groups.len();
    Ok(json!({
        "GroupQuota": quota, "CurrentNum": n, "CvmInHostGroupQuota": QUOTA_HOST,
        "CvmInSwGroupQuota": QUOTA_SW, "CvmInRackGroupQuota": QUOTA_RACK,
        "CvmInSwitchGroupQuota": QUOTA_SW,
    }))
}

pub fn describe(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let ids = p.str_list("DisasterRecoverGroupIds");
    let name = p.str("Name");
    let fs = filters(p)?;
    if let Some((n, _)) = fs.iter().find(|(n, _)| !is_tag_filter(n)) {
        return Err(unknown_filter(n));
    }
    let reg = ctx.reg();
    let found: Vec<Value> = reg
        .dr_groups
        .iter()
        .filter(|g| ids.is_empty() || ids.contains(&g.id))
        .filter(|g| name.as_ref().is_none_or(|n| g.name.contains(n.as_str())))
        .filter(|g| {
            fs.iter()
                .all(|(n, v)| tag_filter(n, v, &g.tags).unwrap_or(false))
        })
        .map(render)
        .collect();
    let total = found.len();
    Ok(json!({"DisasterRecoverGroupSet": paginate(p, &found, limits)?, "TotalCount": total}))
}

pub fn modify(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("DisasterRecoverGroupId")?;
    let name = p.req_str("Name")?;
    check_name(&name)?;
    let g = ctx
        .reg()
        .dr_groups
        .iter_mut()
        .find(|g| g.id == id)
        .ok_or_else(|| not_found(&id))?;
    g.name = name;
    Ok(json!({}))
}
