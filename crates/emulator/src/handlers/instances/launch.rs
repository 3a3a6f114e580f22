//! Launching: the parameters shared by RunInstances and InquiryPriceRunInstances, instance
//! names from a pattern, and RunInstances itself.

use super::{check_password, find_image_os, parse_type};
use crate::handlers::{check_period, check_renew_flag, check_zone, months, Ctx};
use crate::state::{after, Disk, Instance, InstanceExtra};
use crate::util::{ApiError, HResult, P};
use base64::Engine;
use serde_json::json;

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
    /// (type, size, encrypt, KMS key, delete with the instance)
    pub data_disks: Vec<(String, i64, bool, String, bool)>,
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
            dp.boolean("Encrypt")?.unwrap_or(false),
            dp.str("KmsKeyId").unwrap_or_default(),
            dp.boolean("DeleteWithInstance")?.unwrap_or(true),
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

/// The `k`-th IPv6 address of an instance, made from its private IPv4 address.
fn ipv6_of(private_ip: &str, k: i64) -> String {
    let o: Vec<u32> = private_ip
        .split('.')
        .filter_map(|x| x.parse().ok())
        .collect();
    let (a, b) = (
        o.get(2).copied().unwrap_or(0),
        o.get(3).copied().unwrap_or(0),
    );
    format!("2402:4e00:1020:1200:0:{a:x}:{b:x}:{k:x}")
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
    // A launch template supplies the parameters the request leaves out.
    let merged = crate::handlers::templates::with_template(ctx, p)?;
    let p = &P(merged.as_ref().unwrap_or(p.0));
    let extra = InstanceExtra {
        protected: p.boolean("DisableApiTermination")?.unwrap_or(false),
        user_data: p.str("UserData"),
        cam_role_name: p.str("CamRoleName").unwrap_or_default(),
        hpc_cluster_id: p.str("HpcClusterId").unwrap_or_default(),
        dedicated_cluster_id: p.str("DedicatedClusterId").unwrap_or_default(),
        host_name: p.str("HostName").unwrap_or_default(),
        ..Default::default()
    };
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
    let ipv6_count = match &vpc {
        Some(v) => v.int("Ipv6AddressCount")?.unwrap_or(0),
        None => 0,
    };
    if !(0..=10).contains(&ipv6_count) || (ipv6_count > 0 && vpc_id.is_empty()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Ipv6AddressCount must be 0-10, in a VPC.",
        ));
    }
    if !extra.hpc_cluster_id.is_empty() {
        let (missing, elsewhere) = (
            ctx.code(&["ResourceNotFound.HpcCluster", "InvalidParameterValue"]),
            ctx.code(&[
                "InvalidParameterValue.HpcClusterIdZoneIdNotMatch",
                "InvalidParameterValue",
            ]),
        );
        let reg = ctx.reg();
        let known = reg.fam.hpc.iter().any(|c| c.id == extra.hpc_cluster_id);
        reg.fam
            .check_hpc(&extra.hpc_cluster_id, &l.zone)
            .map_err(|m| ApiError::new(if known { elsewhere } else { missing }, m))?;
    }
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
        if group.instances.len() + l.count
            > crate::handlers::drgroups::quota_for(&group.group_type) as usize
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
        let private_ip = vpc_ips.get(n).cloned().unwrap_or(private_ip);
        let mut extra = extra.clone();
        extra.uuid = crate::util::uuid4();
        extra.ipv6 = (1..=ipv6_count).map(|k| ipv6_of(&private_ip, k)).collect();
        let sys_id = ctx.world.ids.id("disk");
        let data_disks = l
            .data_disks
            .iter()
            .map(|(t, s, encrypt, kms, delete)| Disk {
                disk_type: t.clone(),
                disk_id: ctx.world.ids.id("disk"),
                disk_size: *s,
                encrypt: *encrypt,
                kms_key_id: kms.clone(),
                delete_with_instance: *delete,
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
                encrypt: false,
                kms_key_id: String::new(),
                delete_with_instance: true,
            },
            data_disks,
            private_ip,
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
            extra,
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
        if !i.extra.hpc_cluster_id.is_empty() {
            reg.fam.join_hpc(&i.extra.hpc_cluster_id, &i.id);
        }
    }
    reg.add_instances(created);
    if let Some(t) = token {
        reg.run_tokens.insert(t, ids.clone());
    }
    Ok(json!({ "InstanceIdSet": ids }))
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
}
