//! CDH (dedicated hosts).

use super::tags::{is_tag_filter, render_tags, tag_filter, tag_specs};
use super::{
    check_ids, check_period, check_renew_flag, check_zone, matches_any, months, unknown_filter, Ctx,
};
use crate::state::Host;
use crate::util::{filters, iso8601, paginate, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

const CPU: i64 = 96;
const MEM: f64 = 384.0;
const DISK: i64 = 4000;

fn render(h: &Host, used: (i64, i64)) -> Value {
    json!({
        "Placement": {"Zone": h.zone, "ProjectId": h.project_id, "HostIds": [h.id]},
        "HostId": h.id, "HostType": h.host_type, "HostName": h.name,
        "HostChargeType": h.charge_type, "RenewFlag": h.renew_flag,
        "CreatedTime": iso8601(h.created), "ExpiredTime": iso8601(h.expired),
        "InstanceIds": h.instances, "HostState": h.state, "HostIp": h.ip,
        "HostResource": {
            "CpuTotal": CPU, "CpuAvailable": CPU - used.0,
            "MemTotal": MEM, "MemAvailable": MEM - used.1 as f64,
            "DiskTotal": DISK, "DiskAvailable": DISK, "DiskType": "LOCAL_SSD",
            "GpuTotal": 0, "GpuAvailable": 0,
        },
        "CageId": "", "Tags": render_tags(&h.tags),
    })
}

pub fn allocate_hosts(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let tags = tag_specs(p);
    let token = p.str("ClientToken");
    if let Some(t) = &token {
        if let Some(ids) = ctx.reg().host_tokens.get(t) {
            return Ok(json!({ "HostIdSet": ids }));
        }
    }
    let placement = p
        .obj("Placement")
        .ok_or_else(|| ApiError::new("MissingParameter", "The request is missing `Placement`."))?;
    let zone = placement.req_str("Zone")?;
    check_zone(&ctx.region, &zone)?;
    let project = placement.int("ProjectId")?.unwrap_or(0);
    if project < 0 {
        return Err(ApiError::new(
            "InvalidProjectId.NotFound",
            format!("The project `{project}` does not exist."),
        ));
    }
    let charge = p.str("HostChargeType").unwrap_or_else(|| "PREPAID".into());
    if charge != "PREPAID" {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Only PREPAID hosts are sold.",
        ));
    }
    let period = if p.has("HostChargePrepaid") {
        check_period(p, "HostChargePrepaid")?
    } else {
        1
    };
    let renew = p
        .obj("HostChargePrepaid")
        .and_then(|o| o.str("RenewFlag"))
        .unwrap_or_else(|| "NOTIFY_AND_MANUAL_RENEW".into());
    check_renew_flag(&renew)?;
    let host_type = p.str("HostType").unwrap_or_else(|| "HS1".into());
    let count = p.int("HostCount")?.unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "HostCount must be between 1 and 100.",
        ));
    }
    let mut ids = vec![];
    for _ in 0..count {
        let id = ctx.world.ids.id("host");
        let (ip, _) = ctx.world.ips(&[]);
        let unix = ctx.unix;
        let h = Host {
            id: id.clone(),
            name: String::new(),
            zone: zone.clone(),
            project_id: project,
            host_type: host_type.clone(),
            charge_type: charge.clone(),
            renew_flag: renew.clone(),
            created: unix,
            expired: unix + months(period),
            state: "RUNNING".into(),
            ip,
            instances: vec![],
            tags: tags.clone(),
        };
        ctx.reg().hosts.push(h);
        ids.push(id);
    }
    if let Some(t) = token {
        ctx.reg().host_tokens.insert(t, ids.clone());
    }
    Ok(json!({ "HostIdSet": ids }))
}

pub fn describe_hosts(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let fs = filters(p)?;
    for (n, v) in &fs {
        let known = [
            "zone",
            "project-id",
            "host-id",
            "host-name",
            "host-state",
            "host-type",
        ];
        if !known.contains(&n.as_str()) && !is_tag_filter(n) {
            return Err(unknown_filter(n));
        }
        if n == "zone" {
            for z in v {
                check_zone(&ctx.region, z)?;
            }
        }
        if n == "host-id" {
            if let Some(bad) = v.iter().find(|h| !well_formed(h, "host")) {
                return Err(ApiError::new(
                    "InvalidHostId.Malformed",
                    format!("The CDH id `{bad}` is malformed."),
                ));
            }
        }
    }
    let reg = ctx.reg();
    let found: Vec<Value> = reg
        .hosts
        .iter()
        .filter(|h| {
            fs.iter().all(|(n, v)| match n.as_str() {
                "zone" => matches_any(v, &h.zone),
                "project-id" => matches_any(v, &h.project_id.to_string()),
                "host-id" => matches_any(v, &h.id),
                "host-name" => matches_any(v, &h.name),
                "host-state" => matches_any(v, &h.state),
                "host-type" => matches_any(v, &h.host_type),
                _ => tag_filter(n, v, &h.tags).unwrap_or(false),
            })
        })
        .map(|h| {
            let used = reg
                .instances()
                .iter()
                .filter(|i| i.host_id == h.id)
                .fold((0, 0), |a, i| (a.0 + i.cpu, a.1 + i.memory));
            render(h, used)
        })
        .collect();
    let total = found.len();
    Ok(json!({"TotalCount": total, "HostSet": paginate(p, &found, limits)?}))
}

fn existing(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Vec<String>, ApiError> {
    let ids = p.req_list("HostIds")?;
    let reg = ctx.reg();
    check_ids(&ids, "host", "InvalidHostId", |id| {
        reg.hosts.iter().any(|h| h.id == id)
    })?;
    Ok(ids)
}

pub fn modify_hosts_attribute(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p)?;
    let name = p.str("HostName");
    if name.as_ref().is_some_and(|n| n.chars().count() > 60) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "HostName is longer than 60 characters.",
        ));
    }
    let flag = p.str("RenewFlag");
    if let Some(f) = &flag {
        check_renew_flag(f)?;
    }
    let reg = ctx.reg();
    for h in reg.hosts.iter_mut().filter(|h| ids.contains(&h.id)) {
        if let Some(n) = &name {
            h.name = n.clone();
        }
        if let Some(f) = &flag {
            h.renew_flag = f.clone();
        }
    }
    Ok(json!({}))
}

pub fn renew_hosts(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p)?;
    let period = check_period(p, "HostChargePrepaid")?;
    let reg = ctx.reg();
    for h in reg.hosts.iter_mut().filter(|h| ids.contains(&h.id)) {
        h.expired += months(period);
    }
    Ok(json!({}))
}
