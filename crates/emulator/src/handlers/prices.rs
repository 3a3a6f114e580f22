//! Price inquiries: deterministic prices from the catalogue (CNY).

use super::instances::{
    bandwidth_param, charge_change, check_password, disk_resize, parse_launch, parse_type,
};
use super::{check_ids, check_period, Ctx};
use crate::catalog::{disk_monthly_price, hourly_price, monthly_price, round2};
use crate::util::{ApiError, HResult, P};
use serde_json::{json, Value};

fn hourly(unit: f64) -> Value {
    json!({"UnitPrice": round2(unit), "ChargeUnit": "HOUR"})
}

fn prepaid(total: f64) -> Value {
    json!({"OriginalPrice": round2(total), "DiscountPrice": round2(total)})
}

fn existing(ctx: &mut Ctx<'_>, ids: &[String]) -> Result<Vec<crate::state::Instance>, ApiError> {
    let reg = ctx.reg();
    check_ids(ids, "ins", "InvalidInstanceId", |id| {
        reg.instance(id).is_some()
    })?;
    Ok(ids
        .iter()
        .filter_map(|id| reg.instance(id).cloned())
        .collect())
}

pub fn inquiry_price_run_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    if let Some(t) = p.str("ClientToken") {
        if t.len() > 64 {
            return Err(ApiError::new(
                "InvalidClientToken.TooLong",
                "ClientToken is longer than 64 characters.",
            ));
        }
    }
    if p.str("InstanceName")
        .is_some_and(|n| n.chars().count() > 60)
    {
        return Err(ApiError::new(
            "InvalidInstanceName.TooLong",
            "InstanceName is longer than 60 characters.",
        ));
    }
    if let Some(pw) = p.obj("LoginSettings").and_then(|l| l.str("Password")) {
        check_password(&pw)?;
    }
    let l = parse_launch(ctx, p)?;
    let n = l.count as f64;
    let disks: i64 = l.data_disks.iter().map(|d| d.1).sum::<i64>() + l.system_disk.1;
    let instance = match l.period {
        Some(m) => {
            prepaid(n * m as f64 * (monthly_price(l.cpu, l.memory) + disk_monthly_price(disks)))
        }
        None => hourly(n * (hourly_price(l.cpu, l.memory) + disk_monthly_price(disks) / 720.0)),
    };
    let mut price = json!({ "InstancePrice": instance });
    if l.bandwidth > 0 {
        price["BandwidthPrice"] = json!({"UnitPrice": 0.8, "ChargeUnit": "GB"});
    }
    Ok(json!({ "Price": price }))
}

pub fn inquiry_price_reset_instance(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("InstanceId")?;
    let inst = existing(ctx, std::slice::from_ref(&id))?;
    super::instances::reinstall(ctx, p)?;
    let i = &inst[0];
    let price = if i.charge_type == "PREPAID" {
        prepaid(0.0)
    } else {
        hourly(hourly_price(i.cpu, i.memory))
    };
    Ok(json!({"Price": {"InstancePrice": price}}))
}

pub fn inquiry_price_reset_instances_type(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("InstanceIds")?;
    let inst = existing(ctx, &ids)?;
    let (cpu, mem) = parse_type(&p.req_str("InstanceType")?)?;
    p.boolean("ForceStop")?;
    let mut total = 0.0;
    let mut unit = 0.0;
    for i in &inst {
        if i.charge_type == "PREPAID" {
            let months_left = ((i.expired.unwrap_or(ctx.unix) - ctx.unix).max(0) as f64
                / (30.0 * 86400.0))
                .ceil();
            total +=
                (monthly_price(cpu, mem) - monthly_price(i.cpu, i.memory)).max(0.0) * months_left;
        } else {
            unit += hourly_price(cpu, mem);
        }
    }
    let price = if inst.iter().all(|i| i.charge_type == "PREPAID") {
        prepaid(total)
    } else {
        hourly(unit)
    };
    Ok(json!({"Price": {"InstancePrice": price}}))
}

pub fn inquiry_price_resize_instance_disks(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    // The reference names this parameter InstanceIds (a single string) here, InstanceId elsewhere.
    let id = p
        .str("InstanceId")
        .or_else(|| p.str_list("InstanceIds").into_iter().next())
        .ok_or_else(|| ApiError::new("MissingParameter", "The request is missing `InstanceId`."))?;
    let inst = existing(ctx, std::slice::from_ref(&id))?;
    let sizes = disk_resize(ctx, p, &id)?;
    let i = &inst[0];
    let added: i64 = sizes.iter().sum::<i64>()
        - i.data_disks
            .iter()
            .take(sizes.len())
            .map(|d| d.disk_size)
            .sum::<i64>();
    let price = if i.charge_type == "PREPAID" {
        prepaid(disk_monthly_price(added.max(0)))
    } else {
        hourly(disk_monthly_price(added.max(0)) / 720.0)
    };
    Ok(json!({"Price": {"InstancePrice": price}}))
}

pub fn inquiry_price_renew_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("InstanceIds")?;
    let inst = existing(ctx, &ids)?;
    let period = check_period(p, "InstanceChargePrepaid")?;
    p.boolean("DryRun")?;
    p.boolean("RenewPortableDataDisk")?;
    if let Some(i) = inst.iter().find(|i| i.charge_type != "PREPAID") {
        return Err(ApiError::new(
            "InvalidInstance.NotSupported",
            format!("The instance `{}` is not prepaid.", i.id),
        ));
    }
    let total: f64 = inst
        .iter()
        .map(|i| monthly_price(i.cpu, i.memory) * period as f64)
        .sum();
    Ok(json!({"Price": {"InstancePrice": prepaid(total)}}))
}

pub fn inquiry_price_reset_bandwidth(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("InstanceIds")?;
    let inst = existing(ctx, &ids)?;
    let bw = bandwidth_param(p)?;
    let n = inst.len() as f64;
    let price = if inst.iter().all(|i| i.charge_type == "PREPAID") {
        prepaid(n * 20.0 * bw as f64)
    } else {
        hourly(n * 0.063 * bw as f64)
    };
    Ok(json!({"Price": {"BandwidthPrice": price}}))
}

pub fn inquiry_price_modify_charge_type(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("InstanceIds")?;
    let inst = existing(ctx, &ids)?;
    let period = charge_change(ctx, p, &ids)?;
    let total: f64 = inst
        .iter()
        .map(|i| monthly_price(i.cpu, i.memory) * period as f64)
        .sum();
    Ok(json!({"Price": {"InstancePrice": prepaid(total)}}))
}
