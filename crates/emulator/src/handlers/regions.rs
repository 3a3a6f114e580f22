//! Regions and zones.

use super::Ctx;
use crate::catalog;
use crate::util::{HResult, P};
use serde_json::{json, Value};

pub fn describe_regions(_ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    let set: Vec<Value> = catalog::REGIONS
        .iter()
        .map(|r| json!({"Region": r.region, "RegionName": r.name, "RegionState": "AVAILABLE"}))
        .collect();
    Ok(json!({"TotalCount": set.len(), "RegionSet": set}))
}

pub fn describe_zones(ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    let set: Vec<Value> = catalog::zones(&ctx.region)
        .into_iter()
        .map(|z| json!({"Zone": z.zone, "ZoneName": z.zone_name, "ZoneId": z.zone_id, "ZoneState": z.state}))
        .collect();
    Ok(json!({"TotalCount": set.len(), "ZoneSet": set}))
}
