//! Reading instances: DescribeInstances (filters, tags, pages), their status, the VNC URL
//! and the bandwidth configurations.

use super::{instance_of, one, rendered, require_state};
use crate::handlers::{check_ids, check_zone, matches_any, unknown_filter, Ctx};
use crate::state::Instance;
use crate::util::{filters, iso8601, obj, paginate, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

fn tag_matches(i: &Instance, name: &str, values: &[String]) -> bool {
    if let Some(key) = name.strip_prefix("tag:") {
        return i
            .tags
            .iter()
            .any(|(k, v)| k == key && matches_any(values, v));
    }
    match name {
        "tag-key" => i.tags.iter().any(|(k, _)| matches_any(values, k)),
        _ => i.tags.iter().any(|(_, v)| matches_any(values, v)),
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
    for (name, _) in &fs {
        let known = [
            "zone",
            "project-id",
            "host-id",
            "instance-id",
            "instance-name",
            "instance-charge-type",
            "private-ip-address",
            "public-ip-address",
            "tag-key",
            "tag-value",
        ];
        if !known.contains(&name.as_str()) && !name.starts_with("tag:") {
            return Err(unknown_filter(name));
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
    let reg = ctx.reg();
    let found: Vec<&Instance> = reg
        .instances()
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| {
            fs.iter().all(|(name, values)| match name.as_str() {
                "zone" => matches_any(values, &i.zone),
                "project-id" => matches_any(values, &i.project_id.to_string()),
                "host-id" => matches_any(values, &i.host_id),
                "instance-id" => matches_any(values, &i.id),
                "instance-name" => matches_any(values, &i.name),
                "instance-charge-type" => matches_any(values, &i.charge_type),
                "private-ip-address" => matches_any(values, &i.private_ip),
                "public-ip-address" => i
                    .public_ip
                    .as_ref()
                    .is_some_and(|ip| matches_any(values, ip)),
                _ => tag_matches(i, name, values),
            })
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
