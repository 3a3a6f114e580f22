//! HPC clusters: create, describe (paginated, tag filters), modify, delete; per region.

use super::tags::{render_tags, tag_filter, tag_specs};
use super::{check_zone, unknown_filter, Ctx};
use crate::fam_state::HpcCluster;
use crate::util::{filters, iso8601, paginate, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

/// The instances one cluster holds (the CvmQuotaTotal of the service's examples).
pub const QUOTA: i64 = 50;
const MAX_CLUSTERS: usize = 20;

fn render(c: &HpcCluster, live: &dyn Fn(&str) -> bool) -> Value {
    let ids: Vec<&String> = c.instances.iter().filter(|i| live(i)).collect();
    json!({
        "HpcClusterId": c.id, "Name": c.name, "Remark": c.remark, "CvmQuotaTotal": QUOTA,
        "Zone": c.zone, "CurrentNum": ids.len(), "CreateTime": iso8601(c.created),
        "InstanceIds": ids, "HpcClusterType": c.cluster_type,
        "HpcClusterBusinessId": c.business_id, "HpcClusterNetMode": 30,
        "Tags": render_tags(&c.tags),
    })
}

fn check_text(key: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.chars().count() > max {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{key}` is longer than {max} characters."),
        ));
    }
    Ok(())
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        format!("The HPC cluster `{id}` does not exist."),
    )
}

pub fn create(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let zone = p.req_str("Zone")?;
    check_zone(&ctx.region, &zone)
        .map_err(|e| ApiError::new("InvalidParameterValue", e.message))?;
    let name = p.req_str("Name")?;
    if name.is_empty() {
        return Err(ApiError::new("InvalidParameterValue", "Name is empty."));
    }
    check_text("Name", &name, 60)?;
    let remark = p.str("Remark").unwrap_or_default();
    check_text("Remark", &remark, 256)?;
    let cluster_type = p.str("HpcClusterType").unwrap_or_else(|| "STANDARD".into());
    if !["STANDARD", "TCCA"].contains(&cluster_type.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{cluster_type}` is not an HPC cluster type (STANDARD, TCCA)."),
        ));
    }
    if ctx.reg().fam.hpc.len() >= MAX_CLUSTERS {
        return Err(ApiError::new(
            "LimitExceeded",
            format!("At most {MAX_CLUSTERS} HPC clusters per region."),
        ));
    }
    let c = HpcCluster {
        id: ctx.world.ids.id("hpc"),
        name,
        remark,
        zone,
        cluster_type,
        business_id: p.str("HpcClusterBusinessId").unwrap_or_default(),
        tags: tag_specs(p),
        instances: vec![],
        created: ctx.unix,
    };
    let out = render(&c, &|_| true);
    ctx.reg().fam.hpc.push(c);
    Ok(json!({ "HpcClusterSet": [out] }))
}

pub fn describe(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let ids = p.str_list("HpcClusterIds");
    let fs = filters(p)?;
    for (n, v) in &fs {
        if tag_filter(n, v, &[]).is_none() {
            return Err(unknown_filter(n));
        }
    }
    let name = p.str("Name");
    let zone = p.str("Zone");
    let ctype = p.str("HpcClusterType");
    let business = p.str("HpcClusterBusinessId");
    let reg = ctx.reg();
    let live = |i: &str| reg.instance(i).is_some();
    let found: Vec<Value> = reg
        .fam
        .hpc
        .iter()
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .filter(|c| name.as_ref().is_none_or(|n| c.name.contains(n.as_str())))
        .filter(|c| zone.as_ref().is_none_or(|z| &c.zone == z))
        .filter(|c| ctype.as_ref().is_none_or(|t| &c.cluster_type == t))
        .filter(|c| business.as_ref().is_none_or(|b| &c.business_id == b))
        .filter(|c| {
            fs.iter()
                .all(|(n, v)| tag_filter(n, v, &c.tags).unwrap_or(false))
        })
        .map(|c| render(c, &live))
        .collect();
    let total = found.len();
    Ok(json!({"HpcClusterSet": paginate(p, &found, limits)?, "TotalCount": total}))
}

pub fn modify(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("HpcClusterId")?;
    let name = p.str("Name");
    let remark = p.str("Remark");
    if let Some(n) = &name {
        if n.is_empty() {
            return Err(ApiError::new("InvalidParameterValue", "Name is empty."));
        }
        check_text("Name", n, 60)?;
    }
    if let Some(r) = &remark {
        check_text("Remark", r, 256)?;
    }
    let c = ctx
        .reg()
        .fam
        .hpc
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(|| not_found(&id))?;
    if let Some(n) = name {
        c.name = n;
    }
    if let Some(r) = remark {
        c.remark = r;
    }
    Ok(json!({}))
}

pub fn delete(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("HpcClusterIds")?;
    if let Some(bad) = ids.iter().find(|i| !well_formed(i, "hpc")) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The HPC cluster id `{bad}` is malformed."),
        ));
    }
    let reg = ctx.reg();
    for id in &ids {
        let c = reg
            .fam
            .hpc
            .iter()
            .find(|c| &c.id == id)
            .ok_or_else(|| not_found(id))?;
        if c.instances.iter().any(|i| reg.instance(i).is_some()) {
            return Err(ApiError::new(
                "ResourceInUse",
                format!("The HPC cluster `{id}` still holds instances."),
            ));
        }
    }
    reg.fam.hpc.retain(|c| !ids.contains(&c.id));
    Ok(json!({}))
}
