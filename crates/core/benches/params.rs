//! Criterion benchmarks of serialization: parameters -> flattened pairs -> form/query text, and
//! parameters -> JSON body, for a small (DescribeInstances) and a large (RunInstances with every
//! part) request; and the typed head read from a response (the transport's check of every
//! answer, on a small and on fully populated DescribeInstances answers). `cargo bench --bench wire`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::hint::black_box;
use tccvm_core::{answer, params as wire};

fn small() -> Value {
    json!({
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Offset": 0,
        "Limit": 20,
    })
}

fn large() -> Value {
    json!({
        "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0, "HostIds": ["host-1", "host-2"]},
        "ImageId": "img-pmqg1cw7",
        "InstanceChargeType": "PREPAID",
        "InstanceChargePrepaid": {"Period": 12, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
        "InstanceType": "S3.MEDIUM4",
        "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
        "DataDisks": (0..10).map(|i| json!({"DiskType": "CLOUD_SSD", "DiskSize": 100 + i}))
            .collect::<Vec<_>>(),
        "VirtualPrivateCloud": {"VpcId": "vpc-1", "SubnetId": "subnet-1",
            "PrivateIpAddresses": ["10.0.0.2", "10.0.0.3"]},
        "InternetAccessible": {"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR",
            "InternetMaxBandwidthOut": 10, "PublicIpAssigned": true},
        "InstanceCount": 2,
        "InstanceName": "web server 中文 & co",
        "LoginSettings": {"KeyIds": ["skey-1"]},
        "SecurityGroupIds": ["sg-1", "sg-2"],
        "ClientToken": "6f1c2b9e-3a5d-4c7e-8f90-123456789abc",
        "HostName": "web-1",
        "TagSpecification": [{"ResourceType": "instance",
            "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a b+c"}]}],
    })
}

fn bench_wire(c: &mut Criterion) {
    let mut g = c.benchmark_group("serialize");
    for (name, p) in [("DescribeInstances", small()), ("RunInstances", large())] {
        g.bench_function(format!("{name}: flatten + form encode"), |b| {
            b.iter(|| wire::encode_pairs(&wire::flatten(black_box(&p))))
        });
        g.bench_function(format!("{name}: JSON body"), |b| {
            b.iter(|| wire::json_body(black_box(&p)))
        });
    }
    g.finish();
    let answer = {
        let set: Vec<Value> = (0..20)
            .map(|i| {
                json!({"InstanceId": format!("ins-{i:08}"), "InstanceState": "RUNNING",
                "CPU": 2, "Memory": 4, "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0}})
            })
            .collect();
        serde_json::to_vec(&json!({"Response": {"TotalCount": 20, "InstanceSet": set,
            "RequestId": "6ef60bec-0242-43af-bb20-270359fb54a7"}}))
        .unwrap_or_default()
    };
    c.bench_function("response head (20 instances)", |b| {
        b.iter(|| answer::inspect(black_box(&answer)))
    });
    // The check every answer gets on the runtime thread, on answers shaped like the emulator's
    // fully populated DescribeInstances (disks, addresses, tags, login settings...).
    for n in [20, 100] {
        let body = populated(n);
        c.bench_function(
            &format!("response check, {n} populated instances ({} B)", body.len()),
            |b| b.iter(|| answer::inspect(black_box(&body))),
        );
    }
}

fn populated(n: usize) -> Vec<u8> {
    let set: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0, "HostId": null},
                "InstanceId": format!("ins-{i:08x}"), "InstanceType": "S3.MEDIUM4", "CPU": 2,
                "Memory": 4, "RestrictState": "NORMAL", "InstanceName": format!("bench-{i}"),
                "InstanceChargeType": "POSTPAID_BY_HOUR",
                "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskId": format!("disk-{i:08x}"), "DiskSize": 50},
                "DataDisks": [
                    {"DiskType": "CLOUD_PREMIUM", "DiskId": format!("disk-{i:08x}a"), "DiskSize": 100,
                     "DeleteWithInstance": true, "Encrypt": false},
                    {"DiskType": "CLOUD_SSD", "DiskId": format!("disk-{i:08x}b"), "DiskSize": 200,
                     "DeleteWithInstance": true, "Encrypt": false},
                ],
                "PrivateIpAddresses": [format!("10.0.{}.{}", i / 250, i % 250 + 2)],
                "PublicIpAddresses": [format!("119.28.{}.{}", i / 250, i % 250 + 2)],
                "InternetAccessible": {"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR",
                    "InternetMaxBandwidthOut": 10, "PublicIpAssigned": true},
                "VirtualPrivateCloud": {"VpcId": "vpc-2zzxq5kh", "SubnetId": "subnet-9s2lzf3u",
                    "AsVpcGateway": false},
                "ImageId": "img-pmqg1cw7", "RenewFlag": "NOTIFY_AND_MANUAL_RENEW",
                "CreatedTime": "2026-11-29T06:00:00Z", "ExpiredTime": null, "OsName": "TencentOS Server 3.1",
                "SecurityGroupIds": ["sg-5x9s1p2q"], "LoginSettings": {"KeyIds": ["skey-3glfot13"]},
                "InstanceState": "RUNNING", "Tags": [{"Key": "env", "Value": "bench"}],
                "StopChargingMode": "NOT_APPLICABLE", "Uuid": format!("6ef60bec-0242-43af-bb20-{i:012x}"),
                "LatestOperation": "RunInstances", "LatestOperationState": "SUCCESS",
                "IsolatedSource": "NOTIFY_AND_MANUAL_RENEW", "DisasterRecoverGroupId": "",
            })
        })
        .collect();
    serde_json::to_vec(&json!({"Response": {"TotalCount": n, "InstanceSet": set,
        "RequestId": "6ef60bec-0242-43af-bb20-270359fb54a7"}}))
    .unwrap_or_default()
}

criterion_group!(benches, bench_wire);
criterion_main!(benches);
