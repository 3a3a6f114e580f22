//! Catalogue data: regions, zones, instance families and types, public images.
//! Names and ids follow the examples of the API reference; where an example lists a whole
//! catalogue (families, network charge types, importable systems) it is read from
//! `src/model/examples.json` itself.

use serde_json::Value;
use std::sync::OnceLock;

/// The `Response` of the first example of `action` in the model's examples.
pub fn example(action: &str) -> Option<&'static Value> {
    static EXAMPLES: OnceLock<Option<Value>> = OnceLock::new();
    EXAMPLES
        .get_or_init(|| serde_json::from_str(tccvm_core::model::EXAMPLES_JSON).ok())
        .as_ref()?
        .get(action)?
        .as_array()?
        .iter()
        .find_map(|ex| ex.get("output")?.get("Response"))
}

/// The importable operating systems: (Windows, Linux) from the DescribeImportImageOs example.
pub fn import_os() -> (Vec<String>, Vec<String>) {
    let list = |k: &str, fallback: &[&str]| -> Vec<String> {
        example("DescribeImportImageOs")
            .and_then(|r| r.get("ImportImageOsListSupported"))
            .and_then(|l| l.get(k))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_else(|| fallback.iter().map(|s| s.to_string()).collect())
    };
    (
        list("Windows", IMPORT_OS_WINDOWS),
        list("Linux", IMPORT_OS_LINUX),
    )
}

pub struct RegionDef {
    pub region: &'static str,
    pub name: &'static str,
    pub zone_prefix: u32,
    pub zones: u32,
}

/// The regions of the DescribeRegions example (all AVAILABLE).
pub const REGIONS: &[RegionDef] = &[
    RegionDef {
        region: "ap-beijing",
        name: "North China (Beijing)",
        zone_prefix: 800,
        zones: 3,
    },
    RegionDef {
        region: "ap-guangzhou",
        name: "South China (Guangzhou)",
        zone_prefix: 1000,
        zones: 7,
    },
    RegionDef {
        region: "ap-guangzhou-open",
        name: "South China (Guangzhou Open)",
        zone_prefix: 1200,
        zones: 2,
    },
    RegionDef {
        region: "ap-hongkong",
        name: "Southeast Asia (Hong Kong)",
        zone_prefix: 3000,
        zones: 2,
    },
    RegionDef {
        region: "ap-shanghai",
        name: "East China (Shanghai)",
        zone_prefix: 2000,
        zones: 3,
    },
    RegionDef {
        region: "ap-shanghai-fsi",
        name: "East China (Shanghai Finance)",
        zone_prefix: 2100,
        zones: 2,
    },
    RegionDef {
        region: "ap-shenzhen-fsi",
        name: "South China (Shenzhen Finance)",
        zone_prefix: 1100,
        zones: 2,
    },
    RegionDef {
        region: "ap-singapore",
        name: "Southeast Asia (Singapore)",
        zone_prefix: 9000,
        zones: 2,
    },
    RegionDef {
        region: "na-siliconvalley",
        name: "Western U.S. (Silicon Valley)",
        zone_prefix: 1500,
        zones: 2,
    },
    RegionDef {
        region: "na-toronto",
        name: "North America (Toronto)",
        zone_prefix: 1600,
        zones: 1,
    },
];

pub fn region(name: &str) -> Option<&'static RegionDef> {
    REGIONS.iter().find(|r| r.region == name)
}

pub struct Zone {
    pub zone: String,
    pub zone_id: String,
    pub zone_name: String,
    pub state: &'static str,
}

fn title(region: &str) -> String {
    let city = region.trim_start_matches("ap-").trim_start_matches("na-");
    let mut out = String::new();
    for (i, part) in city.split('-').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    out
}

/// The zones of a region: `<region>-1..N`; the DescribeZones example marks Guangzhou Zone 1
/// UNAVAILABLE, and so do we. Guangzhou has the zones 1-7 the current description's examples
/// use (ap-guangzhou-6 and -7 among them).
pub fn zones(region: &str) -> Vec<Zone> {
    let Some(def) = self::region(region) else {
        return vec![];
    };
    (1..=def.zones)
        .map(|i| Zone {
            zone: format!("{region}-{i}"),
            zone_id: format!("{}", def.zone_prefix * 100 + i),
            zone_name: format!("{} Zone {i}", title(region)),
            state: if region == "ap-guangzhou" && i == 1 {
                "UNAVAILABLE"
            } else {
                "AVAILABLE"
            },
        })
        .collect()
}

pub fn zone_exists(region: &str, zone: &str) -> bool {
    zones(region).iter().any(|z| z.zone == zone)
}

/// Instance families of the DescribeInstanceFamilyConfigs example.
pub const FAMILIES: &[(&str, &str)] = &[
    ("S1", "Standard S1"),
    ("N1", "Network optimized N1"),
    ("I1", "High IO I1"),
    ("M1", "MEM optimized M1"),
    ("S2", "Standard S2"),
    ("SN2", "Standard SN2"),
    ("I2", "High IO I2"),
    ("M2", "MEM optimized M2"),
    ("C2", "Computing C2"),
    ("CN2", "Computing CN2"),
    ("S3", "Standard S3"),
    ("C3", "Computing C3"),
    ("FX2", "FPGA FX2"),
    ("GN2", "GPU computing GN2"),
    ("GA2", "GPU rendering GA2"),
    ("GN8", "GPU computing GN8"),
    ("CDH", "Exclusive"),
    ("SHARED", "Shared core"),
    ("SPECIAL", "Special model"),
];

pub struct InstanceTypeDef {
    pub family: &'static str,
    pub name: &'static str,
    pub cpu: i64,
    pub memory: i64,
    pub gpu: i64,
}

/// Instance types; the I1 rows are those of the DescribeInstanceTypeConfigs example, the last
/// ones those of the current description's examples.
pub const TYPES: &[InstanceTypeDef] = &[
    InstanceTypeDef {
        family: "S1",
        name: "S1.SMALL1",
        cpu: 1,
        memory: 1,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S1",
        name: "S1.SMALL2",
        cpu: 1,
        memory: 2,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S1",
        name: "S1.MEDIUM4",
        cpu: 2,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S1",
        name: "S1.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S2",
        name: "S2.SMALL1",
        cpu: 1,
        memory: 1,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S2",
        name: "S2.SMALL2",
        cpu: 1,
        memory: 2,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S2",
        name: "S2.MEDIUM4",
        cpu: 2,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S2",
        name: "S2.LARGE16",
        cpu: 4,
        memory: 16,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S3",
        name: "S3.SMALL1",
        cpu: 1,
        memory: 1,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S3",
        name: "S3.MEDIUM4",
        cpu: 2,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "I1",
        name: "I1.MEDIUM4",
        cpu: 2,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "I1",
        name: "I1.MEDIUM8",
        cpu: 2,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "I1",
        name: "I1.MEDIUM16",
        cpu: 2,
        memory: 16,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "I1",
        name: "I1.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "M1",
        name: "M1.MEDIUM16",
        cpu: 2,
        memory: 16,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "C2",
        name: "C2.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "GN2",
        name: "GN2.7XLARGE56",
        cpu: 28,
        memory: 56,
        gpu: 1,
    },
    // Current families (the current description's examples: S5, SA2, SA5, S9).
    InstanceTypeDef {
        family: "S5",
        name: "S5.MEDIUM4",
        cpu: 2,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S5",
        name: "S5.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "SA2",
        name: "SA2.MEDIUM4",
        cpu: 2,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "SA2",
        name: "SA2.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "SA5",
        name: "SA5.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "SA5",
        name: "SA5.64XLARGE1152",
        cpu: 256,
        memory: 1152,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S9",
        name: "S9.8XLARGE64",
        cpu: 32,
        memory: 64,
        gpu: 0,
    },
    // More of the current examples' types (S1, S5, S6).
    InstanceTypeDef {
        family: "S1",
        name: "S1.SMALL4",
        cpu: 1,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S1",
        name: "S1.LARGE4",
        cpu: 4,
        memory: 4,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S5",
        name: "S5.16XLARGE256",
        cpu: 64,
        memory: 256,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S6",
        name: "S6.MEDIUM8",
        cpu: 2,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S6",
        name: "S6.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "S6",
        name: "S6.2XLARGE16",
        cpu: 8,
        memory: 16,
        gpu: 0,
    },
    InstanceTypeDef {
        family: "FX2",
        name: "FX2.LARGE8",
        cpu: 4,
        memory: 8,
        gpu: 0,
    },
];

pub fn instance_type(name: &str) -> Option<&'static InstanceTypeDef> {
    TYPES.iter().find(|t| t.name == name)
}

pub struct PublicImage {
    pub id: &'static str,
    pub name: &'static str,
    pub os_name: &'static str,
    pub platform: &'static str,
    pub arch: &'static str,
}

/// Public images; ids are those used in the reference's examples.
pub const PUBLIC_IMAGES: &[PublicImage] = &[
    PublicImage {
        id: "img-pmqg1cw7",
        name: "CentOS 6.6 32-bit",
        os_name: "centos6.6x86_32",
        platform: "CentOS",
        arch: "i386",
    },
    PublicImage {
        id: "img-pmqg1cw8",
        name: "CentOS 7.2 64-bit",
        os_name: "CentOS 7.2 64-bit",
        platform: "CentOS",
        arch: "x86_64",
    },
    PublicImage {
        id: "img-0vbqvzfn",
        name: "Ubuntu Server 16.04.1 LTS 64-bit",
        os_name: "Ubuntu Server 16.04.1 LTS 64-bit",
        platform: "Ubuntu",
        arch: "x86_64",
    },
    PublicImage {
        id: "img-dkwyg6sr",
        name: "Debian 8.2 64-bit",
        os_name: "Debian 8.2 64-bit",
        platform: "Debian",
        arch: "x86_64",
    },
    PublicImage {
        id: "img-6pb6lrmy",
        name: "Windows Server 2012 R2 64-bit",
        os_name: "Windows Server 2012 R2 64-bit",
        platform: "Windows",
        arch: "x86_64",
    },
    PublicImage {
        id: "img-gvbnzy6f",
        name: "FreeBSD 11.1 64-bit",
        os_name: "FreeBSD 11.1 64-bit",
        platform: "FreeBSD",
        arch: "x86_64",
    },
];

/// Operating systems accepted by ImportImage (the DescribeImportImageOs example).
pub const IMPORT_OS_WINDOWS: &[&str] = &[
    "Windows Server 2008",
    "Windows Server 2012",
    "Windows Server 2016",
];
pub const IMPORT_OS_LINUX: &[&str] = &[
    "CentOS",
    "CoreOS",
    "Debian",
    "FreeBSD",
    "Redhat",
    "OpenSUSE",
    "SUSE",
    "Ubuntu",
    "Other Linux",
];

/// Deterministic prices, in CNY.
pub fn hourly_price(cpu: i64, memory: i64) -> f64 {
    round2(0.12 * cpu as f64 + 0.05 * memory as f64)
}

pub fn monthly_price(cpu: i64, memory: i64) -> f64 {
    round2(45.0 * cpu as f64 + 15.0 * memory as f64)
}

pub fn disk_monthly_price(gb: i64) -> f64 {
    round2(0.3 * gb as f64)
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn zones_follow_the_example() {
        let z = super::zones("ap-guangzhou");
        assert_eq!(z.len(), 7);
        assert_eq!(z[5].zone, "ap-guangzhou-6");
        assert_eq!(z[6].zone_id, "100007");
        assert_eq!(z[1].zone, "ap-guangzhou-2");
        assert_eq!(z[1].zone_id, "100002");
        assert_eq!(z[1].zone_name, "Guangzhou Zone 2");
        assert_eq!(z[0].state, "UNAVAILABLE");
    }
}
