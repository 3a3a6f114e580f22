//! Reading instances: DescribeInstances (filters, tags, pages), their status, the VNC URL
//! and the bandwidth configurations.

use super::{instance_of, one, rendered, require_state};
use crate::handlers::tags::{is_tag_filter, tag_filter};
use crate::handlers::{check_ids, check_zone, matches_any, unknown_filter, Ctx};
use crate::state::Instance;
use crate::util::{filters, iso8601, obj, paginate, parse_time, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

/// The filters of DescribeInstances, as the current description lists them (`tag:<key>`
/// aside).
pub const FILTERS: &[&str] = &[
    "zone",
    "project-id",
    "host-id",
    "dedicated-cluster-id",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "uuid",
    "security-group-id",
    "instance-name",
    "instance-charge-type",
    "instance-state",
    "private-ip-address",
    "public-ip-address",
    "ipv6-address",
    "tag-key",
    "tag-value",
    "creation-start-time",
    "creation-end-time",
];

/// Whether an instance passes one filter (its name checked before).
fn passes(i: &Instance, name: &str, values: &[String], times: &[Option<i64>]) -> bool {
    match name {
        "zone" => matches_any(values, &i.zone),
        "project-id" => matches_any(values, &i.project_id.to_string()),
        "host-id" => matches_any(values, &i.host_id),
        "dedicated-cluster-id" => matches_any(values, &i.extra.dedicated_cluster_id),
        "vpc-id" => matches_any(values, &i.vpc_id),
        "subnet-id" => matches_any(values, &i.subnet_id),
        "instance-id" => matches_any(values, &i.id),
        "uuid" => matches_any(values, &i.extra.uuid),
        "security-group-id" => i.security_group_ids.iter().any(|g| matches_any(values, g)),
        "instance-name" => matches_any(values, &i.name),
        "instance-charge-type" => matches_any(values, &i.charge_type),
        "instance-state" => matches_any(values, &i.state),
        "private-ip-address" => matches_any(values, &i.private_ip),
        "public-ip-address" => i
            .public_ip
            .as_ref()
            .is_some_and(|ip| matches_any(values, ip)),
        "ipv6-address" => i.extra.ipv6.iter().any(|a| matches_any(values, a)),
        // Created at or after any of the times given / at or before.
        "creation-start-time" => times.iter().flatten().any(|t| i.created >= *t),
        "creation-end-time" => times.iter().flatten().any(|t| i.created <= *t),
        _ => tag_filter(name, values, &i.tags).unwrap_or(false),
    }
}

pub fn describe_instances(ctx: &mut Ctx<'_>, p: &P<'_>, out: &mut Vec<u8>) -> Result<(), ApiError> {
    let limits = ctx.page_limits();
    let ids = p.str_list("InstanceIds");
    let fs = filters(p)?;
    if !ids.is_empty() && !fs.is_empty() {
        return Err(ApiError::new(
            ctx.code(&["InvalidParameterCombination", "InvalidParameter"]),
            "InstanceIds and Filters cannot be given together.",
        ));
    }
    check_ids(&ids, "ins", "InvalidInstanceId", |_| true)?;
    for (name, values) in &fs {
        if !FILTERS.contains(&name.as_str()) && !is_tag_filter(name) {
            return Err(unknown_filter(name));
        }
        if name.starts_with("creation-") {
            if let Some(bad) = values.iter().find(|v| parse_time(v).is_none()) {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    format!("`{bad}` is not a time (YYYY-MM-DD hh:mm:ss) for `{name}`."),
                ));
            }
        }
    }
    for (name, values) in &fs {
        if name == "zone" {
            for z in values {
                check_zone(&ctx.region.clone(), z)?;
            }
        }
        if name == "host-id" {
            for h in values {
                if !well_formed(h, "host") {
                    return Err(ApiError::new(
                        "InvalidHostId.Malformed",
                        format!("The CDH id `{h}` is malformed."),
                    ));
                }
            }
        }
    }
    let times: Vec<Vec<Option<i64>>> = fs
        .iter()
        .map(|(_, v)| v.iter().map(|s| parse_time(s)).collect())
        .collect();
    let reg = ctx.reg();
    let found: Vec<&Instance> = reg
        .instances()
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| {
            fs.iter()
                .zip(&times)
                .all(|((name, values), ts)| passes(i, name, values, ts))
        })
        .collect();
    let total = found.len();
    let page = paginate(p, &found, limits)?;
    // The members of `Response`, written from each instance's cached JSON.
    out.reserve(64 + page.iter().map(|i| rendered(i).len() + 1).sum::<usize>());
    out.extend_from_slice(b"\"TotalCount\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"InstanceSet\":[");
    for (n, i) in page.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(rendered(i));
    }
    out.push(b']');
    Ok(())
}

pub fn describe_instances_status(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let ids = p.str_list("InstanceIds");
    check_ids(&ids, "ins", "InvalidInstanceId", |_| true)?;
    let reg = ctx.reg();
    let found: Vec<Value> = reg
        .instances()
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .map(|i| json!({"InstanceId": i.id, "InstanceState": i.state}))
        .collect();
    let total = found.len();
    Ok(json!({"TotalCount": total, "InstanceStatusSet": paginate(p, &found, limits)?}))
}

pub fn describe_instance_vnc_url(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    require_state(ctx, std::slice::from_ref(&id), &["RUNNING"])?;
    let token = ctx.world.ids.id("vnc");
    Ok(json!({
        "InstanceVncUrl": format!("wss://bjvnc.qcloud.com:26789/vnc?s={}", token.trim_start_matches("vnc-"))
    }))
}

pub fn describe_instance_internet_bandwidth_configs(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    let i = instance_of(ctx, &id)?;
    Ok(obj(vec![(
        "InternetBandwidthConfigSet",
        json!([{
            "StartTime": iso8601(i.created),
            "EndTime": i.expired.map(iso8601).unwrap_or_else(|| "2099-12-31T23:59:59Z".into()),
            "InternetAccessible": {
                "InternetChargeType": i.internet_charge_type,
                "InternetMaxBandwidthOut": i.bandwidth_out,
                "PublicIpAssigned": i.public_ip.is_some(),
            }
        }]),
    )]))
}
