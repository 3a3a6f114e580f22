//! The state of the families added with the current description (HPC clusters, CHC hosts,
//! resource pool packs, repair tasks, image families), kept apart from [`crate::state`] so
//! each family's data lives next to its handlers' needs.

use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct HpcCluster {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub zone: String,
    pub cluster_type: String,
    pub business_id: String,
    pub tags: Vec<(String, String)>,
    /// Instances launched into it (RunInstances' HpcClusterId); ones no longer in the region
    /// are not shown.
    pub instances: Vec<String>,
    pub created: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Vpc {
    pub vpc_id: String,
    pub subnet_id: String,
    pub as_gateway: bool,
    pub private_ips: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ChcHost {
    pub id: String,
    pub name: String,
    pub serial: String,
    /// INIT -> (ConfigureChcAssistVpc) READY -> (ConfigureChcDeployVpc) PREPARED.
    pub state: &'static str,
    pub device_type: String,
    pub zone: String,
    pub bmc: Option<(Vpc, Vec<String>)>,
    pub deploy: Option<(Vpc, Vec<String>)>,
    pub deploy_extra: Option<(String, String, String, String)>,
    pub bmc_user: String,
    pub network_mode: String,
    pub cpu: i64,
    pub memory: i64,
    pub disk: &'static str,
    pub bmc_ip: String,
    pub deploy_ip: String,
    pub created: i64,
    pub latest_operation: String,
}

#[derive(Debug, Clone)]
pub struct PoolPack {
    pub id: String,
    pub name: String,
    pub zone: String,
    pub instance_type: String,
    pub family: String,
    pub pack_type: String,
    pub count: i64,
    pub cpu: i64,
    pub memory: i64,
    pub auto_placement: bool,
    pub renew_flag: String,
    pub start: i64,
    pub end: i64,
    pub instances: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RepairTask {
    pub id: String,
    pub instance_id: String,
    pub zone: String,
    pub type_id: i64,
    /// 1 pending authorization, 2 processing, 3 finished (as TaskStatus filters them).
    pub status: i64,
    pub created: i64,
    pub auth_time: Option<i64>,
    pub auth_type: i64,
}

#[derive(Debug, Default, Clone)]
pub struct FamState {
    pub hpc: Vec<HpcCluster>,
    pub chc: Vec<ChcHost>,
    pub chc_seeded: bool,
    pub pools: Vec<PoolPack>,
    pub tasks: Vec<RepairTask>,
    /// Image id -> ImageFamily (CreateImage/ImportImage/ModifyImageAttribute set it).
    pub image_families: HashMap<String, String>,
    pub next_export_task: i64,
}

impl FamState {
    /// Whether `id` names an HPC cluster of this region in `zone` (RunInstances' HpcClusterId
    /// check): Err(message) when it does not exist or lies in another zone.
    pub fn check_hpc(&self, id: &str, zone: &str) -> Result<(), String> {
        match self.hpc.iter().find(|c| c.id == id) {
            None => Err(format!("The HPC cluster `{id}` does not exist.")),
            Some(c) if c.zone != zone => Err(format!(
                "The HPC cluster `{id}` is in {}, not in {zone}.",
                c.zone
            )),
            Some(_) => Ok(()),
        }
    }
    /// Record an instance launched into an HPC cluster (after [`FamState::check_hpc`]).
    pub fn join_hpc(&mut self, id: &str, instance: &str) {
        if let Some(c) = self.hpc.iter_mut().find(|c| c.id == id) {
            c.instances.push(instance.to_string());
        }
    }
}
