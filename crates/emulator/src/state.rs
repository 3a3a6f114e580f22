//! The emulated account: resources per region, the id generator, transition timers, counters.
//!
//! Transitions are lazy: a resource records the state it is heading to and when it gets
//! there; every access first settles what is due. No background task, nothing to leak.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The rendered JSON of a resource (as DescribeInstances lists it), made on first use and
/// dropped whenever the resource may change: the only ways to reach a `&mut Instance` are the
/// methods of [`Region`], and each of them clears it. A stale answer cannot be served.
#[derive(Debug, Clone, Default)]
pub struct Rendered(OnceLock<Box<[u8]>>);

impl Rendered {
    /// The cached bytes, made by `make` if there are none.
    pub fn get_or_make(&self, make: impl FnOnce() -> Vec<u8>) -> &[u8] {
        self.0.get_or_init(|| make().into_boxed_slice())
    }
    /// Whether bytes are cached (for tests).
    pub fn is_cached(&self) -> bool {
        self.0.get().is_some()
    }
    fn clear(&mut self) {
        self.0.take();
    }
}

/// How long each transitional state lasts.
#[derive(Debug, Clone)]
pub struct Timers {
    pub pending: Duration,
    pub starting: Duration,
    pub stopping: Duration,
    pub rebooting: Duration,
    pub terminating: Duration,
    pub image_creating: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        let d = Duration::from_millis(300);
        Timers {
            pending: d,
            starting: d,
            stopping: d,
            rebooting: d,
            terminating: d,
            image_creating: d,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Disk {
    pub disk_type: String,
    pub disk_id: String,
    pub disk_size: i64,
    /// Encrypt and KmsKeyId as given at launch (data disks), else false and "".
    pub encrypt: bool,
    pub kms_key_id: String,
    /// DeleteWithInstance (data disks; true by default, as the service has it).
    pub delete_with_instance: bool,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub state: String,
    /// (due, next state); next state "" means the instance disappears.
    pub next: Option<(Instant, &'static str)>,
    pub zone: String,
    pub project_id: i64,
    pub host_id: String,
    pub instance_type: String,
    pub cpu: i64,
    pub memory: i64,
    pub image_id: String,
    pub os_name: String,
    pub charge_type: String,
    pub renew_flag: String,
    pub created: i64,
    pub expired: Option<i64>,
    pub system_disk: Disk,
    pub data_disks: Vec<Disk>,
    pub private_ip: String,
    pub public_ip: Option<String>,
    pub internet_charge_type: String,
    pub bandwidth_out: i64,
    pub vpc_id: String,
    pub subnet_id: String,
    pub as_vpc_gateway: bool,
    pub security_group_ids: Vec<String>,
    pub key_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub dr_group: Option<String>,
    pub client_token: Option<String>,
    /// Attributes of the current API (launch protection, user data, roles, rescue mode).
    pub extra: InstanceExtra,
    /// Its JSON in DescribeInstances; cleared by every mutable access (see [`Region`]).
    pub rendered: Rendered,
}

/// What an instance carries beyond the 2017 reference.
#[derive(Debug, Clone, Default)]
pub struct InstanceExtra {
    /// DisableApiTermination: TerminateInstances refuses it.
    pub protected: bool,
    pub user_data: Option<String>,
    pub cam_role_name: String,
    pub hpc_cluster_id: String,
    /// In rescue mode: the state to return to on ExitRescueMode.
    pub rescued_from: Option<String>,
    /// The instance's UUID (the `uuid` filter, `Uuid`).
    pub uuid: String,
    /// IPv6 addresses (VirtualPrivateCloud.Ipv6AddressCount at launch).
    pub ipv6: Vec<String>,
    /// The CDC it was launched in (`DedicatedClusterId`), or empty.
    pub dedicated_cluster_id: String,
    /// `HostName` as given at launch, or empty (shown as the service's default).
    pub host_name: String,
    /// StopInstances' StoppedMode (KEEP_CHARGING, STOP_CHARGING) while STOPPED.
    pub stopped_mode: String,
}

/// A launch template: its versions hold the launch parameters as given (JSON).
#[derive(Debug, Clone)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    pub default_version: i64,
    pub latest_version: i64,
    pub created: i64,
    pub tags: Vec<(String, String)>,
    pub versions: Vec<TemplateVersion>,
}

#[derive(Debug, Clone)]
pub struct TemplateVersion {
    pub number: i64,
    pub description: String,
    pub created: i64,
    pub data: serde_json::Value,
}

/// A scheduled action (ImportInstancesActionTimer): stops or terminates its instance at
/// `at` (unix seconds).
#[derive(Debug, Clone)]
pub struct ActionTimer {
    pub id: String,
    pub instance_id: String,
    pub action: String,
    pub at: i64,
    /// UNDO (waiting), DOING, DONE, CANCEL.
    pub status: String,
    pub release_address: bool,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub description: String,
    pub state: String,
    pub next: Option<(Instant, &'static str)>,
    pub image_type: String,
    pub os_name: String,
    pub platform: String,
    pub arch: String,
    pub size: i64,
    pub created: i64,
    pub source: String,
    pub creator: String,
    pub shared_with: Vec<(String, i64)>,
    pub tags: Vec<(String, String)>,
    /// The CDC whose cache holds it (an image of an instance in a CDC), or empty.
    pub dedicated_cluster_id: String,
    /// CdcCacheStatus (CACHED for an image in a CDC), or empty.
    pub cdc_cache_status: String,
}

#[derive(Debug, Clone)]
pub struct KeyPair {
    pub id: String,
    pub name: String,
    pub project_id: i64,
    pub description: String,
    pub public_key: String,
    pub instances: Vec<String>,
    pub created: i64,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct DrGroup {
    pub id: String,
    pub name: String,
    pub group_type: String,
    pub instances: Vec<String>,
    pub created: i64,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub id: String,
    pub name: String,
    pub zone: String,
    pub project_id: i64,
    pub host_type: String,
    pub charge_type: String,
    pub renew_flag: String,
    pub created: i64,
    pub expired: i64,
    pub state: String,
    pub ip: String,
    pub instances: Vec<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct Region {
    /// Private: every mutable access goes through a method that drops the instance's
    /// rendered JSON.
    instances: Vec<Instance>,
    pub images: Vec<Image>,
    pub key_pairs: Vec<KeyPair>,
    pub dr_groups: Vec<DrGroup>,
    pub hosts: Vec<Host>,
    /// ClientToken -> the ids RunInstances returned for it.
    pub run_tokens: HashMap<String, Vec<String>>,
    pub host_tokens: HashMap<String, Vec<String>>,
    pub launch_templates: Vec<LaunchTemplate>,
    pub action_timers: Vec<ActionTimer>,
    /// HPC clusters, CHC hosts, resource pool packs, repair tasks, image families.
    pub fam: crate::fam_state::FamState,
}

impl Region {
    /// Fire the scheduled actions due at `unix`: a STOP or TERMINATE of a RUNNING or STOPPED
    /// instance starts its transition now (`d`: stopping, terminating); the timer is DONE.
    pub fn fire_timers(&mut self, unix: i64, now: Instant, timers: &Timers) {
        for t in self.action_timers.iter_mut() {
            if t.status != "UNDO" || t.at > unix {
                continue;
            }
            t.status = "DONE".into();
            let Some(i) = self.instances.iter_mut().find(|i| i.id == t.instance_id) else {
                continue;
            };
            i.rendered.clear();
            match (t.action.as_str(), i.state.as_str()) {
                ("TerminateInstances", "RUNNING" | "STOPPED") => {
                    i.state = "TERMINATING".into();
                    i.next = Some((now + timers.terminating, ""));
                }
                ("StopInstances", "RUNNING") => {
                    i.state = "STOPPING".into();
                    i.next = Some((now + timers.stopping, "STOPPED"));
                }
                _ => {}
            }
        }
    }

    /// Apply every transition that is due.
    pub fn settle(&mut self, now: Instant) {
        let mut gone = vec![];
        for i in self.instances.iter_mut() {
            if let Some((due, next)) = i.next {
                if due <= now {
                    i.next = None;
                    i.rendered.clear();
                    if next.is_empty() {
                        gone.push(i.id.clone());
                    } else {
                        i.state = next.to_string();
                    }
                }
            }
        }
        if !gone.is_empty() {
            self.instances.retain(|i| !gone.contains(&i.id));
            for k in self.key_pairs.iter_mut() {
                k.instances.retain(|x| !gone.contains(x));
            }
            for g in self.dr_groups.iter_mut() {
                g.instances.retain(|x| !gone.contains(x));
            }
            for h in self.hosts.iter_mut() {
                h.instances.retain(|x| !gone.contains(x));
            }
        }
        for img in self.images.iter_mut() {
            if let Some((due, next)) = img.next {
                if due <= now {
                    img.next = None;
                    img.state = next.to_string();
                }
            }
        }
    }

    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }
    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }
    /// An instance to change (its rendered JSON is dropped).
    pub fn instance_mut(&mut self, id: &str) -> Option<&mut Instance> {
        let i = self.instances.iter_mut().find(|i| i.id == id)?;
        i.rendered.clear();
        Some(i)
    }
    /// Every instance, to change (their rendered JSON is dropped).
    pub fn instances_mut(&mut self) -> impl Iterator<Item = &mut Instance> {
        for i in self.instances.iter_mut() {
            i.rendered.clear();
        }
        self.instances.iter_mut()
    }
    pub fn add_instances(&mut self, new: impl IntoIterator<Item = Instance>) {
        self.instances.extend(new);
    }
}

/// Random ids (`ins-xxxxxxxx`), reproducible after `seed`.
#[derive(Clone)]
pub struct IdGen {
    rng: StdRng,
}

impl IdGen {
    pub fn new(seed: Option<u64>) -> Self {
        IdGen {
            rng: match seed {
                Some(s) => StdRng::seed_from_u64(s),
                None => StdRng::from_rng(&mut rand::rng()),
            },
        }
    }
    pub fn id(&mut self, prefix: &str) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let s: String = (0..8)
            .map(|_| CHARS[self.rng.random_range(0..CHARS.len())] as char)
            .collect();
        format!("{prefix}-{s}")
    }
    pub fn below(&mut self, n: u32) -> u32 {
        self.rng.random_range(0..n.max(1))
    }
}

/// Cloneable so that a DryRun request can run against a copy that is thrown away.
#[derive(Clone)]
pub struct World {
    pub regions: HashMap<String, Region>,
    pub ids: IdGen,
    pub timers: Timers,
    pub launches_total: u64,
    pub launches_by_token: HashMap<String, u64>,
    pub image_quota: i64,
    pub dr_group_quota: i64,
    pub instance_quota: usize,
    pub key_pair_quota: usize,
    pub next_ip: u32,
    /// The next this-many launched instances end in LAUNCH_FAILED instead of RUNNING.
    pub launch_failures: u64,
}

impl World {
    pub fn new(seed: Option<u64>, timers: Timers) -> Self {
        World {
            regions: HashMap::new(),
            ids: IdGen::new(seed),
            timers,
            launches_total: 0,
            launches_by_token: HashMap::new(),
            image_quota: 10,
            dr_group_quota: 10,
            instance_quota: 1000,
            key_pair_quota: 100,
            next_ip: 0,
            launch_failures: 0,
        }
    }

    /// The region's state, settled up to `now`.
    pub fn region(&mut self, name: &str, now: Instant) -> &mut Region {
        let r = self.regions.entry(name.to_string()).or_default();
        r.settle(now);
        r
    }

    /// The region's state with its scheduled actions due at `unix` fired, settled.
    pub fn region_at(&mut self, name: &str, now: Instant, unix: i64) -> &mut Region {
        let r = self.regions.entry(name.to_string()).or_default();
        r.settle(now);
        r.fire_timers(unix, now, &self.timers);
        r
    }

    /// A fresh (private, public) address pair for a new instance: the next addresses of the
    /// emulator's sequence, private in 10.0.0.0/8 and public in 119.28.0.0/14, never an
    /// address any instance of the emulator (in any region) already has, nor one in `taken`
    /// (the addresses given to the other instances of the same launch).
    pub fn ips(&mut self, taken: &[String]) -> (String, String) {
        // Every /24 block of either space has 253 usable host numbers (.2 to .254: .0 is the
        // network, .1 the gateway, .255 the broadcast address), so the whole private space
        // holds 65536 * 253 addresses before the sequence wraps.
        const PER_BLOCK: u32 = 253;
        const SPAN: u32 = 65536 * PER_BLOCK;
        for _ in 0..SPAN {
            let n = self.next_ip % SPAN;
            self.next_ip = (n + 1) % SPAN;
            let host = 2 + n % PER_BLOCK;
            let block = n / PER_BLOCK;
            let (b2, b3) = ((block >> 8) & 0xff, block & 0xff);
            let private = format!("10.{b2}.{b3}.{host}");
            let in_use = taken.contains(&private)
                || self
                    .regions
                    .values()
                    .any(|r| r.instances.iter().any(|i| i.private_ip == private));
            if !in_use {
                let public = format!("119.{}.{b3}.{host}", 28 + (b2 & 0x3));
                return (private, public);
            }
        }
        // 16.5 million instances: unreachable under the instance quota.
        ("10.255.255.254".into(), "119.31.255.254".into())
    }
}

pub fn after(now: Instant, d: Duration) -> Instant {
    now + d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, ip: &str) -> Instance {
        let disk = Disk {
            disk_type: "CLOUD_BASIC".into(),
            disk_id: "disk-00000001".into(),
            disk_size: 50,
            encrypt: false,
            kms_key_id: String::new(),
            delete_with_instance: true,
        };
        Instance {
            id: id.into(),
            name: String::new(),
            state: "RUNNING".into(),
            next: None,
            zone: String::new(),
            project_id: 0,
            host_id: String::new(),
            instance_type: String::new(),
            cpu: 1,
            memory: 1,
            image_id: String::new(),
            os_name: String::new(),
            charge_type: String::new(),
            renew_flag: String::new(),
            created: 0,
            expired: None,
            system_disk: disk,
            data_disks: vec![],
            private_ip: ip.into(),
            public_ip: None,
            internet_charge_type: String::new(),
            bandwidth_out: 0,
            vpc_id: String::new(),
            subnet_id: String::new(),
            as_vpc_gateway: false,
            security_group_ids: vec![],
            key_ids: vec![],
            tags: vec![],
            dr_group: None,
            client_token: None,
            extra: Default::default(),
            rendered: Default::default(),
        }
    }

    /// Addresses never repeat (the sequence used to give .2 twice, and once per /24), never
    /// end in .0, .1 or .255, and skip the ones instances already have, in any region.
    #[test]
    fn addresses_are_unique_and_usable() {
        let mut w = World::new(Some(1), Timers::default());
        let now = Instant::now();
        w.region("ap-shanghai", now)
            .add_instances([instance("ins-a", "10.0.0.3")]);
        let mut private = std::collections::HashSet::new();
        let mut public = std::collections::HashSet::new();
        for _ in 0..1000 {
            let (a, b) = w.ips(&["10.0.0.5".to_string()]);
            for ip in [&a, &b] {
                let last = ip.rsplit('.').next().unwrap_or_default();
                assert!(!["0", "1", "255"].contains(&last), "{ip}");
            }
            assert!(a.starts_with("10.") && a != "10.0.0.3" && a != "10.0.0.5");
            assert!(private.insert(a.clone()), "{a} twice");
            assert!(public.insert(b.clone()), "{b} twice");
        }
        assert!(private.contains("10.0.0.2") && private.contains("10.0.1.2"));
    }
}
