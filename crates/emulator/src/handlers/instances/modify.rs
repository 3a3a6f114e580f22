//! Changing instances: attributes, project, type, disk sizes, renewals, charge type and
//! bandwidth (with the checks the price inquiries share).

use super::{existing, instance_of, one, parse_type, require_state, wrong_state};
use crate::handlers::{check_period, check_renew_flag, months, Ctx};
use crate::util::{ApiError, HResult, P};
use serde_json::json;

fn not_terminating(ctx: &mut Ctx<'_>, ids: &[String]) -> Result<(), ApiError> {
    let reg = ctx.reg();
    let bad = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .find(|i| i.state == "TERMINATING")
        .cloned();
    match bad {
        Some(i) => Err(wrong_state(ctx, &i, "not TERMINATING")),
        None => Ok(()),
    }
}

pub fn modify_instances_attribute(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let name = p.str("InstanceName");
    let sgs = p
        .get("SecurityGroups")
        .map(|_| p.str_list("SecurityGroups"));
    let protect = p.boolean("DisableApiTermination")?;
    let user_data = p.str("UserData");
    let role = p.str("CamRoleName");
    if name.is_none() && sgs.is_none() && protect.is_none() && user_data.is_none() && role.is_none()
    {
        return Err(ApiError::new(
            "MissingParameter",
            "Give at least one attribute to modify (InstanceName).",
        ));
    }
    if let Some(n) = &name {
        if n.is_empty() || n.chars().count() > 60 {
            return Err(ApiError::new(
                ctx.code(&["InvalidInstanceName.TooLong", "InvalidParameterValue"]),
                "InstanceName must be 1-60 characters.",
            ));
        }
    }
    not_terminating(ctx, &ids)?;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            if let Some(n) = &name {
                i.name = n.clone();
            }
            if let Some(s) = &sgs {
                i.security_group_ids = s.clone();
            }
            if let Some(b) = protect {
                i.extra.protected = b;
            }
            if let Some(u) = &user_data {
                i.extra.user_data = Some(u.clone());
            }
            if let Some(r) = &role {
                i.extra.cam_role_name = r.clone();
            }
        }
    }
    Ok(json!({}))
}

pub fn modify_instances_project(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let project = p
        .int("ProjectId")?
        .ok_or_else(|| ApiError::new("MissingParameter", "The request is missing `ProjectId`."))?;
    if project < 0 {
        return Err(ApiError::new(
            ctx.code(&["InvalidProjectId.NotFound", "InvalidParameterValue"]),
            format!("The project `{project}` does not exist."),
        ));
    }
    not_terminating(ctx, &ids)?;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.project_id = project;
        }
    }
    Ok(json!({}))
}

pub fn reset_instances_type(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let t = p.req_str("InstanceType")?;
    let (cpu, memory) = parse_type(&t)?;
    if p.boolean("ForceStop")?.unwrap_or(false) {
        require_state(ctx, &ids, &["RUNNING", "STOPPED"])?;
    } else {
        require_state(ctx, &ids, &["STOPPED"])?;
    }
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.instance_type = t.clone();
            i.cpu = cpu;
            i.memory = memory;
        }
    }
    Ok(json!({}))
}

/// The new sizes of ResizeInstanceDisks / InquiryPriceResizeInstanceDisks, checked.
pub fn disk_resize(ctx: &mut Ctx<'_>, p: &P<'_>, id: &str) -> Result<Vec<i64>, ApiError> {
    let disks = p.arr("DataDisks");
    if disks.is_empty() {
        return Err(ApiError::new(
            "MissingParameter",
            "The request is missing `DataDisks`.",
        ));
    }
    let inst = instance_of(ctx, id)?;
    let mut sizes = vec![];
    for (n, d) in disks.iter().enumerate() {
        let dp = P(d);
        let size = dp.int("DiskSize")?.ok_or_else(|| {
            ApiError::new("MissingParameter", "DataDisks.N.DiskSize is required.")
        })?;
        let current = match dp.str("DiskId") {
            Some(did) => inst.data_disks.iter().find(|x| x.disk_id == did),
            None => inst.data_disks.get(n),
        };
        let current = current.ok_or_else(|| {
            ApiError::new(
                "InvalidParameterValue",
                format!("The instance has no data disk number {n}."),
            )
        })?;
        if size <= current.disk_size || size > 16000 || size % 10 != 0 {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!(
                    "DataDisks.{n}.DiskSize must be a multiple of 10 GB above {} and at most 16000.",
                    current.disk_size
                ),
            ));
        }
        sizes.push(size);
    }
    Ok(sizes)
}

pub fn resize_instance_disks(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    let sizes = disk_resize(ctx, p, &id)?;
    if p.boolean("ForceStop")?.unwrap_or(false) {
        require_state(ctx, std::slice::from_ref(&id), &["RUNNING", "STOPPED"])?;
    } else {
        require_state(ctx, std::slice::from_ref(&id), &["STOPPED"])?;
    }
    let disks = p.arr("DataDisks");
    let reg = ctx.reg();
    if let Some(i) = reg.instance_mut(&id) {
        for (n, (d, size)) in disks.iter().zip(sizes).enumerate() {
            let did = P(d).str("DiskId");
            let target = match did {
                Some(did) => i.data_disks.iter_mut().find(|x| x.disk_id == did),
                None => i.data_disks.get_mut(n),
            };
            if let Some(t) = target {
                t.disk_size = size;
            }
        }
    }
    Ok(json!({}))
}

fn prepaid_only(ctx: &mut Ctx<'_>, ids: &[String]) -> Result<(), ApiError> {
    let reg = ctx.reg();
    let bad = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .find(|i| i.charge_type != "PREPAID")
        .map(|i| i.id.clone());
    match bad {
        Some(id) => Err(ApiError::new(
            "InvalidInstance.NotSupported",
            format!("The instance `{id}` is not prepaid."),
        )),
        None => Ok(()),
    }
}

pub fn renew_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let period = check_period(p, "InstanceChargePrepaid")?;
    p.boolean("RenewPortableDataDisk")?;
    prepaid_only(ctx, &ids)?;
    let unix = ctx.unix;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.expired = Some(i.expired.unwrap_or(unix).max(unix) + months(period));
        }
    }
    Ok(json!({}))
}

pub fn modify_instances_renew_flag(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let flag = p.req_str("RenewFlag")?;
    check_renew_flag(&flag)?;
    prepaid_only(ctx, &ids)?;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.renew_flag = flag.clone();
        }
    }
    Ok(json!({}))
}

/// The new bandwidth of (InquiryPrice)ResetInstancesInternetMaxBandwidth, checked.
pub fn bandwidth_param(p: &P<'_>) -> Result<i64, ApiError> {
    let ia = p.obj("InternetAccessible").ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            "The request is missing `InternetAccessible`.",
        )
    })?;
    let bw = ia.int("InternetMaxBandwidthOut")?.ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            "The request is missing `InternetAccessible.InternetMaxBandwidthOut`.",
        )
    })?;
    if !(0..=1000).contains(&bw) {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            "InternetMaxBandwidthOut must be between 0 and 1000.",
        ));
    }
    for k in ["StartTime", "EndTime"] {
        if let Some(d) = p.str(k) {
            let ok = d.len() == 10
                && d.bytes().enumerate().all(|(n, b)| {
                    if n == 4 || n == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            if !ok {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    format!("{k} must be YYYY-MM-DD."),
                ));
            }
        }
    }
    Ok(bw)
}

pub fn reset_instances_internet_max_bandwidth(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let bw = bandwidth_param(p)?;
    not_terminating(ctx, &ids)?;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.bandwidth_out = bw;
        }
    }
    Ok(json!({}))
}

/// The new charge type of (InquiryPrice)ModifyInstancesChargeType, checked.
pub fn charge_change(ctx: &mut Ctx<'_>, p: &P<'_>, ids: &[String]) -> Result<i64, ApiError> {
    let t = p.req_str("InstanceChargeType")?;
    if t != "PREPAID" {
        return Err(ApiError::new(
            "InvalidParameter",
            "Only a change to PREPAID is supported.",
        ));
    }
    let period = check_period(p, "InstanceChargePrepaid")?;
    let reg = ctx.reg();
    if let Some(i) = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .find(|i| i.charge_type != "POSTPAID_BY_HOUR")
    {
        return Err(ApiError::new(
            "InvalidInstance.NotSupported",
            format!(
                "The instance `{}` is {}, not POSTPAID_BY_HOUR.",
                i.id, i.charge_type
            ),
        ));
    }
    Ok(period)
}

pub fn modify_instances_charge_type(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let period = charge_change(ctx, p, &ids)?;
    let renew = p
        .obj("InstanceChargePrepaid")
        .and_then(|o| o.str("RenewFlag"));
    if let Some(f) = &renew {
        check_renew_flag(f)?;
    }
    not_terminating(ctx, &ids)?;
    let unix = ctx.unix;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.charge_type = "PREPAID".into();
            i.expired = Some(unix + months(period));
            if let Some(f) = &renew {
                i.renew_flag = f.clone();
            }
        }
    }
    Ok(json!({}))
}
