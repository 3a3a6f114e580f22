//! How an instance is shown: the `Instance` structure of DescribeInstances, serialized
//! from borrowed views and cached per instance until it changes.

use crate::state::{Disk, Instance};
use crate::util::iso8601;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DiskView<'a> {
    disk_type: &'a str,
    disk_id: &'a str,
    disk_size: i64,
    /// Data disks only (the system disk has no such member).
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_with_instance: Option<bool>,
    encrypt: bool,
    kms_key_id: &'a str,
}

impl<'a> DiskView<'a> {
    fn of(d: &'a Disk) -> Self {
        DiskView {
            disk_type: &d.disk_type,
            disk_id: &d.disk_id,
            disk_size: d.disk_size,
            delete_with_instance: None,
            encrypt: d.encrypt,
            kms_key_id: &d.kms_key_id,
        }
    }
    fn data(d: &'a Disk) -> Self {
        DiskView {
            delete_with_instance: Some(d.delete_with_instance),
            ..DiskView::of(d)
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
    // The members of the current description (all of them always returned).
    stop_charging_mode: &'a str,
    uuid: &'a str,
    latest_operation: Option<&'a str>,
    latest_operation_state: Option<&'a str>,
    latest_operation_request_id: Option<&'a str>,
    disaster_recover_group_id: &'a str,
    #[serde(rename = "IPv6Addresses")]
    ipv6_addresses: Option<&'a [String]>,
    cam_role_name: Option<&'a str>,
    hpc_cluster_id: &'a str,
    rdma_ip_addresses: Option<&'a [String]>,
    dedicated_cluster_id: &'a str,
    isolated_source: &'static str,
    disaster_recover_group_ids: &'a [String],
    license_type: &'static str,
    disable_api_termination: bool,
    host_name: String,
    default_login_user: &'static str,
    default_login_port: i64,
    latest_operation_error_msg: Option<&'a str>,
}

/// The host name the service gives an instance launched without `HostName`:
/// `VM-<third>-<fourth octet>-<system>`.
fn default_host_name(i: &Instance) -> String {
    let o: Vec<&str> = i.private_ip.split('.').collect();
    let os = i
        .os_name
        .split_whitespace()
        .next()
        .unwrap_or("linux")
        .to_ascii_lowercase();
    format!(
        "VM-{}-{}-{os}",
        o.get(2).copied().unwrap_or("0"),
        o.get(3).copied().unwrap_or("0")
    )
}

fn view(i: &Instance) -> InstanceView<'_> {
    let windows = i.os_name.to_ascii_lowercase().contains("windows");
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
        data_disks: i.data_disks.iter().map(DiskView::data).collect(),
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
        stop_charging_mode: match i.state.as_str() {
            "STOPPED" if !i.extra.stopped_mode.is_empty() => &i.extra.stopped_mode,
            "STOPPED" => "KEEP_CHARGING",
            _ => "NOT_APPLICABLE",
        },
        uuid: &i.extra.uuid,
        latest_operation: None,
        latest_operation_state: None,
        latest_operation_request_id: None,
        disaster_recover_group_id: i.dr_group.as_deref().unwrap_or(""),
        ipv6_addresses: Some(&i.extra.ipv6[..]).filter(|a| !a.is_empty()),
        cam_role_name: Some(i.extra.cam_role_name.as_str()).filter(|r| !r.is_empty()),
        hpc_cluster_id: &i.extra.hpc_cluster_id,
        rdma_ip_addresses: None,
        dedicated_cluster_id: &i.extra.dedicated_cluster_id,
        isolated_source: "NOTISOLATED",
        disaster_recover_group_ids: i.dr_group.as_slice(),
        license_type: "TencentCloud",
        disable_api_termination: i.extra.protected,
        host_name: if i.extra.host_name.is_empty() {
            default_host_name(i)
        } else {
            i.extra.host_name.clone()
        },
        default_login_user: if windows { "Administrator" } else { "root" },
        default_login_port: if windows { 3389 } else { 22 },
        latest_operation_error_msg: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(public: bool, vpc: bool, host: bool) -> Instance {
        let disk = |t: &str, id: &str, n| Disk {
            disk_type: t.into(),
            disk_id: id.into(),
            disk_size: n,
            encrypt: false,
            kms_key_id: String::new(),
            delete_with_instance: true,
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
            extra: Default::default(),
            rendered: Default::default(),
        }
    }

    /// The rendered document, field for field and in order, as the `Instance` structure of
    /// the reference lists it (this was the emulator's `json!` rendering before the cache).
    #[test]
    fn render_document() {
        for (public, vpc, host) in [(true, true, true), (false, false, false)] {
            let i = sample(public, vpc, host);
            let disk = |d: &Disk| json!({"DiskType": d.disk_type, "DiskId": d.disk_id, "DiskSize": d.disk_size, "Encrypt": false, "KmsKeyId": ""});
            let data = |d: &Disk| json!({"DiskType": d.disk_type, "DiskId": d.disk_id, "DiskSize": d.disk_size, "DeleteWithInstance": true, "Encrypt": false, "KmsKeyId": ""});
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
                "DataDisks": i.data_disks.iter().map(data).collect::<Vec<_>>(),
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
            // The current description's members (one json! is too deep for all of them).
            let current = json!({
                "StopChargingMode": "NOT_APPLICABLE",
                "Uuid": "",
                "LatestOperation": null,
                "LatestOperationState": null,
                "LatestOperationRequestId": null,
                "DisasterRecoverGroupId": "",
                "IPv6Addresses": null,
                "CamRoleName": null,
                "HpcClusterId": "",
                "RdmaIpAddresses": null,
                "DedicatedClusterId": "",
                "IsolatedSource": "NOTISOLATED",
                "DisasterRecoverGroupIds": [],
                "LicenseType": "TencentCloud",
                "DisableApiTermination": false,
                "HostName": "VM-0-2-centos",
                "DefaultLoginUser": "root",
                "DefaultLoginPort": 22,
                "LatestOperationErrorMsg": null,
            });
            let mut want = want;
            if let (Some(w), Value::Object(c)) = (want.as_object_mut(), current) {
                w.extend(c);
            }
            let bytes = serde_json::to_vec(&want).unwrap();
            assert_eq!(render_bytes(&i), bytes);
            assert_eq!(rendered(&i), &bytes[..]);
            assert_eq!(render(&i), want);
        }
    }

    /// The current members carry what the instance was launched with.
    #[test]
    fn current_members() {
        let mut i = sample(true, true, false);
        i.os_name = "Windows Server 2019".into();
        i.state = "STOPPED".into();
        i.dr_group = Some("ps-12345678".into());
        i.extra.protected = true;
        i.extra.cam_role_name = "role".into();
        i.extra.uuid = "u-1".into();
        i.extra.ipv6 = vec!["2402::1".into()];
        i.extra.host_name = "web1".into();
        i.extra.stopped_mode = "STOP_CHARGING".into();
        let v = render(&i);
        for (k, want) in [
            ("DisableApiTermination", json!(true)),
            ("CamRoleName", json!("role")),
            ("Uuid", json!("u-1")),
            ("IPv6Addresses", json!(["2402::1"])),
            ("HostName", json!("web1")),
            ("StopChargingMode", json!("STOP_CHARGING")),
            ("DisasterRecoverGroupIds", json!(["ps-12345678"])),
            ("DefaultLoginUser", json!("Administrator")),
            ("DefaultLoginPort", json!(3389)),
        ] {
            assert_eq!(v[k], want, "{k}");
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
}
