//! Lifecycle: start, stop, reboot, terminate, reinstall (ResetInstance) and passwords.

use super::{check_password, existing, find_image_os, instance_of, one, require_state, transition};
use crate::handlers::Ctx;
use crate::util::{ApiError, HResult, P};
use serde_json::json;

pub fn start_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    require_state(ctx, &ids, &["STOPPED"])?;
    let d = ctx.world.timers.starting;
    transition(ctx, &ids, "STARTING", "RUNNING", d);
    Ok(json!({}))
}

pub fn stop_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    p.boolean("ForceStop")?;
    if let Some(t) = p.str("StopType") {
        if !["SOFT", "HARD", "SOFT_FIRST"].contains(&t.as_str()) {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("`{t}` is not a StopType."),
            ));
        }
    }
    if let Some(m) = p.str("StoppedMode") {
        if !["KEEP_CHARGING", "STOP_CHARGING"].contains(&m.as_str()) {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("`{m}` is not a StoppedMode."),
            ));
        }
    }
    require_state(ctx, &ids, &["RUNNING"])?;
    let d = ctx.world.timers.stopping;
    transition(ctx, &ids, "STOPPING", "STOPPED", d);
    let mode = p
        .str("StoppedMode")
        .unwrap_or_else(|| "KEEP_CHARGING".into());
    let reg = ctx.reg();
    for id in &ids {
        if let Some(i) = reg.instance_mut(id) {
            i.extra.stopped_mode = mode.clone();
        }
    }
    Ok(json!({}))
}

pub fn reboot_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    p.boolean("ForceReboot")?;
    require_state(ctx, &ids, &["RUNNING"])?;
    let d = ctx.world.timers.rebooting;
    transition(ctx, &ids, "REBOOTING", "RUNNING", d);
    Ok(json!({}))
}

pub fn terminate_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    require_state(ctx, &ids, &["RUNNING", "STOPPED", "LAUNCH_FAILED"])?;
    // The service's code for an instance with termination protection (DisableApiTermination).
    let code = ctx.code(&["UnsupportedOperation.InstancesProtected"]);
    let reg = ctx.reg();
    if let Some(i) = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .find(|i| i.extra.protected)
    {
        return Err(ApiError::new(
            code,
            format!(
                "The instance `{}` has DisableApiTermination set: it cannot be terminated.",
                i.id
            ),
        ));
    }
    let d = ctx.world.timers.terminating;
    transition(ctx, &ids, "TERMINATING", "", d);
    Ok(json!({}))
}

/// What a reinstall (ResetInstance, InquiryPriceResetInstance) changes, checked.
pub struct Reinstall {
    pub id: String,
    /// (image id, OS name) when `ImageId` is given.
    pub image: Option<(String, String)>,
    /// The system disk's new size, when `SystemDisk.DiskSize` is given.
    pub disk_size: Option<i64>,
    /// The OS switches between Linux and Windows: the system disk gets a new id.
    pub new_disk: bool,
}

fn is_windows(os_name: &str) -> bool {
    os_name.to_ascii_lowercase().contains("windows")
}

/// Check a reinstall as the reference describes it: the system disk may only grow, keeps its
/// type, and the OS may switch between Linux and Windows only on a CLOUD_BASIC, CLOUD_PREMIUM
/// or CLOUD_SSD system disk (whose id then changes).
pub fn reinstall(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Reinstall, ApiError> {
    let id = one(ctx, p, "InstanceId")?;
    let image = match p.str("ImageId") {
        Some(img) => Some((img.clone(), find_image_os(ctx, &img)?)),
        None => None,
    };
    let sd = p.obj("SystemDisk");
    let disk_size = sd
        .as_ref()
        .map(|s| s.int("DiskSize"))
        .transpose()?
        .flatten();
    let disk_type = sd.as_ref().and_then(|s| s.str("DiskType"));
    let inst = instance_of(ctx, &id)?;
    let current = &inst.system_disk;
    if let Some(t) = disk_type.filter(|t| *t != current.disk_type) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!(
                "A reinstall cannot change the system disk type: it is {}, not {t}.",
                current.disk_type
            ),
        ));
    }
    if let Some(size) = disk_size {
        if size < current.disk_size || size > 1024 {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!(
                    "SystemDisk.DiskSize can only grow the system disk: from {} to at most 1024 GB.",
                    current.disk_size
                ),
            ));
        }
    }
    let new_disk = image
        .as_ref()
        .is_some_and(|(_, os)| is_windows(os) != is_windows(&inst.os_name));
    if new_disk
        && !["CLOUD_BASIC", "CLOUD_PREMIUM", "CLOUD_SSD"].contains(&current.disk_type.as_str())
    {
        return Err(ApiError::new(
            "InvalidInstance.NotSupported",
            format!(
                "Switching between Linux and Windows needs a CLOUD_BASIC, CLOUD_PREMIUM or CLOUD_SSD system disk; `{id}` has {}.",
                current.disk_type
            ),
        ));
    }
    Ok(Reinstall {
        id,
        image,
        disk_size,
        new_disk,
    })
}

pub fn reset_instance(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let plan = reinstall(ctx, p)?;
    if let Some(ls) = p.obj("LoginSettings") {
        if let Some(pw) = ls.str("Password") {
            check_password(&pw)?;
        }
    }
    let id = plan.id;
    require_state(ctx, std::slice::from_ref(&id), &["RUNNING", "STOPPED"])?;
    let d = ctx.world.timers.rebooting;
    transition(ctx, std::slice::from_ref(&id), "REBOOTING", "RUNNING", d);
    let disk_id = plan.new_disk.then(|| ctx.world.ids.id("disk"));
    if let Some(i) = ctx.reg().instance_mut(&id) {
        if let Some((img, os)) = plan.image {
            i.image_id = img;
            i.os_name = os;
        }
        if let Some(size) = plan.disk_size {
            i.system_disk.disk_size = size;
        }
        if let Some(d) = disk_id {
            i.system_disk.disk_id = d;
        }
    }
    Ok(json!({}))
}

pub fn reset_instances_password(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = existing(ctx, p, "InstanceIds")?;
    let pw = p.req_str("Password")?;
    check_password(&pw)?;
    if let Some(u) = p.str("UserName") {
        if u.len() > 64 {
            return Err(ApiError::new(
                "InvalidParameterValue.TooLong",
                "UserName is too long.",
            ));
        }
    }
    if p.boolean("ForceStop")?.unwrap_or(false) {
        require_state(ctx, &ids, &["RUNNING", "STOPPED"])?;
    } else {
        require_state(ctx, &ids, &["STOPPED"])?;
    }
    Ok(json!({}))
}
