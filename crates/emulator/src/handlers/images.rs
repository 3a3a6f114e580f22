//! Images: public catalogue + private images per region (create, import, share, sync, quota).

use super::tags::{is_tag_filter, render_tags, tag_filter, tag_specs};
use super::{check_ids, matches_any, unknown_filter, Ctx};
use crate::catalog;
use crate::state::{after, Image};
use crate::util::{filters, iso8601, paginate, ApiError, HResult, P};
use serde_json::{json, Value};

/// The emulated account's own id (ModifyImageSharePermission refuses sharing with it).
pub const OWN_ACCOUNT: &str = "100000000001";

pub(crate) fn render(i: &Image) -> Value {
    json!({
        "ImageId": i.id, "OsName": i.os_name, "ImageType": i.image_type,
        "CreatedTime": iso8601(i.created), "ImageName": i.name, "ImageDescription": i.description,
        "ImageSize": i.size, "Architecture": i.arch, "ImageState": i.state, "Platform": i.platform,
        "ImageCreator": i.creator, "ImageSource": i.source,
        "SyncPercent": 100, "IsSupportCloudinit": true, "SnapshotSet": [],
        "Tags": render_tags(&i.tags), "LicenseType": "TencentCloud",
        "CdcCacheStatus": Some(&i.cdc_cache_status).filter(|s| !s.is_empty()),
    })
}

fn public_images() -> Vec<Image> {
    catalog::PUBLIC_IMAGES
        .iter()
        .map(|p| Image {
            id: p.id.into(),
            name: p.name.into(),
            description: p.name.into(),
            state: "NORMAL".into(),
            next: None,
            image_type: "PUBLIC_IMAGE".into(),
            os_name: p.os_name.into(),
            platform: p.platform.into(),
            arch: p.arch.into(),
            size: 50,
            created: 0,
            source: "OFFICIAL".into(),
            creator: "PUBLIC".into(),
            shared_with: vec![],
            tags: vec![],
            dedicated_cluster_id: String::new(),
            cdc_cache_status: String::new(),
        })
        .collect()
}

fn name_ok(ctx: &mut Ctx<'_>, name: &str, except: Option<&str>) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::new(
            "InvalidParameter.ValueTooLarge",
            "ImageName must be 1-60 characters.",
        ));
    }
    if ctx
        .reg()
        .images
        .iter()
        .any(|i| i.name == name && Some(i.id.as_str()) != except)
    {
        return Err(ApiError::new(
            "InvalidImageName.Duplicate",
            format!("An image named `{name}` exists."),
        ));
    }
    Ok(())
}

fn quota_ok(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    let quota = ctx.world.image_quota;
    if ctx.reg().images.len() as i64 >= quota {
        return Err(ApiError::new(
            "ImageQuotaLimitExceeded",
            "The image quota is exhausted.",
        ));
    }
    Ok(())
}

fn private(ctx: &mut Ctx<'_>, ids: &[String]) -> Result<(), ApiError> {
    let reg = ctx.reg();
    let public = public_images();
    check_ids(ids, "img", "InvalidImageId", |id| {
        reg.images.iter().any(|i| i.id == id) || public.iter().any(|i| i.id == id)
    })?;
    if let Some(id) = ids.iter().find(|id| public.iter().any(|i| &i.id == *id)) {
        return Err(ApiError::new(
            "InvalidImageId.IncorrectState",
            format!("The image `{id}` is a public image."),
        ));
    }
    Ok(())
}

/// The filters of DescribeImages, as the current description lists them (`tag:<key>` aside).
pub const FILTERS: &[&str] = &[
    "image-id",
    "image-type",
    "image-name",
    "platform",
    "tag-key",
    "tag-value",
    "dedicated-cluster-id",
    "cdc-cache-status",
];

/// Case-insensitive substring ("supports fuzzy matching", as the service says of names and
/// platforms).
fn fuzzy(values: &[String], v: &str) -> bool {
    let v = v.to_lowercase();
    values.iter().any(|x| v.contains(&x.to_lowercase()))
}

/// Whether an image passes one filter (its name checked before).
fn passes(i: &Image, name: &str, values: &[String]) -> bool {
    match name {
        "image-id" => matches_any(values, &i.id),
        "image-type" => matches_any(values, &i.image_type),
        "image-name" => fuzzy(values, &i.name),
        "platform" => fuzzy(values, &i.platform),
        "dedicated-cluster-id" => matches_any(values, &i.dedicated_cluster_id),
        // CACHED_ALL: any cache status.
        "cdc-cache-status" => {
            !i.cdc_cache_status.is_empty()
                && (matches_any(values, "CACHED_ALL") || matches_any(values, &i.cdc_cache_status))
        }
        _ => tag_filter(name, values, &i.tags).unwrap_or(false),
    }
}

pub fn describe_images(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let ids = p.str_list("ImageIds");
    let fs = filters(p)?;
    if !ids.is_empty() && !fs.is_empty() {
        return Err(ApiError::new(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            "ImageIds and Filters cannot be given together.",
        ));
    }
    check_ids(&ids, "img", "InvalidImageId", |_| true)?;
    for (n, _) in &fs {
        if !FILTERS.contains(&n.as_str()) && !is_tag_filter(n) {
            return Err(unknown_filter(n));
        }
    }
    if let Some(t) = p.str("InstanceType") {
        super::instances::parse_type(&t)?;
    }
    let mut all = public_images();
    all.extend(ctx.reg().images.iter().cloned());
    // Only the page is rendered.
    let found: Vec<&Image> = all
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| fs.iter().all(|(n, v)| passes(i, n, v)))
        .collect();
    let total = found.len();
    let page = paginate(p, &found, limits).map_err(|e| {
        ApiError::new(
            ctx.code(&[
                "InvalidParameterValue.InvalidParameterValueLimit",
                "InvalidParameterValue",
            ]),
            e.message,
        )
    })?;
    let page: Vec<Value> = page.into_iter().map(render).collect();
    Ok(json!({"ImageSet": page, "TotalCount": total}))
}

pub fn create_image(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let iid = p.req_str("InstanceId")?;
    let name = p.req_str("ImageName")?;
    let desc = p.str("ImageDescription").unwrap_or_default();
    for k in ["ForcePoweroff", "Sysprep", "Reboot"] {
        if let Some(v) = p.str(k) {
            if !["TRUE", "FALSE", "true", "false"].contains(&v.as_str()) {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    format!("{k} must be TRUE or FALSE."),
                ));
            }
        }
    }
    let reg = ctx.reg();
    check_ids(
        std::slice::from_ref(&iid),
        "ins",
        "InvalidInstanceId",
        |id| reg.instance(id).is_some(),
    )?;
    let inst = reg
        .instance(&iid)
        .cloned()
        .ok_or_else(|| ApiError::new("InvalidInstanceId.NotFound", "No instance found."))?;
    let force = ["ForcePoweroff", "Reboot"]
        .iter()
        .any(|k| p.str(k).is_some_and(|v| v.eq_ignore_ascii_case("true")));
    if !(inst.state == "STOPPED" || (inst.state == "RUNNING" && force)) {
        return Err(ApiError::new(
            "InvalidInstance.NotSupported",
            format!("The instance `{iid}` is {}.", inst.state),
        ));
    }
    if reg
        .images
        .iter()
        .any(|i| i.state == "CREATING" && i.source == iid)
    {
        return Err(ApiError::new(
            "MutexOperation.TaskRunning",
            format!("An image of `{iid}` is being created."),
        ));
    }
    name_ok(ctx, &name, None)?;
    quota_ok(ctx)?;
    let id = ctx.world.ids.id("img");
    let due = after(ctx.now, ctx.world.timers.image_creating);
    let (platform, arch) = catalog::PUBLIC_IMAGES
        .iter()
        .find(|i| i.id == inst.image_id)
        .map(|i| (i.platform.to_string(), i.arch.to_string()))
        .unwrap_or_else(|| ("Linux".into(), "x86_64".into()));
    let img = Image {
        id: id.clone(),
        name,
        description: desc,
        state: "CREATING".into(),
        next: Some((due, "NORMAL")),
        image_type: "PRIVATE_IMAGE".into(),
        os_name: inst.os_name.clone(),
        platform,
        arch,
        size: inst.system_disk.disk_size,
        created: ctx.unix,
        source: iid,
        creator: OWN_ACCOUNT.into(),
        shared_with: vec![],
        tags: tag_specs(p),
        cdc_cache_status: if inst.extra.dedicated_cluster_id.is_empty() {
            String::new()
        } else {
            "CACHED".into()
        },
        dedicated_cluster_id: inst.extra.dedicated_cluster_id.clone(),
    };
    ctx.reg().images.push(img);
    super::misc::record_family(ctx, p, &id);
    Ok(json!({ "ImageId": id }))
}

pub fn delete_images(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("ImageIds")?;
    private(ctx, &ids)?;
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.images.iter().find(|i| &i.id == id) {
            if !i.shared_with.is_empty() {
                return Err(ApiError::new(
                    "InvalidImageId.InShared",
                    format!("The image `{id}` is shared."),
                ));
            }
            if i.state != "NORMAL" {
                return Err(ApiError::new(
                    "InvalidImageId.IncorrectState",
                    format!("The image `{id}` is {}.", i.state),
                ));
            }
        }
    }
    reg.images.retain(|i| !ids.contains(&i.id));
    Ok(json!({}))
}

pub fn modify_image_attribute(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("ImageId")?;
    private(ctx, std::slice::from_ref(&id))?;
    super::misc::record_family(ctx, p, &id);
    let name = p.str("ImageName");
    if let Some(n) = &name {
        name_ok(ctx, n, Some(&id))?;
    }
    let desc = p.str("ImageDescription");
    if desc.as_ref().is_some_and(|d| d.chars().count() > 60) {
        return Err(ApiError::new(
            "InvalidParameter.ValueTooLarge",
            "ImageDescription is longer than 60 characters.",
        ));
    }
    let img = ctx
        .reg()
        .images
        .iter_mut()
        .find(|i| i.id == id)
        .ok_or_else(|| ApiError::new("InvalidImageId.NotFound", "The image cannot be found."))?;
    if img.state != "NORMAL" {
        return Err(ApiError::new(
            "InvalidImageId.IncorrectState",
            format!("The image `{id}` is {}.", img.state),
        ));
    }
    if let Some(n) = name {
        img.name = n;
    }
    if let Some(d) = desc {
        img.description = d;
    }
    Ok(json!({}))
}

pub fn import_image(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let arch = p.req_str("Architecture")?;
    let os = p.req_str("OsType")?;
    let ver = p.req_str("OsVersion")?;
    let url = p.req_str("ImageUrl")?;
    let name = p.req_str("ImageName")?;
    if !["x86_64", "i386"].contains(&arch.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Architecture must be x86_64 or i386.",
        ));
    }
    let (windows, linux) = catalog::import_os();
    if !windows.contains(&os) && !linux.contains(&os) {
        return Err(ApiError::new(
            "InvalidImageOsType.Unsupported",
            format!("The OS type `{os}` is not supported."),
        ));
    }
    if ver.is_empty() {
        return Err(ApiError::new(
            "InvalidImageOsVersion.Unsupported",
            "The OS version is empty.",
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 12 {
        return Err(ApiError::new(
            "InvalidParameter.InvalidParameterUrlError",
            format!("`{url}` is not a COS URL."),
        ));
    }
    name_ok(ctx, &name, None)?;
    quota_ok(ctx)?;
    p.boolean("Force")?;
    let id = ctx.world.ids.id("img");
    let due = after(ctx.now, ctx.world.timers.image_creating);
    let img = Image {
        id: id.clone(),
        name,
        description: p.str("ImageDescription").unwrap_or_default(),
        state: "CREATING".into(),
        next: Some((due, "NORMAL")),
        image_type: "PRIVATE_IMAGE".into(),
        os_name: format!("{os} {ver}"),
        platform: os,
        arch,
        size: 50,
        created: ctx.unix,
        source: "IMPORT".into(),
        creator: OWN_ACCOUNT.into(),
        shared_with: vec![],
        tags: tag_specs(p),
        dedicated_cluster_id: String::new(),
        cdc_cache_status: String::new(),
    };
    ctx.reg().images.push(img);
    Ok(json!({ "ImageId": id }))
}

pub fn describe_import_image_os(_ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    if let Some(Value::Object(r)) = catalog::example("DescribeImportImageOs") {
        let mut out = r.clone();
        out.remove("RequestId");
        return Ok(Value::Object(out));
    }
    let (windows, linux) = catalog::import_os();
    let versions: Vec<Value> = windows
        .iter()
        .chain(linux.iter())
        .map(|os| json!({"OsName": os, "OsVersions": ["-"], "Architecture": ["x86_64", "i386"]}))
        .collect();
    Ok(json!({
        "ImportImageOsListSupported": {"Windows": windows, "Linux": linux},
        "ImportImageOsVersionSet": versions,
    }))
}

pub fn describe_image_share_permission(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("ImageId")?;
    private(ctx, std::slice::from_ref(&id))?;
    let set: Vec<Value> = ctx
        .reg()
        .images
        .iter()
        .find(|i| i.id == id)
        .map(|i| {
            i.shared_with
                .iter()
                .map(|(a, t)| json!({"CreateTime": iso8601(*t), "Account": a}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({ "SharePermissionSet": set }))
}

pub fn modify_image_share_permission(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("ImageId")?;
    let accounts = p.req_list("AccountIds")?;
    let perm = p.req_str("Permission")?;
    if perm != "SHARE" && perm != "CANCEL" {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Permission must be SHARE or CANCEL.",
        ));
    }
    private(ctx, std::slice::from_ref(&id))?;
    for a in &accounts {
        if a == OWN_ACCOUNT {
            return Err(ApiError::new(
                "InvalidAccountIs.YourSelf",
                "An image cannot be shared with its owner.",
            ));
        }
        if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::new(
                "InvalidAccountId.NotFound",
                format!("The account `{a}` does not exist."),
            ));
        }
    }
    let unix = ctx.unix;
    let img = ctx
        .reg()
        .images
        .iter_mut()
        .find(|i| i.id == id)
        .ok_or_else(|| ApiError::new("InvalidImageId.NotFound", "The image cannot be found."))?;
    if img.state != "NORMAL" {
        return Err(ApiError::new(
            "InvalidImageId.IncorrectState",
            format!("The image `{id}` is {}.", img.state),
        ));
    }
    if perm == "SHARE" {
        let new: Vec<&String> = accounts
            .iter()
            .filter(|a| !img.shared_with.iter().any(|(x, _)| x == *a))
            .collect();
        if img.shared_with.len() + new.len() > 50 {
            return Err(ApiError::new(
                "OverQuota",
                "An image can be shared with at most 50 accounts.",
            ));
        }
        for a in new {
            img.shared_with.push((a.clone(), unix));
        }
    } else {
        img.shared_with.retain(|(x, _)| !accounts.contains(x));
    }
    Ok(json!({}))
}

pub fn sync_images(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.req_list("ImageIds")?;
    let dests = p.req_list("DestinationRegions")?;
    for d in &dests {
        if catalog::region(d).is_none() {
            return Err(ApiError::new(
                "InvalidRegion.NotFound",
                format!("The region `{d}` does not exist."),
            ));
        }
        if *d == ctx.region {
            return Err(ApiError::new(
                "InvalidRegion.Unavailable",
                "The destination is the source region.",
            ));
        }
    }
    private(ctx, &ids)?;
    let mut copies = vec![];
    for id in &ids {
        let img = ctx
            .reg()
            .images
            .iter()
            .find(|i| &i.id == id)
            .cloned()
            .ok_or_else(|| {
                ApiError::new("InvalidImageId.NotFound", "The image cannot be found.")
            })?;
        if img.state != "NORMAL" {
            return Err(ApiError::new(
                "InvalidImageId.IncorrectState",
                format!("The image `{id}` is {}.", img.state),
            ));
        }
        if img.size > 500 {
            return Err(ApiError::new(
                "InvalidImageId.TooLarge",
                format!("The image `{id}` is too large to sync."),
            ));
        }
        copies.push(img);
    }
    let due = after(ctx.now, ctx.world.timers.image_creating);
    let now = ctx.now;
    let mut set = vec![];
    for d in &dests {
        for img in &copies {
            let mut c = img.clone();
            c.id = ctx.world.ids.id("img");
            set.push(json!({"ImageId": c.id, "Region": d}));
            c.state = "SYNCING".into();
            c.next = Some((due, "NORMAL"));
            c.shared_with.clear();
            c.created = ctx.unix;
            ctx.world.region(d, now).images.push(c);
        }
    }
    Ok(json!({ "ImageSet": set }))
}

pub fn describe_image_quota(ctx: &mut Ctx<'_>, _p: &P<'_>) -> HResult {
    Ok(json!({ "ImageNumQuota": ctx.world.image_quota }))
}
