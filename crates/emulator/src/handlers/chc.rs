//! CHC (Cloud Hosting Cluster) hosts: a few seeded per region; the assist (BMC) and deploy
//! VPCs move a host INIT -> READY -> PREPARED and back, visible in DescribeChcHosts.

use super::tags::render_tags;
use super::{matches_any, unknown_filter, Ctx};
use crate::catalog;
use crate::fam_state::{ChcHost, Vpc};
use crate::util::{filters, iso8601, paginate, well_formed, ApiError, HResult, P};
use serde_json::{json, Value};

/// The actions a host in `state` refuses (DescribeChcDeniedActions; the handlers enforce it).
pub fn denied(state: &str) -> &'static [&'static str] {
    match state {
        "INIT" => &[
            "ConfigureChcDeployVpc",
            "RemoveChcAssistVpc",
            "RemoveChcDeployVpc",
            "RunInstances",
        ],
        "READY" => &[
            "ConfigureChcAssistVpc",
            "RemoveChcDeployVpc",
            "RunInstances",
        ],
        _ => &[
            "ConfigureChcAssistVpc",
            "ConfigureChcDeployVpc",
            "RemoveChcAssistVpc",
        ],
    }
}

const SEED: &[(&str, i64, i64, &str)] = &[
    ("CHCS5", 64, 256, "480GB*2/3.84TB*12"),
    ("CHCS5", 64, 256, "480GB*2/3.84TB*12"),
    ("CHCSA2", 96, 384, "480GB*2"),
];

fn seed(ctx: &mut Ctx<'_>) {
    if ctx.reg().fam.chc_seeded {
        return;
    }
    let zones: Vec<String> = catalog::zones(&ctx.region)
        .into_iter()
        .filter(|z| z.state == "AVAILABLE")
        .map(|z| z.zone)
        .collect();
    let mut hosts = vec![];
    for (n, (dev, cpu, mem, disk)) in SEED.iter().enumerate() {
        let Some(zone) = zones.get(n % zones.len().max(1)) else {
            break;
        };
        let (bmc_ip, deploy_ip) = ctx.world.ips(&[]);
        hosts.push(ChcHost {
            id: ctx.world.ids.id("chc"),
            name: String::new(),
            serial: format!("7DF1{:08}", 10_000_000 + ctx.world.ids.below(89_999_999)),
            state: "INIT",
            device_type: dev.to_string(),
            zone: zone.clone(),
            bmc: None,
            deploy: None,
            deploy_extra: None,
            bmc_user: String::new(),
            network_mode: String::new(),
            cpu: *cpu,
            memory: *mem,
            disk,
            bmc_ip,
            deploy_ip,
            created: ctx.unix,
            latest_operation: String::new(),
        });
    }
    let fam = &mut ctx.reg().fam;
    fam.chc.extend(hosts);
    fam.chc_seeded = true;
}

fn vpc_json(v: Option<&(Vpc, Vec<String>)>) -> (Value, Value) {
    match v {
        None => (
            json!({"VpcId": "", "SubnetId": "", "AsVpcGateway": false}),
            json!([]),
        ),
        Some((v, sgs)) => (
            json!({"VpcId": v.vpc_id, "SubnetId": v.subnet_id, "AsVpcGateway": v.as_gateway,
                   "PrivateIpAddresses": v.private_ips, "Ipv6AddressCount": 0}),
            json!(sgs),
        ),
    }
}

fn mac(ip: &str, first: u8) -> String {
    let b: Vec<u8> = ip.split('.').filter_map(|x| x.parse().ok()).collect();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    format!(
        "52:54:{first:02X}:{:02X}:{:02X}:{:02X}",
        at(1),
        at(2),
        at(3)
    )
}

fn render(h: &ChcHost) -> Value {
    let (bmc, bmc_sg) = vpc_json(h.bmc.as_ref());
    let (dep, dep_sg) = vpc_json(h.deploy.as_ref());
    let extra = h.deploy_extra.as_ref().map_or_else(
        || json!({"MiniOsType": "", "BootType": "", "BootFile": "", "NextServerAddress": ""}),
        |(m, t, f, n)| json!({"MiniOsType": m, "BootType": t, "BootFile": f, "NextServerAddress": n}),
    );
    json!({
        "ChcId": h.id, "InstanceName": h.name, "SerialNumber": h.serial,
        "InstanceState": h.state, "DeviceType": h.device_type,
        "Placement": {"Zone": h.zone, "ProjectId": 0},
        "BmcVirtualPrivateCloud": bmc, "BmcIp": if h.bmc.is_some() { &h.bmc_ip } else { "" },
        "BmcSecurityGroupIds": bmc_sg,
        "DeployVirtualPrivateCloud": dep,
        "DeployIp": if h.deploy.is_some() { &h.deploy_ip } else { "" },
        "DeploySecurityGroupIds": dep_sg, "CvmInstanceId": "",
        "CreatedTime": iso8601(h.created),
        "HardwareDescription": format!("{} cores {}GB {}", h.cpu, h.memory, h.disk),
        "CPU": h.cpu, "Memory": h.memory, "Disk": h.disk,
        "BmcMAC": mac(&h.bmc_ip, 0), "DeployMAC": mac(&h.deploy_ip, 1),
        "TenantType": "Tenant", "DeployExtraConfig": extra, "Gpu": "", "NetworkCard": "",
        "IsPredefinedType": true, "ChcInstanceType": format!("{}.{}C{}M", h.device_type, h.cpu, h.memory),
        "ChcInstanceFamily": h.device_type, "ChcInstanceFamilyName": h.device_type,
        "ResaleAppId": "", "ResaleAccountId": "", "SaleStatus": "NOT_FOR_SALE",
        "Tags": render_tags(&[]), "LatestOperation": h.latest_operation,
        "LatestOperationState": if h.latest_operation.is_empty() { "" } else { "SUCCESS" },
        "NetworkMode": h.network_mode,
    })
}

fn matches(h: &ChcHost, name: &str, v: &[String]) -> bool {
    let vpcs = [h.bmc.as_ref(), h.deploy.as_ref()];
    match name {
        "zone" => matches_any(v, &h.zone),
        "instance-name" => matches_any(v, &h.name),
        "instance-state" => matches_any(v, h.state),
        "device-type" => matches_any(v, &h.device_type),
        "vpc-id" => vpcs
            .iter()
            .flatten()
            .any(|(x, _)| matches_any(v, &x.vpc_id)),
        "subnet-id" => vpcs
            .iter()
            .flatten()
            .any(|(x, _)| matches_any(v, &x.subnet_id)),
        _ => matches_any(v, &h.serial),
    }
}

const FILTERS: &[&str] = &[
    "zone",
    "instance-name",
    "instance-state",
    "device-type",
    "vpc-id",
    "subnet-id",
    "sn",
];

pub fn describe(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let ids = p.str_list("ChcIds");
    let fs = filters(p)?;
    if let Some((n, _)) = fs.iter().find(|(n, _)| !FILTERS.contains(&n.as_str())) {
        return Err(unknown_filter(n));
    }
    seed(ctx);
    let found: Vec<Value> = ctx
        .reg()
        .fam
        .chc
        .iter()
        .filter(|h| ids.is_empty() || ids.contains(&h.id))
        .filter(|h| fs.iter().all(|(n, v)| matches(h, n, v)))
        .map(render)
        .collect();
    let total = found.len();
    Ok(json!({"TotalCount": total, "ChcHostSet": paginate(p, &found, limits)?}))
}

/// The ids of `ChcIds`, checked (format, existence, and that none is in a state denying the
/// action).
fn hosts(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Vec<String>, ApiError> {
    let ids = p.req_list("ChcIds")?;
    if ids.len() > 100 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "At most 100 CHC ids may be given.",
        ));
    }
    if let Some(bad) = ids.iter().find(|i| !well_formed(i, "chc")) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The CHC id `{bad}` is malformed."),
        ));
    }
    seed(ctx);
    let action = ctx.action.to_string();
    let fam = &ctx.reg().fam;
    for id in &ids {
        let h = fam.chc.iter().find(|h| &h.id == id).ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound",
                format!("The CHC host `{id}` does not exist."),
            )
        })?;
        if denied(h.state).contains(&action.as_str()) {
            return Err(ApiError::new(
                "UnsupportedOperation",
                format!("The CHC host `{id}` is {}: {action} is denied.", h.state),
            ));
        }
    }
    Ok(ids)
}

fn each(ctx: &mut Ctx<'_>, ids: &[String], f: impl Fn(&mut ChcHost)) -> HResult {
    let action = ctx.action.to_string();
    for h in ctx.reg().fam.chc.iter_mut().filter(|h| ids.contains(&h.id)) {
        f(h);
        h.latest_operation = action.clone();
    }
    Ok(json!({}))
}

pub fn denied_actions(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    let chc = &ctx.reg().fam.chc;
    let set: Vec<Value> = ids
        .iter()
        .filter_map(|id| chc.iter().find(|h| &h.id == id))
        .map(|h| json!({"ChcId": h.id, "State": h.state, "DenyActions": denied(h.state)}))
        .collect();
    Ok(json!({ "ChcHostDeniedActionSet": set }))
}

fn text(p: &P<'_>, k: &str) -> Result<Option<String>, ApiError> {
    let v = p.str(k);
    if v.as_ref()
        .is_some_and(|s| s.is_empty() || s.chars().count() > 60)
    {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{k}` must be 1-60 characters."),
        ));
    }
    Ok(v)
}

fn security_groups(p: &P<'_>, k: &str) -> Result<Vec<String>, ApiError> {
    let sgs = p.str_list(k);
    if let Some(bad) = sgs.iter().find(|s| !well_formed(s, "sg")) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The security group id `{bad}` is malformed."),
        ));
    }
    Ok(sgs)
}

pub fn modify_attribute(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    let name = text(p, "InstanceName")?;
    let device = text(p, "DeviceType")?;
    let user = text(p, "BmcUser")?;
    let sgs = p
        .has("BmcSecurityGroupIds")
        .then(|| security_groups(p, "BmcSecurityGroupIds"));
    let sgs = sgs.transpose()?;
    each(ctx, &ids, |h| {
        if let Some(n) = &name {
            h.name = n.clone();
        }
        if let Some(d) = &device {
            h.device_type = d.clone();
        }
        if let Some(u) = &user {
            h.bmc_user = u.clone();
        }
        if let (Some(s), Some((_, cur))) = (&sgs, h.bmc.as_mut()) {
            *cur = s.clone();
        }
    })
}

pub fn modify_network_mode(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    let mode = p.req_str("NetworkMode")?;
    if mode.is_empty() || mode.len() > 32 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "NetworkMode must be 1-32 characters.",
        ));
    }
    each(ctx, &ids, |h| h.network_mode = mode.clone())
}

fn vpc(p: &P<'_>, k: &str) -> Result<Vpc, ApiError> {
    let v = p.obj(k).ok_or_else(|| {
        ApiError::new("MissingParameter", format!("The request is missing `{k}`."))
    })?;
    let vpc_id = v.req_str("VpcId")?;
    let subnet_id = v.req_str("SubnetId")?;
    if !well_formed(&vpc_id, "vpc") || !well_formed(&subnet_id, "subnet") {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("`{k}` names a malformed VPC or subnet id."),
        ));
    }
    Ok(Vpc {
        vpc_id,
        subnet_id,
        as_gateway: v.boolean("AsVpcGateway")?.unwrap_or(false),
        private_ips: v.str_list("PrivateIpAddresses"),
    })
}

fn extra(p: &P<'_>) -> Result<Option<(String, String, String, String)>, ApiError> {
    let Some(e) = p.obj("ChcDeployExtraConfig") else {
        return Ok(None);
    };
    Ok(Some((
        e.req_str("MiniOsType")?,
        e.req_str("BootType")?,
        e.str("BootFile").unwrap_or_default(),
        e.str("NextServerAddress").unwrap_or_default(),
    )))
}

pub fn configure_assist_vpc(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    let bmc = (
        vpc(p, "BmcVirtualPrivateCloud")?,
        security_groups(p, "BmcSecurityGroupIds")?,
    );
    let deploy = match p.has("DeployVirtualPrivateCloud") {
        true => Some((
            vpc(p, "DeployVirtualPrivateCloud")?,
            security_groups(p, "DeploySecurityGroupIds")?,
        )),
        false => None,
    };
    let ex = extra(p)?;
    each(ctx, &ids, |h| {
        h.bmc = Some(bmc.clone());
        h.state = "READY";
        if let Some(d) = &deploy {
            h.deploy = Some(d.clone());
            h.deploy_extra = ex.clone();
            h.state = "PREPARED";
        }
    })
}

pub fn configure_deploy_vpc(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    let deploy = (
        vpc(p, "DeployVirtualPrivateCloud")?,
        security_groups(p, "DeploySecurityGroupIds")?,
    );
    let ex = extra(p)?;
    each(ctx, &ids, |h| {
        h.deploy = Some(deploy.clone());
        h.deploy_extra = ex.clone();
        h.state = "PREPARED";
    })
}

pub fn remove_assist_vpc(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    each(ctx, &ids, |h| {
        h.bmc = None;
        h.state = "INIT";
    })
}

pub fn remove_deploy_vpc(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = hosts(ctx, p)?;
    each(ctx, &ids, |h| {
        h.deploy = None;
        h.deploy_extra = None;
        h.state = "READY";
    })
}
