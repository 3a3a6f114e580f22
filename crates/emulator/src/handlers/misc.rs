//! Smaller actions of the current description: image families, image export, FPGA
//! programming, CDH renewal prices, repair tasks (DescribeTaskInfo, RepairTaskControl).

use super::{check_period, Ctx};
use crate::catalog;
use crate::fam_state::RepairTask;
use crate::util::{iso8601, paginate, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

/// Remember `ImageFamily` of a CreateImage/ModifyImageAttribute request for image `id`.
pub fn record_family(ctx: &mut Ctx<'_>, p: &P<'_>, id: &str) {
    if let Some(f) = p.str("ImageFamily") {
        ctx.reg().fam.image_families.insert(id.to_string(), f);
    }
}

pub fn describe_image_from_family(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let family = p.str("ImageFamily").unwrap_or_default();
    let reg = ctx.reg();
    let newest = reg
        .images
        .iter()
        .filter(|i| i.state == "NORMAL")
        .filter(|i| reg.fam.image_families.get(&i.id) == Some(&family))
        .max_by_key(|i| i.created);
    let image = newest.map(|i| {
        let mut v = super::images::render(i);
        if let Some(o) = v.as_object_mut() {
            o.insert("ImageFamily".into(), json!(family));
            o.insert("ImageDeprecated".into(), json!(false));
        }
        v
    });
    Ok(json!({ "Image": image }))
}

pub fn export_images(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let bucket = p.req_str("BucketName")?;
    if bucket.is_empty() {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "BucketName is empty.",
        ));
    }
    let ids = p.req_list("ImageIds")?;
    let format = p.str("ExportFormat").unwrap_or_else(|| "RAW".into());
    let ext = match format.to_ascii_uppercase().as_str() {
        "RAW" => "raw",
        "QCOW2" => "qcow2",
        "VHD" => "vhd",
        "VMDK" => "vmdk",
        _ => {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("`{format}` is not an export format (RAW, QCOW2, VHD, VMDK)."),
            ))
        }
    };
    let prefixes = p.str_list("FileNamePrefixList");
    if !prefixes.is_empty() && prefixes.len() != ids.len() {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "FileNamePrefixList must name one prefix per image.",
        ));
    }
    let reg = ctx.reg();
    for id in &ids {
        if catalog::PUBLIC_IMAGES.iter().any(|i| i.id == id) {
            return Err(ApiError::new(
                "UnsupportedOperation",
                format!("The image `{id}` is a public image."),
            ));
        }
        match reg.images.iter().find(|i| &i.id == id) {
            None => {
                return Err(ApiError::new(
                    "ResourceNotFound",
                    format!("The image `{id}` does not exist."),
                ))
            }
            Some(i) if i.image_type != "PRIVATE_IMAGE" || i.state != "NORMAL" => {
                return Err(ApiError::new(
                    "UnsupportedOperation",
                    format!("The image `{id}` is not a NORMAL private image."),
                ))
            }
            _ => {}
        }
    }
    if p.boolean("DryRun")?.unwrap_or(false) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded.",
        ));
    }
    let paths: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| match prefixes.get(n) {
            Some(pre) => format!("/{pre}.{ext}"),
            None => format!("/{id}_system.{ext}"),
        })
        .collect();
    reg.fam.next_export_task += 1;
    let task = 105_000_000 + reg.fam.next_export_task;
    Ok(json!({"TaskId": task, "CosPaths": paths}))
}

pub fn program_fpga_image(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("InstanceId")?;
    let url = p.req_str("FPGAUrl")?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "FPGAUrl must be a COS URL.",
        ));
    }
    let inst = ctx.reg().instance(&id).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFound",
            format!("The instance `{id}` does not exist."),
        )
    })?;
    let fpga =
        catalog::instance_type(&inst.instance_type).is_some_and(|t| t.family.starts_with("FX"));
    if !fpga {
        return Err(ApiError::new(
            "UnsupportedOperation",
            format!("The instance `{id}` has no FPGA ({}).", inst.instance_type),
        ));
    }
    if p.boolean("DryRun")?.unwrap_or(false) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded.",
        ));
    }
    Ok(json!({}))
}

pub fn inquiry_price_renew_hosts(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("HostIds")?;
    let reg = ctx.reg();
    super::check_ids(&ids, "host", "InvalidHostId", |id| {
        reg.hosts.iter().any(|h| h.id == id)
    })
    .map_err(|e| ApiError::new("InvalidParameterValue", e.message))?;
    let period = check_period(p, "HostChargePrepaid")
        .map_err(|e| ApiError::new("InvalidParameterValue", e.message))?;
    let total =
        catalog::round2(catalog::monthly_price(96, 384) * (period * ids.len() as i64) as f64);
    if p.boolean("DryRun")?.unwrap_or(false) {
        return Err(ApiError::new(
            "DryRunOperation",
            "The request would have succeeded.",
        ));
    }
    Ok(json!({"Price": {"HostPrice": {"OriginalPrice": total, "DiscountPrice": total}}}))
}

/// One pending maintenance task per instance of the region (made on first sight).
fn tasks(ctx: &mut Ctx<'_>) {
    let unix = ctx.unix;
    let reg = ctx.world.region(&ctx.region, ctx.now);
    let new: Vec<(String, String)> = reg
        .instances()
        .iter()
        .filter(|i| !reg.fam.tasks.iter().any(|t| t.instance_id == i.id))
        .map(|i| (i.id.clone(), i.zone.clone()))
        .collect();
    for (iid, zone) in new {
        let id = ctx.world.ids.id("rep");
        let reg = ctx.world.region(&ctx.region, ctx.now);
        reg.fam.tasks.push(RepairTask {
            id,
            instance_id: iid,
            zone,
            type_id: 101,
            status: 1,
            created: unix,
            auth_time: None,
            auth_type: 1,
        });
    }
}

fn render_task(t: &RepairTask, region: &str, alias: &str) -> Value {
    json!({
        "TaskId": t.id, "InstanceId": t.instance_id, "Alias": alias, "TaskTypeId": t.type_id,
        "TaskTypeName": "Instance maintenance", "TaskStatus": t.status, "DeviceStatus": 1,
        "OperateStatus": 1, "CreateTime": iso8601(t.created),
        "AuthTime": t.auth_time.map(iso8601), "EndTime": None::<String>, "TaskDetail": "",
        "Zone": t.zone, "Region": region, "VpcId": "", "VpcName": "", "SubnetId": "",
        "SubnetName": "", "WanIp": "", "LanIp": "", "Product": "CVM", "TaskSubType": None::<String>,
        "AuthType": t.auth_type, "AuthSource": "User",
    })
}

pub fn describe_task_info(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    for k in ["Limit", "Offset"] {
        if !p.has(k) {
            return Err(ApiError::new(
                "MissingParameter",
                format!("The request is missing `{k}`."),
            ));
        }
    }
    let product = p.str("Product");
    if product
        .as_ref()
        .is_some_and(|x| !["CVM", "CDH", "CPM2.0"].contains(&x.as_str()))
    {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Product must be CVM, CDH or CPM2.0.",
        ));
    }
    let status: Vec<String> = p.str_list("TaskStatus");
    let types: Vec<String> = p.str_list("TaskTypeIds");
    let ids = p.str_list("TaskIds");
    let instances = p.str_list("InstanceIds");
    let aliases = p.str_list("Aliases");
    let desc = p.int("Order")?.unwrap_or(0) == 1;
    tasks(ctx);
    let region = ctx.region.clone();
    let reg = ctx.reg();
    let mut found: Vec<(i64, Value)> = reg
        .fam
        .tasks
        .iter()
        .filter(|_| product.as_ref().is_none_or(|x| x == "CVM"))
        .filter(|t| status.is_empty() || status.contains(&t.status.to_string()))
        .filter(|t| types.is_empty() || types.contains(&t.type_id.to_string()))
        .filter(|t| ids.is_empty() || ids.contains(&t.id))
        .filter(|t| instances.is_empty() || instances.contains(&t.instance_id))
        .filter_map(|t| {
            let alias = reg.instance(&t.instance_id).map_or("", |i| i.name.as_str());
            (aliases.is_empty() || aliases.iter().any(|a| a == alias))
                .then(|| (t.created, render_task(t, &region, alias)))
        })
        .collect();
    found.sort_by_key(|(c, _)| *c);
    if desc {
        found.reverse();
    }
    let rows: Vec<Value> = found.into_iter().map(|(_, v)| v).collect();
    let total = rows.len();
    Ok(json!({"TotalCount": total, "RepairTaskInfoSet": paginate(p, &rows, limits)?}))
}

pub fn repair_task_control(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let product = p.req_str("Product")?;
    if !["CVM", "CDH", "CPM2.0"].contains(&product.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Product must be CVM, CDH or CPM2.0.",
        ));
    }
    let instances = p.req_list("InstanceIds")?;
    let id = p.req_str("TaskId")?;
    let op = p.req_str("Operate")?;
    if op != "AuthorizeRepair" {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Operate must be AuthorizeRepair.",
        ));
    }
    let when = match p.str("OrderAuthTime") {
        None => ctx.unix,
        Some(_) => ctx.unix + 3600,
    };
    if !well_formed(&id, "rep") {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The task id `{id}` is malformed."),
        ));
    }
    tasks(ctx);
    let t = ctx
        .reg()
        .fam
        .tasks
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound",
                format!("The task `{id}` does not exist."),
            )
        })?;
    if !instances.contains(&t.instance_id) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "InstanceIds must name the task's instance.",
        ));
    }
    if t.status != 1 {
        return Err(ApiError::new(
            "FailedOperation",
            format!("The task `{id}` is not waiting for authorization."),
        ));
    }
    t.status = 2;
    t.auth_time = Some(when);
    t.auth_type = 2;
    Ok(json!({ "TaskId": id }))
}
