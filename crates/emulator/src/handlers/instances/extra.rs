//! Instance actions of the current API outside the 2017 reference: attributes, security-group
//! association, scheduled action timers, rescue mode, disk type, VPC, placement groups,
//! operation limits, termination prices and the account quota.

use super::{existing, instance_of, one, require_state, transition};
use crate::handlers::{matches_any, unknown_filter, Ctx};
use crate::util::{filters, iso8601, parse_time, ApiError, HResult, P};
use serde_json::{json, Value};

pub fn describe_instances_attributes(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let attrs = p.req_list("Attributes")?;
    if let Some(a) = attrs.iter().find(|a| a.as_str() != "UserData") {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{a}` is not an attribute DescribeInstancesAttributes returns."),
        ));
    }
    let ids = existing(ctx, p, "InstanceIds")?;
    let reg = ctx.reg();
    let set: Vec<Value> = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .map(|i| json!({"InstanceId": i.id, "Attributes": {"UserData": i.extra.user_data}}))
        .collect();
    Ok(json!({ "InstanceSet": set }))
}

fn security_groups(ctx: &mut Ctx<'_>, p: &P<'_>, add: bool) -> HResult {
    let sgs = p.req_list("SecurityGroupIds")?;
    let ids = existing(ctx, p, "InstanceIds")?;
    if let Some(s) = sgs.iter().find(|s| !crate::util::well_formed(s, "sg")) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The security group id `{s}` is malformed."),
        ));
    }
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            if add {
                for s in &sgs {
                    if !i.security_group_ids.contains(s) {
                        i.security_group_ids.push(s.clone());
                    }
                }
            } else {
                i.security_group_ids.retain(|s| !sgs.contains(s));
            }
        }
    }
    Ok(json!({}))
}

pub fn associate_security_groups(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    security_groups(ctx, p, true)
}

pub fn disassociate_security_groups(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    security_groups(ctx, p, false)
}

fn time_text(unix: i64) -> String {
    iso8601(unix)
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

pub fn import_instances_action_timer(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let timer = p.obj("ActionTimer").ok_or_else(|| {
        ApiError::new("MissingParameter", "The request is missing `ActionTimer`.")
    })?;
    let action = timer.req_str("TimerAction")?;
    if !matches!(action.as_str(), "TerminateInstances" | "StopInstances") {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{action}` is not a timer action (TerminateInstances, StopInstances)."),
        ));
    }
    let when = timer.req_str("ActionTime")?;
    let at = parse_time(&when).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue",
            format!("ActionTime `{when}` is not a time (YYYY-MM-DD hh:mm:ss)."),
        )
    })?;
    if at <= ctx.unix {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "ActionTime must be in the future.",
        ));
    }
    let release = timer
        .obj("Externals")
        .map(|e| e.boolean("ReleaseAddress"))
        .transpose()?
        .flatten()
        .unwrap_or(false);
    let mut out = vec![];
    for id in ids {
        let tid = ctx.world.ids.id("dat");
        ctx.reg().action_timers.push(crate::state::ActionTimer {
            id: tid.clone(),
            instance_id: id,
            action: action.clone(),
            at,
            status: "UNDO".into(),
            release_address: release,
        });
        out.push(tid);
    }
    Ok(json!({ "ActionTimerIds": out }))
}

pub fn describe_instances_action_timer(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let tids = p.str_list("ActionTimerIds");
    let ids = p.str_list("InstanceIds");
    let action = p.str("TimerAction");
    let statuses = p.str_list("StatusList");
    let start = p.str("StartActionTime").and_then(|s| parse_time(&s));
    let end = p.str("EndActionTime").and_then(|s| parse_time(&s));
    let reg = ctx.reg();
    let set: Vec<Value> = reg
        .action_timers
        .iter()
        .filter(|t| tids.is_empty() || tids.contains(&t.id))
        .filter(|t| ids.is_empty() || ids.contains(&t.instance_id))
        .filter(|t| action.as_ref().is_none_or(|a| a == &t.action))
        .filter(|t| statuses.is_empty() || statuses.contains(&t.status))
        .filter(|t| start.is_none_or(|s| t.at >= s) && end.is_none_or(|e| t.at <= e))
        .map(|t| {
            json!({
                "ActionTimerId": t.id, "InstanceId": t.instance_id, "TimerAction": t.action,
                "ActionTime": time_text(t.at), "Status": t.status,
                "Externals": {"ReleaseAddress": t.release_address},
            })
        })
        .collect();
    Ok(json!({ "ActionTimers": set }))
}

pub fn delete_instances_action_timer(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let tids = p.req_list("ActionTimerIds")?;
    let reg = ctx.reg();
    if let Some(t) = tids
        .iter()
        .find(|t| !reg.action_timers.iter().any(|x| &x.id == *t))
    {
        return Err(ApiError::new(
            "ResourceNotFound",
            format!("The action timer `{t}` does not exist."),
        ));
    }
    reg.action_timers.retain(|t| !tids.contains(&t.id));
    Ok(json!({}))
}

pub fn enter_rescue_mode(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    super::check_password(&p.req_str("Password")?)?;
    let force = p.boolean("ForceStop")?.unwrap_or(false);
    let allowed: &[&str] = if force {
        &["RUNNING", "STOPPED"]
    } else {
        &["STOPPED"]
    };
    require_state(ctx, std::slice::from_ref(&id), allowed)?;
    let from = instance_of(ctx, &id)?.state;
    if let Some(i) = ctx.reg().instance_mut(&id) {
        i.extra.rescued_from = Some(from);
    }
    let d = ctx.world.timers.stopping;
    transition(ctx, &[id], "ENTER_RESCUE_MODE", "RESCUE_MODE", d);
    Ok(json!({}))
}

pub fn exit_rescue_mode(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    require_state(ctx, std::slice::from_ref(&id), &["RESCUE_MODE"])?;
    if let Some(i) = ctx.reg().instance_mut(&id) {
        i.extra.rescued_from = None;
    }
    let d = ctx.world.timers.starting;
    transition(ctx, &[id], "EXIT_RESCUE_MODE", "STOPPED", d);
    Ok(json!({}))
}

pub fn modify_instance_disk_type(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    let sys = p.obj("SystemDisk").and_then(|s| s.str("DiskType"));
    let data: Vec<String> = p
        .arr("DataDisks")
        .into_iter()
        .filter_map(|d| P(d).str("DiskType"))
        .collect();
    if sys.is_none() && data.is_empty() {
        return Err(ApiError::new(
            "MissingParameter",
            "Give SystemDisk.DiskType or DataDisks.N.DiskType.",
        ));
    }
    require_state(ctx, std::slice::from_ref(&id), &["STOPPED"])?;
    if let Some(i) = ctx.reg().instance_mut(&id) {
        if let Some(t) = sys {
            i.system_disk.disk_type = t;
        }
        for (disk, t) in i.data_disks.iter_mut().zip(data) {
            disk.disk_type = t;
        }
    }
    Ok(json!({}))
}

pub fn modify_instances_vpc_attribute(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let vpc = p.obj("VirtualPrivateCloud").ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            "The request is missing `VirtualPrivateCloud`.",
        )
    })?;
    let (vpc_id, subnet) = (vpc.req_str("VpcId")?, vpc.req_str("SubnetId")?);
    let force = p.boolean("ForceStop")?.unwrap_or(false);
    if !force {
        require_state(ctx, &ids, &["STOPPED"])?;
    }
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.vpc_id = vpc_id.clone();
            i.subnet_id = subnet.clone();
        }
    }
    Ok(json!({}))
}

pub fn convert_operating_systems(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let target = p.str("TargetOSType").unwrap_or_else(|| "TencentOS".into());
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.os_name = format!("{target} Server 3.1 (TK4)");
        }
    }
    let task = ctx.world.ids.id("task");
    Ok(json!({
        "SupportTargetOSList": [{"TargetOSType": target, "TargetOSVersion": "3.1"}],
        "TaskId": task,
    }))
}

pub fn describe_instances_modification(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let fs = filters(p)?;
    if let Some((n, _)) = fs.iter().find(|(n, _)| n != "status") {
        return Err(unknown_filter(n));
    }
    let mut set = vec![];
    for id in &ids {
        let inst = instance_of(ctx, id)?;
        for def in crate::catalog::TYPES.iter() {
            let status = "SELL";
            if def.name == inst.instance_type {
                continue;
            }
            if !fs.iter().all(|(_, v)| matches_any(v, status)) {
                continue;
            }
            set.push(json!({
                "Status": status, "Message": "",
                "InstanceTypeConfig": {
                    "Zone": inst.zone, "InstanceType": def.name, "InstanceFamily": def.family,
                    "GPU": def.gpu, "CPU": def.cpu, "Memory": def.memory, "FPGA": 0, "GpuCount": 0.0,
                },
            }));
        }
    }
    Ok(json!({ "TotalCount": set.len(), "InstanceTypeConfigStatusSet": set }))
}

pub fn describe_instances_operation_limit(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let op = p.req_str("Operation")?;
    if op != "INSTANCE_DEGRADE" {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{op}` is not an operation with a limit (INSTANCE_DEGRADE)."),
        ));
    }
    let set: Vec<Value> = ids
        .iter()
        .map(|id| json!({"Operation": op, "InstanceId": id, "CurrentCount": 0, "LimitCount": 3}))
        .collect();
    Ok(json!({ "InstanceOperationLimitSet": set }))
}

/// Move instances into a placement group (`to`) or out of the groups `from`.
fn regroup(ctx: &mut Ctx<'_>, ids: &[String], to: Option<&str>, from: &[String]) -> HResult {
    let reg = ctx.reg();
    if let Some(g) = to.or(from.first().map(String::as_str)) {
        if !reg.dr_groups.iter().any(|x| x.id == g) {
            return Err(ApiError::new(
                "ResourceNotFound",
                format!("The placement group `{g}` does not exist."),
            ));
        }
    }
    for g in reg.dr_groups.iter_mut() {
        let leaving = to.is_some() || from.contains(&g.id);
        if leaving {
            g.instances.retain(|i| !ids.contains(i));
        }
        if to == Some(g.id.as_str()) {
            g.instances.extend(ids.iter().cloned());
        }
    }
    for id in ids {
        if let Some(i) = reg.instance_mut(id) {
            if to.is_some() || i.dr_group.as_ref().is_some_and(|g| from.contains(g)) {
                i.dr_group = to.map(str::to_string);
            }
        }
    }
    Ok(json!({}))
}

pub fn modify_instances_disaster_recover_group(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let to = p
        .str("DisasterRecoverGroupId")
        .or_else(|| p.str_list("DisasterRecoverGroupIds").into_iter().next());
    match to {
        Some(g) => regroup(ctx, &ids, Some(&g), &[]),
        None => Err(ApiError::new(
            "MissingParameter",
            "The request is missing `DisasterRecoverGroupId`.",
        )),
    }
}

pub fn delete_instances_disaster_recover_groups(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let groups = p.req_list("DisasterRecoverGroupIds")?;
    regroup(ctx, &ids, None, &groups)
}

pub fn inquiry_price_terminate_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let unix = ctx.unix;
    let mut set = vec![];
    for id in &ids {
        let i = instance_of(ctx, id)?;
        // A prepaid instance refunds its unused months (at its monthly price); others nothing.
        let refund = match i.expired {
            Some(exp) if i.charge_type == "PREPAID" && exp > unix => {
                let months_left = (exp - unix) as f64 / (30.0 * 86_400.0);
                (months_left * (i.cpu * 50 + i.memory * 20) as f64 * 100.0).round() / 100.0
            }
            _ => 0.0,
        };
        set.push(json!({"InstanceId": i.id, "Refunds": refund, "PriceDetail": ""}));
    }
    Ok(json!({ "InstanceRefundsSet": set }))
}

pub fn describe_account_quota(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let fs = filters(p)?;
    let mut zones: Option<Vec<String>> = None;
    let mut kinds: Option<Vec<String>> = None;
    for (n, v) in fs {
        match n.as_str() {
            "zone" => zones = Some(v),
            "quota-type" => kinds = Some(v),
            other => return Err(unknown_filter(other)),
        }
    }
    let region = ctx.region.clone();
    let total = ctx.world.instance_quota as i64;
    let (image_quota, dr_quota) = (ctx.world.image_quota, ctx.world.dr_group_quota);
    let reg = ctx.reg();
    let all_zones: Vec<String> = crate::catalog::zones(&region)
        .into_iter()
        .map(|z| z.zone)
        .filter(|z| zones.as_ref().is_none_or(|w| w.contains(z)))
        .collect();
    let used = |zone: &str, charge: &str| {
        reg.instances()
            .iter()
            .filter(|i| i.zone == zone && i.charge_type == charge)
            .count() as i64
    };
    let per_zone = |charge: &str, once: bool| -> Vec<Value> {
        all_zones
            .iter()
            .map(|z| {
                let u = used(z, charge);
                let mut v = json!({"Zone": z, "UsedQuota": u, "RemainingQuota": (total - u).max(0), "TotalQuota": total});
                if once {
                    v["OnceQuota"] = json!(100);
                }
                v
            })
            .collect()
    };
    let want = |k: &str| kinds.as_ref().is_none_or(|w| w.iter().any(|x| x == k));
    let pick = |k: &str, v: Vec<Value>| if want(k) { v } else { vec![] };
    let images = reg.images.len();
    let groups = reg.dr_groups.len();
    Ok(json!({
        "AppId": 1_000_000_001_i64,
        "AccountQuotaOverview": {
            "Region": region,
            "AccountQuota": {
                "PostPaidQuotaSet": pick("PostPaidQuotaSet", per_zone("POSTPAID_BY_HOUR", false)),
                "PrePaidQuotaSet": pick("PrePaidQuotaSet", per_zone("PREPAID", true)),
                "SpotPaidQuotaSet": pick("SpotPaidQuotaSet", per_zone("SPOTPAID", false)),
                "ImageQuotaSet": pick("ImageQuotaSet", vec![json!({"UsedQuota": images, "TotalQuota": image_quota})]),
                "DisasterRecoverGroupQuotaSet": pick("DisasterRecoverGroupQuotaSet", vec![json!({
                    "GroupQuota": dr_quota, "CurrentNum": groups,
                })]),
            },
        },
    }))
}
