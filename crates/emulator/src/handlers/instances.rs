//! Instances: launch, lifecycle, attributes, renewals, charge types.

use super::{
    check_ids, check_period, check_renew_flag, check_zone, matches_any, months, unknown_filter, Ctx,
};
use crate::catalog;
use crate::state::{after, Disk, Instance};
use crate::util::{filters, iso8601, obj, paginate, well_formed, ApiError, HResult, P};
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DiskView<'a> {
    disk_type: &'a str,
    disk_id: &'a str,
    disk_size: i64,
}

impl<'a> DiskView<'a> {
    fn of(d: &'a Disk) -> Self {
        DiskView {
            disk_type: &d.disk_type,
            disk_id: &d.disk_id,
            disk_size: d.disk_size,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PlacementView<'a> {
    zone: &'a str,
    project_id: i64,
    host_ids: &'a [String],
    host_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InternetView<'a> {
    internet_charge_type: &'a str,
    internet_max_bandwidth_out: i64,
    public_ip_assigned: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VpcView<'a> {
    vpc_id: &'a str,
    subnet_id: &'a str,
    as_vpc_gateway: bool,
    private_ip_addresses: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoginView<'a> {
    key_ids: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagView<'a> {
    key: &'a str,
    value: &'a str,
}

/// An instance as DescribeInstances lists it (the `Instance` structure), borrowed.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceView<'a> {
    placement: PlacementView<'a>,
    instance_id: &'a str,
    instance_type: &'a str,
    #[serde(rename = "CPU")]
    cpu: i64,
    memory: i64,
    restrict_state: &'static str,
    instance_name: &'a str,
    instance_charge_type: &'a str,
    system_disk: DiskView<'a>,
    data_disks: Vec<DiskView<'a>>,
    private_ip_addresses: &'a [String],
    public_ip_addresses: &'a [String],
    internet_accessible: InternetView<'a>,
    virtual_private_cloud: VpcView<'a>,
    image_id: &'a str,
    renew_flag: &'a str,
    created_time: String,
    expired_time: Option<String>,
    os_name: &'a str,
    security_group_ids: &'a [String],
    instance_state: &'a str,
    login_settings: LoginView<'a>,
    tags: Vec<TagView<'a>>,
}

fn view(i: &Instance) -> InstanceView<'_> {
    let host_ids = if i.host_id.is_empty() {
        &[][..]
    } else {
        std::slice::from_ref(&i.host_id)
    };
    InstanceView {
        placement: PlacementView {
            zone: &i.zone,
            project_id: i.project_id,
            host_ids,
            host_id: &i.host_id,
        },
        instance_id: &i.id,
        instance_type: &i.instance_type,
        cpu: i.cpu,
        memory: i.memory,
        restrict_state: "NORMAL",
        instance_name: &i.name,
        instance_charge_type: &i.charge_type,
        system_disk: DiskView::of(&i.system_disk),
        data_disks: i.data_disks.iter().map(DiskView::of).collect(),
        private_ip_addresses: std::slice::from_ref(&i.private_ip),
        public_ip_addresses: i.public_ip.as_slice(),
        internet_accessible: InternetView {
            internet_charge_type: &i.internet_charge_type,
            internet_max_bandwidth_out: i.bandwidth_out,
            public_ip_assigned: i.public_ip.is_some(),
        },
        virtual_private_cloud: VpcView {
            vpc_id: &i.vpc_id,
            subnet_id: &i.subnet_id,
            as_vpc_gateway: i.as_vpc_gateway,
            private_ip_addresses: if i.vpc_id.is_empty() {
                &[][..]
            } else {
                std::slice::from_ref(&i.private_ip)
            },
        },
        image_id: &i.image_id,
        renew_flag: &i.renew_flag,
        created_time: iso8601(i.created),
        expired_time: i.expired.map(iso8601),
        os_name: &i.os_name,
        security_group_ids: &i.security_group_ids,
        instance_state: &i.state,
        login_settings: LoginView {
            key_ids: &i.key_ids,
        },
        tags: i
            .tags
            .iter()
            .map(|(k, v)| TagView { key: k, value: v })
            .collect(),
    }
}

/// The JSON of an instance in DescribeInstances.
pub fn render_bytes(i: &Instance) -> Vec<u8> {
    serde_json::to_vec(&view(i)).unwrap_or_default()
}

/// The JSON of an instance, from its cache (made on first use after any change).
pub fn rendered(i: &Instance) -> &[u8] {
    i.rendered.get_or_make(|| render_bytes(i))
}

/// An instance as a JSON value (the same document as [`rendered`]).
pub fn render(i: &Instance) -> Value {
    serde_json::to_value(view(i)).unwrap_or(Value::Null)
}

/// Resolve the ids of an action on existing instances (malformed / not found / too many).
fn existing(ctx: &mut Ctx<'_>, p: &P<'_>, key: &str) -> Result<Vec<String>, ApiError> {
    let ids = p.req_list(key)?;
    let reg = ctx.reg();
    check_ids(&ids, "ins", "InvalidInstanceId", |id| {
        reg.instance(id).is_some()
    })?;
    Ok(ids)
}

fn one(ctx: &mut Ctx<'_>, p: &P<'_>, key: &str) -> Result<String, ApiError> {
    let id = p.req_str(key)?;
    let reg = ctx.reg();
    check_ids(std::slice::from_ref(&id), "ins", "InvalidInstanceId", |x| {
        reg.instance(x).is_some()
    })?;
    Ok(id)
}

/// A copy of instance `id` of the request's region (InvalidInstanceId.NotFound without it).
fn instance_of(ctx: &mut Ctx<'_>, id: &str) -> Result<Instance, ApiError> {
    ctx.reg().instance(id).cloned().ok_or_else(|| {
        ApiError::new(
            "InvalidInstanceId.NotFound",
            format!("The id `{id}` does not exist."),
        )
    })
}

fn wrong_state(ctx: &Ctx<'_>, i: &Instance, want: &str) -> ApiError {
    ApiError::new(
        ctx.code(&[
            "InvalidInstanceState",
            "InvalidInstance.NotSupported",
            "UnsupportedOperation",
        ]),
        format!(
            "The instance `{}` is {}; {} needs it {}.",
            i.id, i.state, ctx.action, want
        ),
    )
}

/// Check every instance is in one of `allowed` before changing any of them.
fn require_state(ctx: &mut Ctx<'_>, ids: &[String], allowed: &[&str]) -> Result<(), ApiError> {
    let reg = ctx.reg();
    let bad = ids
        .iter()
        .filter_map(|id| reg.instance(id))
        .find(|i| !allowed.contains(&i.state.as_str()))
        .cloned();
    match bad {
        Some(i) => Err(wrong_state(ctx, &i, &allowed.join(" or "))),
        None => Ok(()),
    }
}

fn transition(
    ctx: &mut Ctx<'_>,
    ids: &[String],
    now_state: &str,
    next: &'static str,
    d: std::time::Duration,
) {
    let due = after(ctx.now, d);
    let reg = ctx.reg();
    for id in ids {
        if let Some(i) = reg.instance_mut(id) {
            i.state = now_state.to_string();
            i.next = Some((due, next));
        }
    }
}

pub fn check_password(pw: &str) -> Result<(), ApiError> {
    let classes = [
        pw.bytes().any(|b| b.is_ascii_lowercase()),
        pw.bytes().any(|b| b.is_ascii_uppercase()),
        pw.bytes().any(|b| b.is_ascii_digit()),
        pw.bytes()
            .any(|b| b"()`~!@#$%^&*-+=_|{}[]:;'<>,.?/".contains(&b)),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if !(8..=30).contains(&pw.len()) || classes < 2 || !pw.is_ascii() {
        return Err(ApiError::new(
            "InvalidPassword",
            "The password must be 8-30 characters with at least two of: lower case, upper case, digits, symbols.",
        ));
    }
    Ok(())
}

fn instance_name(pattern: &str, index: usize, count: usize) -> String {
    if pattern.contains("{R:") {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("{R:") {
            out.push_str(&rest[..start]);
            let after_open = &rest[start + 3..];
            match after_open.find('}') {
                Some(end) => match after_open[..end].parse::<usize>() {
                    Ok(x) => {
                        out.push_str(&(x + index).to_string());
                        rest = &after_open[end + 1..];
                    }
                    Err(_) => {
                        out.push_str("{R:");
                        rest = after_open;
                    }
                },
                None => {
                    out.push_str("{R:");
                    rest = after_open;
                }
            }
        }
        out.push_str(rest);
        out
    } else if count > 1 {
        format!("{pattern}{}", index + 1)
    } else {
        pattern.to_string()
    }
}

pub struct Launch {
    pub zone: String,
    pub project_id: i64,
    pub host_ids: Vec<String>,
    pub charge_type: String,
    pub period: Option<i64>,
    pub renew_flag: String,
    pub instance_type: String,
    pub cpu: i64,
    pub memory: i64,
    pub image_id: String,
    pub os_name: String,
    pub system_disk: (String, i64),
    pub data_disks: Vec<(String, i64)>,
    pub count: usize,
    pub bandwidth: i64,
    pub internet_charge_type: String,
    pub public_ip: bool,
}

/// Parse and check the launch parameters shared by RunInstances and InquiryPriceRunInstances.
pub fn parse_launch(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Launch, ApiError> {
    let placement = p
        .obj("Placement")
        .ok_or_else(|| ApiError::new("MissingParameter", "The request is missing `Placement`."))?;
    let zone = placement.req_str("Zone")?;
    check_zone(&ctx.region.clone(), &zone)?;
    let project_id = placement.int("ProjectId")?.unwrap_or(0);
    let host_ids = placement.str_list("HostIds");
    let image_id = p.req_str("ImageId")?;
    let os_name = find_image_os(ctx, &image_id)?;
    let charge_type = p
        .str("InstanceChargeType")
        .unwrap_or_else(|| "POSTPAID_BY_HOUR".to_string());
    let mut period = None;
    let mut renew_flag = "NOTIFY_AND_MANUAL_RENEW".to_string();
    match charge_type.as_str() {
        "PREPAID" => {
            period = Some(check_period(p, "InstanceChargePrepaid")?);
            if let Some(f) = p
                .obj("InstanceChargePrepaid")
                .and_then(|o| o.str("RenewFlag"))
            {
                check_renew_flag(&f)?;
                renew_flag = f;
            }
        }
        "POSTPAID_BY_HOUR" | "SPOTPAID" => {}
        "CDHPAID" => {
            if host_ids.is_empty() {
                return Err(ApiError::new(
                    "InvalidParameterCombination",
                    "CDHPAID needs Placement.HostIds.",
                ));
            }
        }
        other => {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("`{other}` is not an instance charge type."),
            ))
        }
    }
    if !host_ids.is_empty() {
        let reg = ctx.reg();
        for h in &host_ids {
            if !reg.hosts.iter().any(|x| &x.id == h) {
                return Err(ApiError::new(
                    "InvalidHostId.NotFound",
                    format!("The CDH `{h}` does not exist."),
                ));
            }
        }
    }
    let instance_type = p
        .str("InstanceType")
        .unwrap_or_else(|| "S1.SMALL1".to_string());
    let (cpu, memory) = parse_type(&instance_type)?;
    let sd = p.obj("SystemDisk");
    let system_disk = (
        sd.as_ref()
            .and_then(|s| s.str("DiskType"))
            .unwrap_or_else(|| "CLOUD_BASIC".into()),
        sd.as_ref()
            .map(|s| s.int("DiskSize"))
            .transpose()?
            .flatten()
            .unwrap_or(50),
    );
    if !(20..=1024).contains(&system_disk.1) {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            "SystemDisk.DiskSize must be between 20 and 1024 GB.",
        ));
    }
    let mut data_disks = vec![];
    for d in p.arr("DataDisks") {
        let dp = P(d);
        let size = dp.int("DiskSize")?.ok_or_else(|| {
            ApiError::new("MissingParameter", "DataDisks.N.DiskSize is required.")
        })?;
        if !(10..=16000).contains(&size) {
            return Err(ApiError::new(
                "InvalidParameterValue.Range",
                "DataDisks.N.DiskSize must be between 10 and 16000 GB.",
            ));
        }
        data_disks.push((
            dp.str("DiskType").unwrap_or_else(|| "CLOUD_BASIC".into()),
            size,
        ));
    }
    let count = p.int("InstanceCount")?.unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            "InstanceCount must be between 1 and 100.",
        ));
    }
    let ia = p.obj("InternetAccessible");
    let bandwidth = ia
        .as_ref()
        .map(|i| i.int("InternetMaxBandwidthOut"))
        .transpose()?
        .flatten()
        .unwrap_or(0);
    if !(0..=1000).contains(&bandwidth) {
        return Err(ApiError::new(
            "InvalidParameterValue.Range",
            "InternetMaxBandwidthOut must be between 0 and 1000.",
        ));
    }
    let public_ip = ia
        .as_ref()
        .map(|i| i.boolean("PublicIpAssigned"))
        .transpose()?
        .flatten()
        .unwrap_or(bandwidth > 0);
    let internet_charge_type = ia
        .as_ref()
        .and_then(|i| i.str("InternetChargeType"))
        .unwrap_or_else(|| "TRAFFIC_POSTPAID_BY_HOUR".into());
    Ok(Launch {
        zone,
        project_id,
        host_ids,
        charge_type,
        period,
        renew_flag,
        instance_type,
        cpu,
        memory,
        image_id,
        os_name,
        system_disk,
        data_disks,
        count: count as usize,
        bandwidth,
        internet_charge_type,
        public_ip,
    })
}

/// (cpu, memory) of an instance type: from the catalogue, or `CDH_<n>C<m>G`.
pub fn parse_type(t: &str) -> Result<(i64, i64), ApiError> {
    if let Some(def) = catalog::instance_type(t) {
        return Ok((def.cpu, def.memory));
    }
    if let Some(rest) = t.strip_prefix("CDH_") {
        if let Some((c, m)) = rest.strip_suffix('G').and_then(|r| r.split_once('C')) {
            if let (Ok(c), Ok(m)) = (c.parse::<i64>(), m.parse::<i64>()) {
                if c > 0 && m > 0 {
                    return Ok((c, m));
                }
            }
        }
    }
    let shaped = t.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && t.bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'.')
    });
    if shaped {
        Err(ApiError::new(
            "InvalidParameterValue",
            format!("The instance type `{t}` is not sold here."),
        ))
    } else {
        Err(ApiError::new(
            "InvalidInstanceType.Malformed",
            format!("The instance type `{t}` is malformed."),
        ))
    }
}

/// The OS name of an image usable for a launch (public, or NORMAL private/shared image).
pub fn find_image_os(ctx: &mut Ctx<'_>, image_id: &str) -> Result<String, ApiError> {
    if let Some(img) = catalog::PUBLIC_IMAGES.iter().find(|i| i.id == image_id) {
        return Ok(img.os_name.to_string());
    }
    let not_found = ctx.code(&["InvalidImageId.NotFound", "InvalidParameterValue"]);
    let malformed = ctx.code(&["InvalidImageId.Malformed", "InvalidParameterValue"]);
    if !well_formed(image_id, "img") {
        return Err(ApiError::new(
            malformed,
            format!("The image id `{image_id}` is malformed."),
        ));
    }
    let state_code = ctx.code(&["InvalidImageId.IncorrectState", "InvalidParameterValue"]);
    let reg = ctx.reg();
    match reg.images.iter().find(|i| i.id == image_id) {
        Some(i) if i.state == "NORMAL" => Ok(i.os_name.clone()),
        Some(i) => Err(ApiError::new(
            state_code,
            format!("The image `{}` is {}.", i.id, i.state),
        )),
        None => Err(ApiError::new(
            not_found,
            format!("The image `{image_id}` does not exist."),
        )),
    }
}

fn launch_outcome(world: &mut crate::state::World) -> &'static str {
    if world.launch_failures > 0 {
        world.launch_failures -= 1;
        "LAUNCH_FAILED"
    } else {
        "RUNNING"
    }
}

pub fn run_instances(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let token = p.str("ClientToken");
    if let Some(t) = &token {
        if t.len() > 64 {
            return Err(ApiError::new(
                "InvalidClientToken.TooLong",
                "ClientToken is longer than 64 characters.",
            ));
        }
        if let Some(ids) = ctx.reg().run_tokens.get(t) {
            return Ok(json!({ "InstanceIdSet": ids }));
        }
    }
    let l = parse_launch(ctx, p)?;
    let name = p.str("InstanceName").unwrap_or_else(|| "Not named".into());
    if name.chars().count() > 60 {
        return Err(ApiError::new(
            "InvalidInstanceName.TooLong",
            "InstanceName is longer than 60 characters.",
        ));
    }
    let mut key_ids = vec![];
    if let Some(ls) = p.obj("LoginSettings") {
        if let Some(pw) = ls.str("Password") {
            check_password(&pw)?;
        }
        key_ids = ls.str_list("KeyIds");
        let code = ctx.code(&["InvalidKeyId.NotFound", "InvalidParameterValue"]);
        let reg = ctx.reg();
        for k in &key_ids {
            if !reg.key_pairs.iter().any(|x| &x.id == k) {
                return Err(ApiError::new(
                    code,
                    format!("The key pair `{k}` does not exist."),
                ));
            }
        }
    }
    if let Some(u) = p.str("UserData") {
        let ok = base64::engine::general_purpose::STANDARD
            .decode(u.as_bytes())
            .is_ok();
        if !ok || u.len() > 16 * 1024 {
            return Err(ApiError::new(
                "InvalidParameterValue",
                "UserData must be base64 and at most 16 KB.",
            ));
        }
    }
    let mut tags = vec![];
    for spec in p.arr("TagSpecification") {
        for t in P(spec).arr("Tags") {
            let tp = P(t);
            if let (Some(k), Some(v)) = (tp.str("Key"), tp.str("Value")) {
                tags.push((k, v));
            }
        }
    }
    let vpc = p.obj("VirtualPrivateCloud");
    let (vpc_id, subnet_id, as_gw, vpc_ips) = match &vpc {
        Some(v) => (
            v.req_str("VpcId")?,
            v.req_str("SubnetId")?,
            v.boolean("AsVpcGateway")?.unwrap_or(false),
            v.str_list("PrivateIpAddresses"),
        ),
        None => (String::new(), String::new(), false, vec![]),
    };
    if !vpc_ips.is_empty() {
        if vpc_ips.len() != l.count {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "The number of VPC IPs must equal InstanceCount.",
            ));
        }
        for (n, ip) in vpc_ips.iter().enumerate() {
            if ip.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(ApiError::new(
                    "InvalidParameter.InvalidIpFormat",
                    format!("`{ip}` is not an IPv4 address."),
                ));
            }
            if vpc_ips[..n].contains(ip) {
                return Err(ApiError::new(
                    "VpcIpsUsed",
                    format!("`{ip}` is given to more than one instance."),
                ));
            }
            let reg = ctx.reg();
            if reg.instances().iter().any(|i| &i.private_ip == ip) {
                return Err(ApiError::new("VpcIpsUsed", format!("`{ip}` is in use.")));
            }
        }
    }
    let dr = p.str_list("DisasterRecoverGroupIds");
    if dr.len() > 1 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "At most one DisasterRecoverGroupId may be given.",
        ));
    }
    if let Some(g) = dr.first() {
        let quota_code = ctx.code(&["LimitExceeded", "InvalidParameterValue"]);
        let missing_code = ctx.code(&[
            "ResourceNotFound.InvalidPlacementSet",
            "InvalidParameterValue",
        ]);
        let reg = ctx.reg();
        let group = reg.dr_groups.iter().find(|x| &x.id == g).ok_or_else(|| {
            ApiError::new(
                missing_code,
                format!("The placement group `{g}` does not exist."),
            )
        })?;
        if group.instances.len() + l.count > super::drgroups::quota_for(&group.group_type) as usize
        {
            return Err(ApiError::new(
                quota_code,
                format!(
                    "The placement group `{g}` has no room for {} more instances.",
                    l.count
                ),
            ));
        }
    }
    let quota = ctx.world.instance_quota;
    if ctx.reg().instances().len() + l.count > quota {
        return Err(ApiError::new(
            "InstancesQuotaLimitExceeded",
            "The instance quota of this region is exhausted.",
        ));
    }
    // All checks passed: launch.
    let unix = ctx.unix;
    let due = after(ctx.now, ctx.world.timers.pending);
    let mut ids = vec![];
    let mut created = vec![];
    for n in 0..l.count {
        let id = ctx.world.ids.id("ins");
        let (private_ip, public_ip) = ctx.world.ips(&vpc_ips);
        let sys_id = ctx.world.ids.id("disk");
        let data_disks = l
            .data_disks
            .iter()
            .map(|(t, s)| Disk {
                disk_type: t.clone(),
                disk_id: ctx.world.ids.id("disk"),
                disk_size: *s,
            })
            .collect();
        created.push(Instance {
            id: id.clone(),
            name: instance_name(&name, n, l.count),
            state: "PENDING".into(),
            next: Some((due, launch_outcome(ctx.world))),
            zone: l.zone.clone(),
            project_id: l.project_id,
            host_id: l
                .host_ids
                .get(n % l.host_ids.len().max(1))
                .cloned()
                .unwrap_or_default(),
            instance_type: l.instance_type.clone(),
            cpu: l.cpu,
            memory: l.memory,
            image_id: l.image_id.clone(),
            os_name: l.os_name.clone(),
            charge_type: l.charge_type.clone(),
            renew_flag: l.renew_flag.clone(),
            created: unix,
            expired: l.period.map(|m| unix + months(m)),
            system_disk: Disk {
                disk_type: l.system_disk.0.clone(),
                disk_id: sys_id,
                disk_size: l.system_disk.1,
            },
            data_disks,
            private_ip: vpc_ips.get(n).cloned().unwrap_or(private_ip),
            public_ip: if l.public_ip { Some(public_ip) } else { None },
            internet_charge_type: l.internet_charge_type.clone(),
            bandwidth_out: l.bandwidth,
            vpc_id: vpc_id.clone(),
            subnet_id: subnet_id.clone(),
            as_vpc_gateway: as_gw,
            security_group_ids: p.str_list("SecurityGroupIds"),
            key_ids: key_ids.clone(),
            tags: tags.clone(),
            dr_group: dr.first().cloned(),
            client_token: token.clone(),
            rendered: Default::default(),
        });
        ids.push(id);
    }
    ctx.world.launches_total += 1;
    if let Some(t) = &token {
        *ctx.world.launches_by_token.entry(t.clone()).or_insert(0) += 1;
    }
    let reg = ctx.reg();
    for i in &created {
        for k in &i.key_ids {
            if let Some(kp) = reg.key_pairs.iter_mut().find(|x| &x.id == k) {
                kp.instances.push(i.id.clone());
            }
        }
        if let Some(g) = &i.dr_group {
            if let Some(grp) = reg.dr_groups.iter_mut().find(|x| &x.id == g) {
                grp.instances.push(i.id.clone());
            }
        }
        if !i.host_id.is_empty() {
            if let Some(h) = reg.hosts.iter_mut().find(|x| x.id == i.host_id) {
                h.instances.push(i.id.clone());
            }
        }
    }
    reg.add_instances(created);
    if let Some(t) = token {
        reg.run_tokens.insert(t, ids.clone());
    }
    Ok(json!({ "InstanceIdSet": ids }))
}

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

fn tag_matches(i: &Instance, name: &str, values: &[String]) -> bool {
    if let Some(key) = name.strip_prefix("tag:") {
        return i
            .tags
            .iter()
            .any(|(k, v)| k == key && matches_any(values, v));
    }
    match name {
        "tag-key" => i.tags.iter().any(|(k, _)| matches_any(values, k)),
        _ => i.tags.iter().any(|(_, v)| matches_any(values, v)),
    }
}

pub fn describe_instances(ctx: &mut Ctx<'_>, p: &P<'_>, out: &mut Vec<u8>) -> Result<(), ApiError> {
    let limits = ctx.page_limits();
    let ids = p.str_list("InstanceIds");
    let fs = filters(p)?;
    if !ids.is_empty() && !fs.is_empty() {
        return Err(ApiError::new(
            ctx.code(&["InvalidParameterCombination", "InvalidParameter"]),
            "InstanceIds and Filters cannot be given together.",
        ));
    }
    check_ids(&ids, "ins", "InvalidInstanceId", |_| true)?;
    for (name, _) in &fs {
        let known = [
            "zone",
            "project-id",
            "host-id",
            "instance-id",
            "instance-name",
            "instance-charge-type",
            "private-ip-address",
            "public-ip-address",
            "tag-key",
            "tag-value",
        ];
        if !known.contains(&name.as_str()) && !name.starts_with("tag:") {
            return Err(unknown_filter(name));
        }
    }
    for (name, values) in &fs {
        if name == "zone" {
            for z in values {
                check_zone(&ctx.region.clone(), z)?;
            }
        }
        if name == "host-id" {
            for h in values {
                if !well_formed(h, "host") {
                    return Err(ApiError::new(
                        "InvalidHostId.Malformed",
                        format!("The CDH id `{h}` is malformed."),
                    ));
                }
            }
        }
    }
    let reg = ctx.reg();
    let found: Vec<&Instance> = reg
        .instances()
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .filter(|i| {
            fs.iter().all(|(name, values)| match name.as_str() {
                "zone" => matches_any(values, &i.zone),
                "project-id" => matches_any(values, &i.project_id.to_string()),
                "host-id" => matches_any(values, &i.host_id),
                "instance-id" => matches_any(values, &i.id),
                "instance-name" => matches_any(values, &i.name),
                "instance-charge-type" => matches_any(values, &i.charge_type),
                "private-ip-address" => matches_any(values, &i.private_ip),
                "public-ip-address" => i
                    .public_ip
                    .as_ref()
                    .is_some_and(|ip| matches_any(values, ip)),
                _ => tag_matches(i, name, values),
            })
        })
        .collect();
    let total = found.len();
    let page = paginate(p, &found, limits)?;
    // The members of `Response`, written from each instance's cached JSON.
    out.reserve(64 + page.iter().map(|i| rendered(i).len() + 1).sum::<usize>());
    out.extend_from_slice(b"\"TotalCount\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"InstanceSet\":[");
    for (n, i) in page.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(rendered(i));
    }
    out.push(b']');
    Ok(())
}

pub fn describe_instances_status(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let limits = ctx.page_limits();
    let ids = p.str_list("InstanceIds");
    check_ids(&ids, "ins", "InvalidInstanceId", |_| true)?;
    let reg = ctx.reg();
    let found: Vec<Value> = reg
        .instances()
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id))
        .map(|i| json!({"InstanceId": i.id, "InstanceState": i.state}))
        .collect();
    let total = found.len();
    Ok(json!({"TotalCount": total, "InstanceStatusSet": paginate(p, &found, limits)?}))
}

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
    if name.is_none() && sgs.is_none() {
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

pub fn describe_instance_vnc_url(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    require_state(ctx, std::slice::from_ref(&id), &["RUNNING"])?;
    let token = ctx.world.ids.id("vnc");
    Ok(json!({
        "InstanceVncUrl": format!("wss://bjvnc.qcloud.com:26789/vnc?s={}", token.trim_start_matches("vnc-"))
    }))
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

pub fn describe_instance_internet_bandwidth_configs(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = one(ctx, p, "InstanceId")?;
    let i = instance_of(ctx, &id)?;
    Ok(obj(vec![(
        "InternetBandwidthConfigSet",
        json!([{
            "StartTime": iso8601(i.created),
            "EndTime": i.expired.map(iso8601).unwrap_or_else(|| "2099-12-31T23:59:59Z".into()),
            "InternetAccessible": {
                "InternetChargeType": i.internet_charge_type,
                "InternetMaxBandwidthOut": i.bandwidth_out,
                "PublicIpAssigned": i.public_ip.is_some(),
            }
        }]),
    )]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(instance_name("server_{R:3}", 0, 2), "server_3");
        assert_eq!(instance_name("server_{R:3}", 1, 2), "server_4");
        assert_eq!(instance_name("a{R:1}-b{R:10}", 1, 2), "a2-b11");
        assert_eq!(instance_name("server_", 1, 2), "server_2");
        assert_eq!(instance_name("solo", 0, 1), "solo");
        assert_eq!(instance_name("x{R:y}", 0, 2), "x{R:y}");
    }

    #[test]
    fn types() {
        assert_eq!(parse_type("S1.SMALL2").unwrap(), (1, 2));
        assert_eq!(parse_type("CDH_2C4G").unwrap(), (2, 4));
        assert_eq!(
            parse_type("bad type").unwrap_err().code,
            "InvalidInstanceType.Malformed"
        );
        assert_eq!(
            parse_type("Z9.HUGE").unwrap_err().code,
            "InvalidParameterValue"
        );
    }

    fn sample(public: bool, vpc: bool, host: bool) -> Instance {
        let disk = |t: &str, id: &str, n| Disk {
            disk_type: t.into(),
            disk_id: id.into(),
            disk_size: n,
        };
        Instance {
            id: "ins-abcdefgh".into(),
            name: "n\"ame\u{e9}".into(),
            state: "RUNNING".into(),
            next: None,
            zone: "ap-guangzhou-2".into(),
            project_id: 3,
            host_id: if host {
                "host-12345678".into()
            } else {
                String::new()
            },
            instance_type: "S1.SMALL1".into(),
            cpu: 1,
            memory: 1,
            image_id: "img-pmqg1cw7".into(),
            os_name: "centos".into(),
            charge_type: "PREPAID".into(),
            renew_flag: "NOTIFY_AND_MANUAL_RENEW".into(),
            created: 1_465_185_768,
            expired: if public { Some(1_465_185_769) } else { None },
            system_disk: disk("CLOUD_BASIC", "disk-00000001", 50),
            data_disks: vec![disk("CLOUD_SSD", "disk-00000002", 100)],
            private_ip: "10.0.0.2".into(),
            public_ip: if public {
                Some("119.28.0.2".into())
            } else {
                None
            },
            internet_charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
            bandwidth_out: 5,
            vpc_id: if vpc { "vpc-1".into() } else { String::new() },
            subnet_id: "subnet-1".into(),
            as_vpc_gateway: vpc,
            security_group_ids: vec!["sg-1".into()],
            key_ids: vec!["skey-1".into()],
            tags: vec![("k".into(), "v".into())],
            dr_group: None,
            client_token: None,
            rendered: Default::default(),
        }
    }

    /// The rendered document, field for field and in order, as the `Instance` structure of
    /// the reference lists it (this was the emulator's `json!` rendering before the cache).
    #[test]
    fn render_document() {
        for (public, vpc, host) in [(true, true, true), (false, false, false)] {
            let i = sample(public, vpc, host);
            let disk = |d: &Disk| json!({"DiskType": d.disk_type, "DiskId": d.disk_id, "DiskSize": d.disk_size});
            let want = json!({
                "Placement": {
                    "Zone": i.zone,
                    "ProjectId": i.project_id,
                    "HostIds": if i.host_id.is_empty() { vec![] } else { vec![i.host_id.clone()] },
                    "HostId": i.host_id,
                },
                "InstanceId": i.id,
                "InstanceType": i.instance_type,
                "CPU": i.cpu,
                "Memory": i.memory,
                "RestrictState": "NORMAL",
                "InstanceName": i.name,
                "InstanceChargeType": i.charge_type,
                "SystemDisk": disk(&i.system_disk),
                "DataDisks": i.data_disks.iter().map(disk).collect::<Vec<_>>(),
                "PrivateIpAddresses": [i.private_ip],
                "PublicIpAddresses": i.public_ip.iter().collect::<Vec<_>>(),
                "InternetAccessible": {
                    "InternetChargeType": i.internet_charge_type,
                    "InternetMaxBandwidthOut": i.bandwidth_out,
                    "PublicIpAssigned": i.public_ip.is_some(),
                },
                "VirtualPrivateCloud": {
                    "VpcId": i.vpc_id,
                    "SubnetId": i.subnet_id,
                    "AsVpcGateway": i.as_vpc_gateway,
                    "PrivateIpAddresses": if i.vpc_id.is_empty() { vec![] } else { vec![i.private_ip.clone()] },
                },
                "ImageId": i.image_id,
                "RenewFlag": i.renew_flag,
                "CreatedTime": iso8601(i.created),
                "ExpiredTime": i.expired.map(iso8601),
                "OsName": i.os_name,
                "SecurityGroupIds": i.security_group_ids,
                "InstanceState": i.state,
                "LoginSettings": {"KeyIds": i.key_ids},
                "Tags": i.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec(&want).unwrap();
            assert_eq!(render_bytes(&i), bytes);
            assert_eq!(rendered(&i), &bytes[..]);
            assert_eq!(render(&i), want);
        }
    }

    /// Every mutable access to an instance drops its cached JSON.
    #[test]
    fn cache_is_dropped_on_every_mutable_access() {
        use crate::state::Region;
        let mut r = Region::default();
        r.add_instances([sample(true, true, true)]);
        let before = rendered(&r.instances()[0]).to_vec();
        assert!(r.instances()[0].rendered.is_cached());
        if let Some(i) = r.instance_mut("ins-abcdefgh") {
            i.name = "other".into();
        }
        assert!(!r.instances()[0].rendered.is_cached());
        let after = rendered(&r.instances()[0]).to_vec();
        assert_ne!(before, after);
        assert!(String::from_utf8(after)
            .unwrap()
            .contains("\"InstanceName\":\"other\""));
        for i in r.instances_mut() {
            i.state = "STOPPED".into();
        }
        assert!(!r.instances()[0].rendered.is_cached());
        let now = std::time::Instant::now();
        rendered(&r.instances()[0]);
        if let Some(i) = r.instance_mut("ins-abcdefgh") {
            i.next = Some((now, "STARTING"));
        }
        rendered(&r.instances()[0]);
        r.settle(now);
        assert!(!r.instances()[0].rendered.is_cached());
        assert!(String::from_utf8(rendered(&r.instances()[0]).to_vec())
            .unwrap()
            .contains("\"InstanceState\":\"STARTING\""));
    }

    #[test]
    fn passwords() {
        assert!(check_password("Abcdefg1").is_ok());
        assert!(check_password("short1A").is_err());
        assert!(check_password("alllowercase").is_err());
    }
}
