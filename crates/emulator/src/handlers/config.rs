//! Catalogue queries: instance families and types, network charge types, zone configurations.

use super::{check_zone, matches_any, unknown_filter, Ctx};
use crate::catalog;
use crate::util::{filters, ApiError, HResult, P};
use serde_json::{json, Value};

pub fn describe_instance_family_configs(_ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    if let Some(set) = catalog::example("DescribeInstanceFamilyConfigs")
        .and_then(|r| r.get("InstanceFamilyConfigSet"))
    {
        return Ok(json!({ "InstanceFamilyConfigSet": set }));
    }
    let set: Vec<Value> = catalog::FAMILIES
        .iter()
        .map(|(f, n)| json!({"InstanceFamilyName": n, "InstanceFamily": f}))
        .collect();
    Ok(json!({ "InstanceFamilyConfigSet": set }))
}

fn zone_filters(
    ctx: &Ctx<'_>,
    p: &P<'_>,
    known: &[&str],
) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let fs = filters(p)?;
    for (name, values) in &fs {
        if !known.contains(&name.as_str()) {
            return Err(unknown_filter(name));
        }
        if name == "zone" {
            for z in values {
                check_zone(&ctx.region, z)?;
            }
        }
    }
    Ok(fs)
}

pub fn describe_instance_type_configs(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let fs = zone_filters(ctx, p, &["zone", "instance-family", "instance-type"])?;
    if let Some((n, _)) = fs.iter().find(|(_, v)| v.len() > 1) {
        return Err(ApiError::new(
            "InvalidFilterValue.LimitExceeded",
            format!("The filter `{n}` takes one value."),
        ));
    }
    let mut set = vec![];
    for z in catalog::zones(&ctx.region) {
        for t in catalog::TYPES {
            let ok = fs.iter().all(|(n, v)| match n.as_str() {
                "zone" => matches_any(v, &z.zone),
                "instance-type" => matches_any(v, t.name),
                _ => matches_any(v, t.family),
            });
            if ok {
                set.push(json!({
                    "Zone": z.zone, "InstanceType": t.name, "InstanceFamily": t.family,
                    "GPU": t.gpu, "CPU": t.cpu, "Memory": t.memory, "FPGA": 0,
                    "GpuCount": t.gpu as f64,
                }));
            }
        }
    }
    Ok(json!({ "InstanceTypeConfigSet": set }))
}

pub fn describe_internet_charge_type_configs(_ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    if let Some(set) = catalog::example("DescribeInternetChargeTypeConfigs")
        .and_then(|r| r.get("InternetChargeTypeConfigSet"))
    {
        return Ok(json!({ "InternetChargeTypeConfigSet": set }));
    }
    let set = json!([
        {"InternetChargeType": "BANDWIDTH_PREPAID", "Description": "Bill by bandwidth"},
        {"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR", "Description": "Bill by traffic"},
        {"InternetChargeType": "BANDWIDTH_POSTPAID_BY_HOUR", "Description": "Bill by bandwidth usage time"},
        {"InternetChargeType": "BANDWIDTH_PACKAGE", "Description": "Bill by bandwidth package"},
    ]);
    Ok(json!({ "InternetChargeTypeConfigSet": set }))
}

fn sort_key_error(s: &str) -> ApiError {
    ApiError::new(
        "InvalidParameterValue",
        format!("`{s}` is not a sort key (cpu, mem or gpu, then :asc or :desc)."),
    )
}

pub fn describe_zone_instance_config_infos(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let fs = zone_filters(
        ctx,
        p,
        &[
            "zone",
            "instance-family",
            "instance-type",
            "instance-charge-type",
            "sort-keys",
        ],
    )?;
    // `sort-keys`: `<key>:<asc|desc>` each, the first the most significant.
    let mut order: Vec<(&'static str, bool)> = vec![];
    for (n, v) in &fs {
        if n != "sort-keys" {
            continue;
        }
        for s in v {
            let (key, dir) = s.split_once(':').unwrap_or((s.as_str(), "asc"));
            let field = match key.to_ascii_lowercase().as_str() {
                "cpu" => "Cpu",
                "mem" | "memory" => "Memory",
                "gpu" => "Gpu",
                _ => "",
            };
            let desc = match dir.to_ascii_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                _ => return Err(sort_key_error(s)),
            };
            if field.is_empty() {
                return Err(sort_key_error(s));
            }
            order.push((field, desc));
        }
    }
    for (n, v) in &fs {
        if n == "instance-type" {
            for t in v {
                crate::handlers::instances::parse_type(t)?;
            }
        }
    }
    let mut set = vec![];
    for z in catalog::zones(&ctx.region) {
        for t in catalog::TYPES {
            for charge in ["POSTPAID_BY_HOUR", "PREPAID"] {
                let ok = fs.iter().all(|(n, v)| match n.as_str() {
                    "zone" => matches_any(v, &z.zone),
                    "instance-family" => matches_any(v, t.family),
                    "instance-type" => matches_any(v, t.name),
                    "instance-charge-type" => matches_any(v, charge),
                    _ => true, // sort-keys orders, it does not select
                });
                if !ok {
                    continue;
                }
                let price = if charge == "PREPAID" {
                    let m = catalog::monthly_price(t.cpu, t.memory);
                    json!({"OriginalPrice": m, "DiscountPrice": m})
                } else {
                    json!({"UnitPrice": catalog::hourly_price(t.cpu, t.memory), "ChargeUnit": "HOUR"})
                };
                set.push(json!({
                    "Zone": z.zone, "InstanceType": t.name, "InstanceChargeType": charge,
                    "NetworkCard": 25, "Externals": {}, "Cpu": t.cpu, "Memory": t.memory,
                    "InstanceFamily": t.family, "TypeName": t.name, "LocalDiskTypeList": [],
                    "Status": "SELL", "Price": price, "Gpu": t.gpu, "GpuCount": t.gpu as f64,
                    "Fpga": 0, "SoldOutReason": "", "Remark": "", "StorageBlockAmount": 0,
                    "InstanceBandwidth": 1.5, "InstancePps": 20, "StatusCategory": "EnoughStock",
                    "CpuType": if t.family.starts_with("SA") { "AMD EPYC" } else { "Intel Xeon" },
                    "Frequency": "2.5GHz",
                }));
            }
        }
    }
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    set.sort_by(|a, b| {
        order
            .iter()
            .map(|(k, desc)| {
                let o = num(a, k).cmp(&num(b, k));
                if *desc {
                    o.reverse()
                } else {
                    o
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(json!({ "InstanceTypeQuotaSet": set }))
}
