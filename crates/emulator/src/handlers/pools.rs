//! Resource pool packs (dedicated capacity for instance types of the current families).

use super::{check_renew_flag, check_zone, matches_any, months, unknown_filter, Ctx};
use crate::catalog;
use crate::fam_state::PoolPack;
use crate::util::{filters, iso8601, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

/// Families sold as pool packs (those of the current description's examples).
const POOL_FAMILIES: &[&str] = &["S5", "SA2", "SA5", "S9"];

fn pool_types() -> impl Iterator<Item = &'static catalog::InstanceTypeDef> {
    catalog::TYPES
        .iter()
        .filter(|t| POOL_FAMILIES.contains(&t.family))
}

fn render(pk: &PoolPack, used: (i64, i64)) -> Value {
    json!({
        "DedicatedResourcePackId": pk.id, "DedicatedResourcePackName": pk.name,
        "Zone": pk.zone, "InstanceType": pk.instance_type, "InstanceFamily": pk.family,
        "ResourcePoolPackType": pk.pack_type, "Status": "ACTIVE",
        "TotalCapacity": {"Cpu": pk.cpu * pk.count, "Memory": pk.memory * pk.count, "Gpu": 0, "Disk": 0},
        "AvailableCapacity": {"Cpu": pk.cpu * pk.count - used.0, "Memory": pk.memory * pk.count - used.1, "Gpu": 0, "Disk": 0},
        "HostIp": "", "RackId": "", "SwitchId": "", "AutoPlacement": pk.auto_placement,
        "RenewFlag": pk.renew_flag, "StartTime": iso8601(pk.start), "EndTime": iso8601(pk.end),
    })
}

/// Zone, type and count and period of a purchase (or its price inquiry), checked.
fn order(
    ctx: &Ctx<'_>,
    p: &P<'_>,
) -> Result<(String, &'static catalog::InstanceTypeDef, i64, i64), ApiError> {
    let zone = p.req_str("Zone")?;
    check_zone(&ctx.region, &zone)
        .map_err(|e| ApiError::new("InvalidParameterValue", e.message))?;
    let it = p.req_str("InstanceType")?;
    let t = pool_types().find(|t| t.name == it).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue",
            format!("`{it}` is not sold as a resource pool pack."),
        )
    })?;
    let count = p.int("InstanceCount")?.unwrap_or(0);
    if !(1..=100).contains(&count) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "InstanceCount must be 1-100.",
        ));
    }
    let period = p.int("Period")?.unwrap_or(0);
    if ![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36].contains(&period) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Period must be 1-12, 24 or 36 months.",
        ));
    }
    Ok((zone, t, count, period))
}

pub fn inquire_price(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let (_, t, count, period) = order(ctx, p)?;
    let unit = catalog::round2(catalog::hourly_price(t.cpu, t.memory) * count as f64);
    let total = catalog::round2(catalog::monthly_price(t.cpu, t.memory) * (count * period) as f64);
    Ok(json!({"Price": {
        "UnitPrice": unit, "UnitPriceDiscount": unit, "ChargeUnit": "HOUR", "Discount": 100.0,
        "OriginalPrice": total, "DiscountPrice": total,
    }}))
}

pub fn purchase(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let (zone, t, count, period) = order(ctx, p)?;
    let pack_type = p
        .str("ResourcePoolPackType")
        .unwrap_or_else(|| "EXCLUSIVE".into());
    if !["EXCLUSIVE", "SHARED"].contains(&pack_type.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "ResourcePoolPackType must be EXCLUSIVE or SHARED.",
        ));
    }
    let renew = p
        .str("RenewFlag")
        .unwrap_or_else(|| "NOTIFY_AND_MANUAL_RENEW".into());
    check_renew_flag(&renew)?;
    let name = p.str("DedicatedResourcePoolPackName").unwrap_or_default();
    if name.chars().count() > 60 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "The name is longer than 60 characters.",
        ));
    }
    let auto = p.boolean("AutoPlacement")?.unwrap_or(true);
    if p.boolean("DryRun")?.unwrap_or(false) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded.",
        ));
    }
    let pk = PoolPack {
        id: ctx.world.ids.id("rpp"),
        name,
        zone,
        instance_type: t.name.into(),
        family: t.family.into(),
        pack_type,
        count,
        cpu: t.cpu,
        memory: t.memory,
        auto_placement: auto,
        renew_flag: renew,
        start: ctx.unix,
        end: ctx.unix + months(period),
        instances: vec![],
    };
    let id = pk.id.clone();
    ctx.reg().fam.pools.push(pk);
    Ok(json!({ "DedicatedResourcePackIdSet": [id] }))
}

const FILTERS: &[&str] = &[
    "dedicated-resource-pack-id",
    "zone",
    "instance-family",
    "instance-type",
    "status",
];

pub fn describe(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let fs = filters(p)?;
    if let Some((n, _)) = fs.iter().find(|(n, _)| !FILTERS.contains(&n.as_str())) {
        return Err(unknown_filter(n));
    }
    let max = p.int("MaxResults")?.unwrap_or(20);
    if !(1..=100).contains(&max) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "MaxResults must be 1-100.",
        ));
    }
    let start = match p.str("NextToken") {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| {
            ApiError::new(
                "InvalidParameterValue",
                "NextToken is not a token this API returned.",
            )
        })?,
    };
    let reg = ctx.reg();
    let found: Vec<Value> = reg
        .fam
        .pools
        .iter()
        .filter(|pk| {
            fs.iter().all(|(n, v)| match n.as_str() {
                "dedicated-resource-pack-id" => matches_any(v, &pk.id),
                "zone" => matches_any(v, &pk.zone),
                "instance-family" => matches_any(v, &pk.family),
                "instance-type" => matches_any(v, &pk.instance_type),
                _ => matches_any(v, "ACTIVE"),
            })
        })
        .map(|pk| {
            let used = pk
                .instances
                .iter()
                .filter_map(|i| reg.instance(i))
                .fold((0, 0), |a, i| (a.0 + i.cpu, a.1 + i.memory));
            render(pk, used)
        })
        .collect();
    let end = (start + max as usize).min(found.len());
    let page: Vec<Value> = found
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let next = (end < found.len()).then(|| end.to_string());
    Ok(json!({"DedicatedResourcePackSet": page, "NextToken": next}))
}

fn packs(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Vec<String>, ApiError> {
    let ids = p.req_list("DedicatedResourcePackIds")?;
    if let Some(bad) = ids.iter().find(|i| !well_formed(i, "rpp")) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The pack id `{bad}` is malformed."),
        ));
    }
    let fam = &ctx.reg().fam;
    if let Some(gone) = ids
        .iter()
        .find(|i| !fam.pools.iter().any(|pk| &pk.id == *i))
    {
        return Err(ApiError::new(
            "ResourceNotFound",
            format!("The resource pool pack `{gone}` does not exist."),
        ));
    }
    Ok(ids)
}

pub fn describe_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = packs(ctx, p)?;
    let reg = ctx.reg();
    let set: Vec<Value> = reg
        .fam
        .pools
        .iter()
        .filter(|pk| ids.contains(&pk.id))
        .map(|pk| {
            let live: Vec<&String> = pk
                .instances
                .iter()
                .filter(|i| reg.instance(i).is_some())
                .collect();
            json!({"DedicatedResourcePackId": pk.id, "InstanceIdSet": live,
                   "InstanceFamily": pk.family, "InstanceType": pk.instance_type, "Zone": pk.zone})
        })
        .collect();
    Ok(json!({ "DedicatedResourcePackInstanceSet": set }))
}

pub fn terminate(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = packs(ctx, p)?;
    let reg = ctx.reg();
    for pk in reg.fam.pools.iter().filter(|pk| ids.contains(&pk.id)) {
        if pk.instances.iter().any(|i| reg.instance(i).is_some()) {
            return Err(ApiError::new(
                "ResourceInUse",
                format!("The resource pool pack `{}` still holds instances.", pk.id),
            ));
        }
    }
    reg.fam.pools.retain(|pk| !ids.contains(&pk.id));
    Ok(json!({}))
}

pub fn type_configs(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    if !p.has("Filters") {
        return Err(ApiError::new(
            "MissingParameter",
            "The request is missing `Filters`.",
        ));
    }
    let fs = filters(p)?;
    if let Some((n, _)) = fs
        .iter()
        .find(|(n, _)| !["zone", "instance-family", "instance-type"].contains(&n.as_str()))
    {
        return Err(unknown_filter(n));
    }
    let mut set = vec![];
    for z in catalog::zones(&ctx.region) {
        for t in pool_types() {
            let ok = fs.iter().all(|(n, v)| match n.as_str() {
                "zone" => matches_any(v, &z.zone),
                "instance-family" => matches_any(v, t.family),
                _ => matches_any(v, t.name),
            });
            if ok {
                set.push(json!({"Zone": z.zone, "InstanceType": t.name, "InstanceFamily": t.family,
                    "GPU": t.gpu, "CPU": t.cpu, "Memory": t.memory, "FPGA": 0, "GpuCount": t.gpu as f64}));
            }
        }
    }
    Ok(json!({ "InstanceTypeConfigSet": set }))
}
