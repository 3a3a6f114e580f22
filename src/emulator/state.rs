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
    /// Its JSON in DescribeInstances; cleared by every mutable access (see [`Region`]).
    pub rendered: Rendered,
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
}

#[derive(Debug, Clone)]
pub struct DrGroup {
    pub id: String,
    pub name: String,
    pub group_type: String,
    pub instances: Vec<String>,
    pub created: i64,
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
}

#[derive(Debug, Default)]
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
}

impl Region {
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
            next_ip: 1,
            launch_failures: 0,
        }
    }

    /// The region's state, settled up to `now`.
    pub fn region(&mut self, name: &str, now: Instant) -> &mut Region {
        let r = self.regions.entry(name.to_string()).or_default();
        r.settle(now);
        r
    }

    /// A fresh private address in 10.0.0.0/8 (and a public one from 203.0.113.0/24-like space).
    pub fn ips(&mut self) -> (String, String) {
        let n = self.next_ip;
        self.next_ip += 1;
        (
            format!(
                "10.{}.{}.{}",
                (n >> 16) & 0xff,
                (n >> 8) & 0xff,
                (n & 0xff).max(2)
            ),
            format!(
                "119.{}.{}.{}",
                28 + ((n >> 16) & 0x3f),
                (n >> 8) & 0xff,
                (n & 0xff).max(2)
            ),
        )
    }
}

pub fn after(now: Instant, d: Duration) -> Instant {
    now + d
}
