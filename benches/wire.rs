//! Criterion benchmarks of serialization: parameters -> flattened pairs -> form/query text, and
//! parameters -> JSON body, for a small (DescribeInstances) and a large (RunInstances with every
//! part) request; and the typed head read from a response. `cargo bench --bench wire`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::hint::black_box;
use tccvm::wire;

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
        b.iter(|| wire::inspect(black_box(&answer)))
    });
}

criterion_group!(benches, bench_wire);
criterion_main!(benches);
