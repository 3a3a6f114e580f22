//! One module per resource family; `route` maps an action name onto its handler.

pub mod chc;
pub mod config;
pub mod drgroups;
pub mod hosts;
pub mod hpc;
pub mod images;
pub mod instances;
pub mod keypairs;
pub mod misc;
pub mod pools;
pub mod prices;
pub mod regions;
pub mod tags;
pub mod templates;

use super::catalog;
use super::state::World;
use super::util::{well_formed, ApiError, HResult, P};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// What a handler sees: the account, the request's region (validated), and the clock.
pub struct Ctx<'a> {
    pub world: &'a mut World,
    pub region: String,
    pub now: Instant,
    pub unix: i64,
    pub action: &'a str,
    /// The error codes the model documents for this action (empty: unknown).
    pub documented: &'static [tccvm_core::model::ErrorCode],
    /// A key pair generated before the account was locked (CreateKeyPair).
    pub keypair: Option<(String, String)>,
}

impl Ctx<'_> {
    pub fn reg(&mut self) -> &mut super::state::Region {
        let (now, unix) = (self.now, self.unix);
        self.world.region_at(&self.region, now, unix)
    }

    /// (default, maximum) Limit of this action's paginator in the model (20, 100 otherwise).
    pub fn page_limits(&self) -> (i64, i64) {
        let pg = tccvm_core::model::action(self.action).and_then(|a| a.paginator.as_ref());
        (
            pg.and_then(|p| p.default_limit).map_or(20, i64::from),
            pg.and_then(|p| p.max_limit).map_or(100, i64::from),
        )
    }

    /// The first of `candidates` that the model documents for this action or as a common
    /// code, else the first.
    pub fn code(&self, candidates: &[&'static str]) -> &'static str {
        for c in candidates {
            if self.documented.iter().any(|d| d.code == *c)
                || crate::model_view::documented(self.action, c)
            {
                return c;
            }
        }
        candidates
            .first()
            .copied()
            .unwrap_or("InvalidParameterValue")
    }
}

pub type Handler = fn(&mut Ctx<'_>, &P<'_>) -> HResult;

/// A handler that appends the members of `Response` itself to `out` (JSON object members,
/// without the braces and without RequestId): lists built from cached fragments. On an
/// error, what it appended is discarded.
pub type RawHandler = fn(&mut Ctx<'_>, &P<'_>, out: &mut Vec<u8>) -> Result<(), ApiError>;

pub enum Route {
    Value(Handler),
    Raw(RawHandler),
}

/// The handler of an action, by its API name.
pub fn route(action: &str) -> Option<Route> {
    let raw: RawHandler = match action {
        "DescribeInstances" => instances::describe_instances,
        "DescribeRegions" => |c, p, o| constant(c, p, o, regions::describe_regions),
        "DescribeZones" => |c, p, o| constant(c, p, o, regions::describe_zones),
        "DescribeInstanceFamilyConfigs" => {
            |c, p, o| constant(c, p, o, config::describe_instance_family_configs)
        }
        "DescribeInternetChargeTypeConfigs" => {
            |c, p, o| constant(c, p, o, config::describe_internet_charge_type_configs)
        }
        _ => return route_value(action).map(Route::Value),
    };
    Some(Route::Raw(raw))
}

/// action -> region -> the members of `Response`.
type Constants = HashMap<String, HashMap<String, Arc<[u8]>>>;

/// The answer of a handler that depends on nothing but the region (the catalogue is
/// constant and it reads no parameter and no account state): rendered once per region.
fn constant(
    ctx: &mut Ctx<'_>,
    p: &P<'_>,
    out: &mut Vec<u8>,
    make: Handler,
) -> Result<(), ApiError> {
    static CACHE: OnceLock<Mutex<Constants>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let hit = cache
        .lock()
        .ok()
        .and_then(|c| c.get(ctx.action).and_then(|m| m.get(&ctx.region)).cloned());
    let members = match hit {
        Some(m) => m,
        None => {
            let v = make(ctx, p)?;
            let doc = serde_json::to_vec(&v).unwrap_or_default();
            // `{...}` -> the members between the braces.
            let members: Arc<[u8]> = doc
                .get(1..doc.len().saturating_sub(1))
                .unwrap_or_default()
                .into();
            if let Ok(mut c) = cache.lock() {
                c.entry(ctx.action.to_string())
                    .or_default()
                    .insert(ctx.region.clone(), members.clone());
            }
            members
        }
    };
    out.extend_from_slice(&members);
    Ok(())
}

fn route_value(action: &str) -> Option<Handler> {
    use self::{
        config as c, drgroups as d, hosts as h, images as g, instances as i, keypairs as k,
        prices as p, regions as r,
    };
    let f: Handler = match action {
        "DescribeRegions" => r::describe_regions,
        "DescribeZones" => r::describe_zones,
        "RunInstances" => i::run_instances,
        "StartInstances" => i::start_instances,
        "StopInstances" => i::stop_instances,
        "RebootInstances" => i::reboot_instances,
        "TerminateInstances" => i::terminate_instances,
        "ResetInstance" => i::reset_instance,
        "ResetInstancesPassword" => i::reset_instances_password,
        "DescribeInstancesStatus" => i::describe_instances_status,
        "ModifyInstancesAttribute" => i::modify_instances_attribute,
        "ModifyInstancesProject" => i::modify_instances_project,
        "ResetInstancesType" => i::reset_instances_type,
        "ResizeInstanceDisks" => i::resize_instance_disks,
        "RenewInstances" => i::renew_instances,
        "ModifyInstancesRenewFlag" => i::modify_instances_renew_flag,
        "ResetInstancesInternetMaxBandwidth" => i::reset_instances_internet_max_bandwidth,
        "DescribeInstanceVncUrl" => i::describe_instance_vnc_url,
        "ModifyInstancesChargeType" => i::modify_instances_charge_type,
        "DescribeInstanceInternetBandwidthConfigs" => {
            i::describe_instance_internet_bandwidth_configs
        }
        "DescribeInstanceFamilyConfigs" => c::describe_instance_family_configs,
        "DescribeInstanceTypeConfigs" => c::describe_instance_type_configs,
        "DescribeInternetChargeTypeConfigs" => c::describe_internet_charge_type_configs,
        "DescribeZoneInstanceConfigInfos" => c::describe_zone_instance_config_infos,
        "InquiryPriceRunInstances" => p::inquiry_price_run_instances,
        "InquiryPriceResetInstance" => p::inquiry_price_reset_instance,
        "InquiryPriceResetInstancesType" => p::inquiry_price_reset_instances_type,
        "InquiryPriceResizeInstanceDisks" => p::inquiry_price_resize_instance_disks,
        "InquiryPriceRenewInstances" => p::inquiry_price_renew_instances,
        "InquiryPriceResetInstancesInternetMaxBandwidth" => p::inquiry_price_reset_bandwidth,
        "InquiryPriceModifyInstancesChargeType" => p::inquiry_price_modify_charge_type,
        "CreateDisasterRecoverGroup" => d::create,
        "DeleteDisasterRecoverGroups" => d::delete,
        "DescribeDisasterRecoverGroupQuota" => d::quota,
        "DescribeDisasterRecoverGroups" => d::describe,
        "ModifyDisasterRecoverGroupAttribute" => d::modify,
        "CreateImage" => g::create_image,
        "DeleteImages" => g::delete_images,
        "ModifyImageAttribute" => g::modify_image_attribute,
        "DescribeImages" => g::describe_images,
        "ImportImage" => g::import_image,
        "DescribeImportImageOs" => g::describe_import_image_os,
        "DescribeImageSharePermission" => g::describe_image_share_permission,
        "ModifyImageSharePermission" => g::modify_image_share_permission,
        "SyncImages" => g::sync_images,
        "DescribeImageQuota" => g::describe_image_quota,
        "CreateKeyPair" => k::create_key_pair,
        "DeleteKeyPairs" => k::delete_key_pairs,
        "ModifyKeyPairAttribute" => k::modify_key_pair_attribute,
        "AssociateInstancesKeyPairs" => k::associate,
        "DisassociateInstancesKeyPairs" => k::disassociate,
        "DescribeKeyPairs" => k::describe_key_pairs,
        "ImportKeyPair" => k::import_key_pair,
        "AllocateHosts" => h::allocate_hosts,
        "DescribeHosts" => h::describe_hosts,
        "ModifyHostsAttribute" => h::modify_hosts_attribute,
        "RenewHosts" => h::renew_hosts,
        // --- instances group (issue 14): launch templates, attributes, timers, rescue ---
        "CreateLaunchTemplate" => templates::create_launch_template,
        "CreateLaunchTemplateVersion" => templates::create_launch_template_version,
        "DeleteLaunchTemplate" => templates::delete_launch_template,
        "DeleteLaunchTemplateVersions" => templates::delete_launch_template_versions,
        "DescribeLaunchTemplates" => templates::describe_launch_templates,
        "DescribeLaunchTemplateVersions" => templates::describe_launch_template_versions,
        "ModifyLaunchTemplateDefaultVersion" => templates::modify_launch_template_default_version,
        "DescribeInstancesAttributes" => i::describe_instances_attributes,
        "AssociateSecurityGroups" => i::associate_security_groups,
        "DisassociateSecurityGroups" => i::disassociate_security_groups,
        "ImportInstancesActionTimer" => i::import_instances_action_timer,
        "DescribeInstancesActionTimer" => i::describe_instances_action_timer,
        "DeleteInstancesActionTimer" => i::delete_instances_action_timer,
        "EnterRescueMode" => i::enter_rescue_mode,
        "ExitRescueMode" => i::exit_rescue_mode,
        "ModifyInstanceDiskType" => i::modify_instance_disk_type,
        "ModifyInstancesVpcAttribute" => i::modify_instances_vpc_attribute,
        "ConvertOperatingSystems" => i::convert_operating_systems,
        "DescribeInstancesModification" => i::describe_instances_modification,
        "DescribeInstancesOperationLimit" => i::describe_instances_operation_limit,
        "ModifyInstancesDisasterRecoverGroup" => i::modify_instances_disaster_recover_group,
        "DeleteInstancesDisasterRecoverGroups" => i::delete_instances_disaster_recover_groups,
        "DescribeAccountQuota" => i::describe_account_quota,
        "InquiryPriceTerminateInstances" => i::inquiry_price_terminate_instances,
        // --- end instances group ---
        // Families of the current description: HPC, CHC, pool packs, images, hosts, tasks.
        "CreateHpcCluster" => hpc::create,
        "DeleteHpcClusters" => hpc::delete,
        "DescribeHpcClusters" => hpc::describe,
        "ModifyHpcClusterAttribute" => hpc::modify,
        "DescribeChcHosts" => chc::describe,
        "DescribeChcDeniedActions" => chc::denied_actions,
        "ModifyChcAttribute" => chc::modify_attribute,
        "ModifyChcNetworkMode" => chc::modify_network_mode,
        "ConfigureChcAssistVpc" => chc::configure_assist_vpc,
        "ConfigureChcDeployVpc" => chc::configure_deploy_vpc,
        "RemoveChcAssistVpc" => chc::remove_assist_vpc,
        "RemoveChcDeployVpc" => chc::remove_deploy_vpc,
        "DescribeResourcePoolPacks" => pools::describe,
        "DescribeResourcePoolPackInstances" => pools::describe_instances,
        "DescribeResourcePoolPackTypeConfigs" => pools::type_configs,
        "InquirePricePurchaseResourcePoolPacks" => pools::inquire_price,
        "PurchaseResourcePoolPacks" => pools::purchase,
        "TerminateResourcePoolPacks" => pools::terminate,
        "DescribeImageFromFamily" => misc::describe_image_from_family,
        "ExportImages" => misc::export_images,
        "ProgramFpgaImage" => misc::program_fpga_image,
        "InquiryPriceRenewHosts" => misc::inquiry_price_renew_hosts,
        "DescribeTaskInfo" => misc::describe_task_info,
        "RepairTaskControl" => misc::repair_task_control,
        // End of the current-description families.
        _ => return None,
    };
    Some(f)
}

/// Whether the request asks for a dry run of an action that takes `DryRun`.
pub fn is_dry_run(action: &str, params: &serde_json::Value) -> bool {
    let takes = tccvm_core::model::action(action)
        .is_some_and(|a| a.inputs.iter().any(|i| i.name == "DryRun"));
    takes && P(params).boolean("DryRun").ok().flatten() == Some(true)
}

/// Check a list of ids: count, format, existence (in that order, as the service does).
pub fn check_ids(
    ids: &[String],
    prefix: &str,
    family: &str,
    exists: impl Fn(&str) -> bool,
) -> Result<(), ApiError> {
    if ids.len() > 100 {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            "At most 100 ids may be given.",
        ));
    }
    for id in ids {
        if !well_formed(id, prefix) {
            return Err(ApiError::new(
                &format!("{family}.Malformed"),
                format!("The id `{id}` is malformed."),
            ));
        }
    }
    for id in ids {
        if !exists(id) {
            return Err(ApiError::new(
                &format!("{family}.NotFound"),
                format!("The id `{id}` does not exist."),
            ));
        }
    }
    Ok(())
}

/// Placement.Zone must be a zone of the request's region.
pub fn check_zone(region: &str, zone: &str) -> Result<(), ApiError> {
    if catalog::zone_exists(region, zone) {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidZone.MismatchRegion",
            format!("The zone `{zone}` does not exist in region `{region}`."),
        ))
    }
}

/// A documented prepaid period in months.
pub fn check_period(p: &P<'_>, key: &str) -> Result<i64, ApiError> {
    let prepaid = p.obj(key).ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            format!("The request is missing `{key}`."),
        )
    })?;
    let period = prepaid.int("Period")?.ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            format!("The request is missing `{key}.Period`."),
        )
    })?;
    if ![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36].contains(&period) {
        return Err(ApiError::new(
            "InvalidPeriod",
            "Supported periods are 1-12, 24 and 36 months.",
        ));
    }
    Ok(period)
}

pub fn check_renew_flag(flag: &str) -> Result<(), ApiError> {
    match flag {
        "NOTIFY_AND_AUTO_RENEW" | "NOTIFY_AND_MANUAL_RENEW" | "DISABLE_NOTIFY_AND_MANUAL_RENEW" => {
            Ok(())
        }
        _ => Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{flag}` is not a renewal flag."),
        )),
    }
}

/// Filter values that name the same thing the service matches exactly.
pub fn matches_any(values: &[String], v: &str) -> bool {
    values.iter().any(|x| x == v)
}

pub fn unknown_filter(name: &str) -> ApiError {
    ApiError::new(
        "InvalidFilter",
        format!("The filter `{name}` is not supported."),
    )
}

const MONTH: i64 = 30 * 86_400;
pub fn months(n: i64) -> i64 {
    n * MONTH
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Timers, World};
    use serde_json::Value;

    /// A constant answer, made then taken from the cache, is the handler's own answer, per
    /// region (zones differ between regions).
    #[test]
    fn constant_answers_match_their_handlers() {
        let mut world = World::new(Some(1), Timers::default());
        for action in [
            "DescribeRegions",
            "DescribeZones",
            "DescribeInstanceFamilyConfigs",
            "DescribeInternetChargeTypeConfigs",
        ] {
            for region in ["ap-guangzhou", "ap-beijing", "ap-guangzhou"] {
                let params = Value::Object(Default::default());
                let mut ctx = Ctx {
                    world: &mut world,
                    region: region.into(),
                    now: Instant::now(),
                    unix: 0,
                    action,
                    documented: &[],
                    keypair: None,
                };
                let Some(Route::Raw(raw)) = route(action) else {
                    panic!("{action} is not answered from the cache");
                };
                let Some(Route::Value(fresh)) = route_value(action).map(Route::Value) else {
                    panic!("{action} has no handler");
                };
                let want = serde_json::to_vec(&fresh(&mut ctx, &P(&params)).unwrap()).unwrap();
                let mut got = b"{".to_vec();
                raw(&mut ctx, &P(&params), &mut got).unwrap();
                got.push(b'}');
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want).unwrap()
                );
            }
        }
    }
}
