//! Launch templates and their versions (lt-xxxxxxxx). A version stores the launch parameters
//! as given; RunInstances with `LaunchTemplate` launches from them, request values winning.

use super::tags::{is_tag_filter, tag_filter};
use super::{check_zone, unknown_filter, Ctx};
use crate::state::{LaunchTemplate, TemplateVersion};
use crate::util::{filters, iso8601, obj, paginate, well_formed, ApiError, HResult, P};
use serde_json::{json, Map, Value};

/// Versions per template and templates per region, as the service's quotas.
const VERSION_QUOTA: usize = 30;
const TEMPLATE_QUOTA: usize = 30;

/// The members of CreateLaunchTemplate(Version) that are not launch parameters.
const NOT_DATA: &[&str] = &[
    "LaunchTemplateName",
    "LaunchTemplateId",
    "LaunchTemplateVersion",
    "LaunchTemplateVersionDescription",
    "LaunchTemplateTagSpecification",
    "TemplateDataModifyAction",
    "DryRun",
];

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        format!("The launch template `{id}` does not exist."),
    )
}

/// The template `id` of the request's region (malformed or unknown: an error).
fn template<'c>(ctx: &'c mut Ctx<'_>, id: &str) -> Result<&'c mut LaunchTemplate, ApiError> {
    if !well_formed(id, "lt") {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The launch template id `{id}` is malformed."),
        ));
    }
    ctx.reg()
        .launch_templates
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found(id))
}

/// The launch parameters of a Create request, checked as a launch would check them.
fn launch_data(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Value, ApiError> {
    let Value::Object(all) = p.0 else {
        return Ok(json!({}));
    };
    let data: Map<String, Value> = all
        .iter()
        .filter(|(k, v)| !NOT_DATA.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(zone) = p.obj("Placement").and_then(|pl| pl.str("Zone")) {
        check_zone(&ctx.region.clone(), &zone)?;
    }
    if let Some(img) = p.str("ImageId") {
        super::instances::find_image_os(ctx, &img)?;
    }
    if let Some(t) = p.str("InstanceType") {
        super::instances::parse_type(&t)?;
    }
    Ok(Value::Object(data))
}

fn description(p: &P<'_>) -> Result<String, ApiError> {
    let d = p
        .str("LaunchTemplateVersionDescription")
        .unwrap_or_default();
    if d.chars().count() > 2048 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "LaunchTemplateVersionDescription is longer than 2048 characters.",
        ));
    }
    Ok(d)
}

pub fn create_launch_template(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let name = p.req_str("LaunchTemplateName")?;
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "LaunchTemplateName must be 1 to 128 characters.",
        ));
    }
    let desc = description(p)?;
    let data = launch_data(ctx, p)?;
    let mut tags = vec![];
    for spec in p.arr("LaunchTemplateTagSpecification") {
        for t in P(spec).arr("Tags") {
            if let (Some(k), Some(v)) = (P(t).str("Key"), P(t).str("Value")) {
                tags.push((k, v));
            }
        }
    }
    let reg = ctx.reg();
    if reg.launch_templates.iter().any(|t| t.name == name) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("A launch template named `{name}` exists."),
        ));
    }
    if reg.launch_templates.len() >= TEMPLATE_QUOTA {
        return Err(ApiError::new(
            "LimitExceeded",
            "The launch template quota is exhausted.",
        ));
    }
    let id = ctx.world.ids.id("lt");
    let unix = ctx.unix;
    ctx.reg().launch_templates.push(LaunchTemplate {
        id: id.clone(),
        name,
        default_version: 1,
        latest_version: 1,
        created: unix,
        tags,
        versions: vec![TemplateVersion {
            number: 1,
            description: desc,
            created: unix,
            data,
        }],
    });
    Ok(json!({ "LaunchTemplateId": id }))
}

pub fn create_launch_template_version(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("LaunchTemplateId")?;
    let desc = description(p)?;
    let mut data = launch_data(ctx, p)?;
    let unix = ctx.unix;
    let base_no = p.int("LaunchTemplateVersion")?;
    let t = template(ctx, &id)?;
    if t.versions.len() >= VERSION_QUOTA {
        return Err(ApiError::new(
            "LimitExceeded",
            "The launch template version quota is exhausted.",
        ));
    }
    // Based on a version: its parameters, overridden by the request's.
    if let Some(n) = base_no {
        let base = t.versions.iter().find(|v| v.number == n).ok_or_else(|| {
            ApiError::new(
                "InvalidParameterValue",
                format!("The launch template `{id}` has no version {n}."),
            )
        })?;
        data = merge(&base.data, &data);
    }
    let number = t.latest_version + 1;
    t.latest_version = number;
    t.versions.push(TemplateVersion {
        number,
        description: desc,
        created: unix,
        data,
    });
    Ok(json!({ "LaunchTemplateVersionNumber": number }))
}

pub fn delete_launch_template(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("LaunchTemplateId")?;
    template(ctx, &id)?;
    ctx.reg().launch_templates.retain(|t| t.id != id);
    Ok(json!({}))
}

pub fn delete_launch_template_versions(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("LaunchTemplateId")?;
    let numbers: Vec<i64> = p
        .arr("LaunchTemplateVersions")
        .into_iter()
        .filter_map(crate::util::as_i64)
        .collect();
    if numbers.is_empty() {
        return Err(ApiError::new(
            "MissingParameter",
            "The request is missing `LaunchTemplateVersions`.",
        ));
    }
    let t = template(ctx, &id)?;
    for n in &numbers {
        if !t.versions.iter().any(|v| v.number == *n) {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("The launch template `{id}` has no version {n}."),
            ));
        }
        if *n == t.default_version {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("Version {n} is the default version of `{id}`."),
            ));
        }
    }
    t.versions.retain(|v| !numbers.contains(&v.number));
    Ok(json!({}))
}

pub fn modify_launch_template_default_version(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("LaunchTemplateId")?;
    let n = p.int("DefaultVersion")?.ok_or_else(|| {
        ApiError::new(
            "MissingParameter",
            "The request is missing `DefaultVersion`.",
        )
    })?;
    let t = template(ctx, &id)?;
    if !t.versions.iter().any(|v| v.number == n) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("The launch template `{id}` has no version {n}."),
        ));
    }
    if t.default_version == n {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("Version {n} is already the default version of `{id}`."),
        ));
    }
    t.default_version = n;
    Ok(json!({}))
}

fn render_template(t: &LaunchTemplate) -> Value {
    json!({
        "LaunchTemplateId": t.id,
        "LaunchTemplateName": t.name,
        "DefaultVersionNumber": t.default_version,
        "LatestVersionNumber": t.latest_version,
        "LaunchTemplateVersionCount": t.versions.len(),
        "CreatedBy": "100000000001",
        "CreationTime": iso8601(t.created),
    })
}

pub fn describe_launch_templates(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let ids = p.str_list("LaunchTemplateIds");
    let fs = filters(p)?;
    if !ids.is_empty() && !fs.is_empty() {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "LaunchTemplateIds and Filters cannot be given together.",
        ));
    }
    for (name, _) in &fs {
        if name != "LaunchTemplateName" && !is_tag_filter(name) {
            return Err(unknown_filter(name));
        }
    }
    let limits = ctx.page_limits();
    let reg = ctx.reg();
    let all: Vec<&LaunchTemplate> = reg
        .launch_templates
        .iter()
        .filter(|t| ids.is_empty() || ids.contains(&t.id))
        .filter(|t| {
            fs.iter().all(|(name, values)| match name.as_str() {
                "LaunchTemplateName" => values.contains(&t.name),
                tag => tag_filter(tag, values, &t.tags).unwrap_or(false),
            })
        })
        .collect();
    let page = paginate(p, &all, limits)?;
    Ok(json!({
        "TotalCount": all.len(),
        "LaunchTemplateSet": page.iter().map(|t| render_template(t)).collect::<Vec<_>>(),
    }))
}

pub fn describe_launch_template_versions(ctx: &mut Ctx<'_>, p: &P<'_>) -> HResult {
    let id = p.req_str("LaunchTemplateId")?;
    let wanted: Vec<i64> = p
        .arr("LaunchTemplateVersions")
        .into_iter()
        .filter_map(crate::util::as_i64)
        .collect();
    let min = p.int("MinVersion")?;
    let max = p.int("MaxVersion")?;
    let default_only = p.boolean("DefaultVersion")?.unwrap_or(false);
    let limits = ctx.page_limits();
    let t = template(ctx, &id)?.clone();
    let versions: Vec<&TemplateVersion> = t
        .versions
        .iter()
        .filter(|v| wanted.is_empty() || wanted.contains(&v.number))
        .filter(|v| min.is_none_or(|m| v.number >= m) && max.is_none_or(|m| v.number <= m))
        .filter(|v| !default_only || v.number == t.default_version)
        .collect();
    let page = paginate(p, &versions, limits)?;
    let set: Vec<Value> = page
        .iter()
        .map(|v| {
            json!({
                "LaunchTemplateId": t.id,
                "LaunchTemplateVersion": v.number,
                "LaunchTemplateVersionDescription": v.description,
                "IsDefaultVersion": v.number == t.default_version,
                "CreationTime": iso8601(v.created),
                "CreatedBy": "100000000001",
                "LaunchTemplateVersionData": version_data(&v.data),
            })
        })
        .collect();
    Ok(json!({ "TotalCount": versions.len(), "LaunchTemplateVersionSet": set }))
}

/// `over`'s members replace `base`'s (one level: a given Placement replaces the template's).
fn merge(base: &Value, over: &Value) -> Value {
    let mut out = base.as_object().cloned().unwrap_or_default();
    if let Value::Object(o) = over {
        for (k, v) in o {
            if !v.is_null() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// RunInstances' parameters with its `LaunchTemplate`'s version underneath (None: no
/// template given).
pub fn with_template(ctx: &mut Ctx<'_>, p: &P<'_>) -> Result<Option<Value>, ApiError> {
    let Some(lt) = p.obj("LaunchTemplate") else {
        return Ok(None);
    };
    let id = lt.req_str("LaunchTemplateId")?;
    let number = lt.int("LaunchTemplateVersion")?;
    let t = template(ctx, &id)?;
    let n = number.unwrap_or(t.default_version);
    let v = t.versions.iter().find(|v| v.number == n).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue",
            format!("The launch template `{id}` has no version {n}."),
        )
    })?;
    let mut over = p.0.clone();
    if let Value::Object(o) = &mut over {
        o.remove("LaunchTemplate");
    }
    Ok(Some(merge(&v.data, &over)))
}

/// A stored version as LaunchTemplateVersionData: every always-returned member present.
fn version_data(d: &Value) -> Value {
    let p = P(d);
    let o = |k: &str| p.obj(k).map(|x| x.0.clone()).unwrap_or_else(|| json!({}));
    let with = |mut v: Value, defaults: Value| {
        if let (Value::Object(m), Value::Object(dm)) = (&mut v, defaults) {
            for (k, dv) in dm {
                m.entry(k).or_insert(dv);
            }
        }
        v
    };
    let disk = json!({"DiskType": "CLOUD_BASIC", "DiskSize": 50, "Encrypt": false, "KmsKeyId": ""});
    let data_disks: Vec<Value> = p
        .arr("DataDisks")
        .into_iter()
        .map(|x| with(x.clone(), json!({"DiskType": "CLOUD_BASIC", "DiskSize": 50, "DeleteWithInstance": true, "Encrypt": false, "KmsKeyId": ""})))
        .collect();
    let off = json!({"Enabled": false});
    let on = json!({"Enabled": true});
    let mut out = d.as_object().cloned().unwrap_or_default();
    for (k, v) in [
        (
            "Placement",
            with(o("Placement"), json!({"Zone": "", "ProjectId": 0})),
        ),
        ("SystemDisk", with(o("SystemDisk"), disk)),
        ("DataDisks", Value::Array(data_disks)),
        (
            "InternetAccessible",
            with(
                o("InternetAccessible"),
                json!({"InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR", "InternetMaxBandwidthOut": 0}),
            ),
        ),
        (
            "VirtualPrivateCloud",
            with(
                o("VirtualPrivateCloud"),
                json!({"VpcId": "", "SubnetId": "", "AsVpcGateway": false}),
            ),
        ),
        (
            "EnhancedService",
            with(
                o("EnhancedService"),
                obj(vec![
                    ("SecurityService", on.clone()),
                    ("MonitorService", on),
                    ("AutomationService", off),
                ]),
            ),
        ),
    ] {
        out.insert(k.into(), v);
    }
    for (k, v) in [
        ("InstanceType", json!("S1.SMALL1")),
        ("InstanceName", json!("")),
        ("InstanceChargeType", json!("POSTPAID_BY_HOUR")),
        ("ImageId", json!("")),
        ("SecurityGroupIds", json!([])),
        ("InstanceCount", json!(1)),
        ("DisableApiTermination", json!(false)),
    ] {
        out.entry(k.to_string()).or_insert(v);
    }
    Value::Object(out)
}
