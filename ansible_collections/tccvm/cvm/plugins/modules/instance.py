#!/usr/bin/python
# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: instance
short_description: Launch, start, stop and terminate Tencent Cloud CVM instances
version_added: 0.1.0
description:
  - Makes the instances that match I(name) and I(tags) (or the given I(instance_ids)) be in
    I(state), launching or terminating the difference to reach I(count) or I(exact_count).
  - Idempotent - a second run with the same options changes nothing.
  - In check mode only Describe actions are called; the result says what would change.
  - A launch carries a C(ClientToken) derived from the task (its options and the instances
    it found), so a retried task (C(retries), or a run repeated after an answer was lost)
    gets back the instances the first try launched instead of launching more.
options:
  state:
    description:
      - C(present) - the instances exist (missing ones are launched; stopped ones stay
        stopped).
      - C(running) - they exist and are running (stopped ones are started).
      - C(stopped) - they exist and are stopped.
      - C(absent) - every matching instance is terminated (I(count) does not apply).
    type: str
    choices: [present, running, stopped, absent]
    default: present
  name:
    description:
      - The instances' name. Launched instances are named I(name) followed by a number
        (C(web1), C(web2) ...); an instance matches when its name is I(name) or I(name)
        followed by digits, so give fleets names that are not prefixes of one another, or
        tell them apart with I(tags).
    type: str
  tags:
    description:
      - Tags the instances carry (all of them, to match) and that launched instances get.
    type: dict
  filters:
    description:
      - More DescribeInstances filters that matching instances must pass, such as
        C(zone=ap-guangzhou-3); a value may be a list.
    type: dict
  instance_ids:
    description:
      - Act on these instances only (for C(running), C(stopped), C(absent)); nothing is
        launched.
    type: list
    elements: str
  count:
    description:
      - At least this many matching instances (missing ones are launched, none is
        terminated). Default 1 when neither I(count) nor I(exact_count) is given.
    type: int
  exact_count:
    description:
      - Exactly this many matching instances - missing ones are launched, the surplus
        terminated (stopped ones first, then the newest).
    type: int
  image_id:
    description:
      - The image to launch from (required when instances must be launched).
    type: str
  instance_type:
    description:
      - The instance type, for example C(S5.MEDIUM4). Default the service's.
    type: str
  zone:
    description:
      - The zone to launch in. Default the region's first available zone.
    type: str
  instance_charge_type:
    description:
      - How launched instances are billed.
    type: str
    default: POSTPAID_BY_HOUR
    choices: [POSTPAID_BY_HOUR, PREPAID, SPOTPAID]
  key_ids:
    description:
      - Key pairs (C(skey-...)) to log in with.
    type: list
    elements: str
  security_group_ids:
    description:
      - Security groups of launched instances.
    type: list
    elements: str
  system_disk:
    description:
      - The system disk of launched instances.
    type: dict
    suboptions:
      disk_type:
        description: The disk type, for example C(CLOUD_PREMIUM).
        type: str
      disk_size:
        description: The size in GB.
        type: int
  internet_max_bandwidth_out:
    description:
      - Public bandwidth in Mbps; above 0, launched instances get a public IP.
    type: int
  vpc_id:
    description:
      - The VPC of launched instances (with I(subnet_id)).
    type: str
  subnet_id:
    description:
      - The subnet of launched instances (with I(vpc_id)).
    type: str
  client_token:
    description:
      - The C(ClientToken) of the launch, instead of the one derived from the task.
    type: str
  stopped_mode:
    description:
      - Whether stopped instances keep being charged (the C(StoppedMode) of StopInstances).
    type: str
    choices: [KEEP_CHARGING, STOP_CHARGING]
  wait:
    description:
      - Wait until the instances reach I(state) (C(RUNNING), C(STOPPED), or gone).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each state to be reached, per batch of 100 instances.
    type: int
    default: 600
extends_documentation_fragment:
  - tccvm.cvm.common
attributes:
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Three web servers running
  tccvm.cvm.instance:
    name: web
    tags: {role: web}
    exact_count: 3
    state: running
    image_id: img-pmqg1cw7
    instance_type: S5.MEDIUM4
    zone: ap-guangzhou-3
    region: ap-guangzhou

- name: Stop them
  tccvm.cvm.instance:
    tags: {role: web}
    state: stopped

- name: Remove them
  tccvm.cvm.instance:
    tags: {role: web}
    state: absent
"""

RETURN = r"""
instance_ids:
  description: The matching instances after the task (in check mode, the ones that would
    remain; instances still to launch have no id yet).
  returned: always
  type: list
  elements: str
  sample: [ins-3k0qn4sl, ins-8yfx7j2q]
instances:
  description: The matching instances after the task, each with every field of
    DescribeInstances in snake_case plus C(tags) (a dict), C(zone), C(region),
    C(public_ip) and C(private_ip).
  returned: always
  type: list
  elements: dict
launched:
  description: Instances launched (none in check mode).
  returned: always
  type: list
  elements: str
launch_count:
  description: How many instances were launched, or would be in check mode.
  returned: always
  type: int
terminated:
  description: Instances terminated (or that would be).
  returned: always
  type: list
  elements: str
started:
  description: Instances started (or that would be).
  returned: always
  type: list
  elements: str
stopped:
  description: Instances stopped (or that would be).
  returned: always
  type: list
  elements: str
client_token:
  description: The ClientToken of the launch.
  returned: when instances were launched
  type: str
code:
  description: The service's error code.
  returned: on a service error
  type: str
  sample: InvalidImageId.NotFound
request_id:
  description: The request id of the failed call.
  returned: on a service error
  type: str
"""

import hashlib
import json
import re
import time

from ansible_collections.tccvm.cvm.plugins.module_utils.common import (
    TccvmModule,
    api_filters,
    instance_facts,
    tag_filters,
)

ALIVE = {"PENDING", "RUNNING", "STARTING", "REBOOTING"}
STOPPED = {"STOPPED", "STOPPING"}
# TERMINATING, SHUTDOWN, LAUNCH_FAILED: on their way out or broken; counted by no state.
# LAUNCH_FAILED ones are terminated by state=absent.
BATCH = 100  # ids per Start/Stop/TerminateInstances and per wait


def chunks(ids):
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


def name_index(instance_name, name):
    """The number after ``name`` (0 for ``name`` itself), None when it does not match."""
    m = re.fullmatch(re.escape(name) + r"(\d*)", instance_name or "")
    if m is None:
        return None
    return int(m.group(1) or 0)


def describe_ids(module, ids):
    """The instances with these ids (DescribeInstances takes 100 ids at a time)."""
    out = []
    for chunk in chunks(ids):
        out += module.paginate("DescribeInstances", InstanceIds=chunk)
    return out


def find(module):
    p = module.params
    if p["instance_ids"]:
        return describe_ids(module, p["instance_ids"])
    filters = tag_filters(p["tags"]) + api_filters(p["filters"])
    found = module.paginate(
        "DescribeInstances", **({"Filters": filters} if filters else {})
    )
    if p["name"]:
        found = [
            i for i in found if name_index(i.get("InstanceName"), p["name"]) is not None
        ]
    return found


def plan(module, found):
    """What to do: {launch: n, terminate: [...], start: [...], stop: [...], keep: [...]}."""
    p = module.params
    state = p["state"]
    members = [i for i in found if i["InstanceState"] in ALIVE | STOPPED]
    todo = {"launch": 0, "terminate": [], "start": [], "stop": [], "keep": []}
    if state == "absent":
        todo["terminate"] = [
            i["InstanceId"]
            for i in found
            if i["InstanceState"] in ALIVE | STOPPED | {"LAUNCH_FAILED"}
        ]
        return todo
    if p["instance_ids"]:
        wanted = len(members)
        exact = False
    elif p["exact_count"] is not None:
        wanted, exact = p["exact_count"], True
    else:
        wanted, exact = (1 if p["count"] is None else p["count"]), False
    keep = list(members)
    if exact and len(members) > wanted:
        surplus = len(members) - wanted
        # Stopped ones go first, then the newest of the others.
        order = sorted(
            members,
            key=lambda i: (i["InstanceState"] not in STOPPED, i.get("CreatedTime", "")),
        )
        stopped_first = [i for i in order if i["InstanceState"] in STOPPED]
        alive_newest = sorted(
            (i for i in members if i["InstanceState"] in ALIVE),
            key=lambda i: i.get("CreatedTime", ""),
            reverse=True,
        )
        doomed = (stopped_first + alive_newest)[:surplus]
        todo["terminate"] = [i["InstanceId"] for i in doomed]
        keep = [i for i in members if i not in doomed]
    todo["launch"] = max(0, wanted - len(members))
    todo["keep"] = [i["InstanceId"] for i in keep]
    if state == "running":
        todo["start"] = [i["InstanceId"] for i in keep if i["InstanceState"] in STOPPED]
    elif state == "stopped":
        todo["stop"] = [i["InstanceId"] for i in keep if i["InstanceState"] in ALIVE]
    return todo


def launch_params(module, found, n):
    p = module.params
    if not p["image_id"]:
        module.fail_json(msg="image_id is required to launch %d instance(s)" % n)
    zone = p["zone"]
    if not zone:
        zones = module.call("DescribeZones")["ZoneSet"]
        zone = next((z["Zone"] for z in zones if z["ZoneState"] == "AVAILABLE"), None)
        if zone is None:
            module.fail_json(msg="no available zone in region %s" % module.region)
    params = {
        "Placement": {"Zone": zone},
        "ImageId": p["image_id"],
        "InstanceCount": n,
        "InstanceChargeType": p["instance_charge_type"],
    }
    if p["instance_type"]:
        params["InstanceType"] = p["instance_type"]
    if p["name"]:
        # Number them on from the highest number in use: web1, web2 ... then web4.
        used = [name_index(i.get("InstanceName"), p["name"]) for i in found]
        start = max([u for u in used if u is not None] + [0]) + 1
        params["InstanceName"] = "%s{R:%d}" % (p["name"], start)
    if p["tags"]:
        params["TagSpecification"] = [
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": str(v)} for k, v in p["tags"].items()],
            }
        ]
    if p["key_ids"]:
        params["LoginSettings"] = {"KeyIds": p["key_ids"]}
    if p["security_group_ids"]:
        params["SecurityGroupIds"] = p["security_group_ids"]
    disk = p["system_disk"] or {}
    disk = {
        k: v
        for k, v in (
            ("DiskType", disk.get("disk_type")),
            ("DiskSize", disk.get("disk_size")),
        )
        if v
    }
    if disk:
        params["SystemDisk"] = disk
    if p["internet_max_bandwidth_out"]:
        params["InternetAccessible"] = {
            "InternetMaxBandwidthOut": p["internet_max_bandwidth_out"],
            "PublicIpAssigned": True,
        }
    if p["vpc_id"] or p["subnet_id"]:
        params["VirtualPrivateCloud"] = {
            "VpcId": p["vpc_id"],
            "SubnetId": p["subnet_id"],
        }
    return params


def derived_token(module, params, found):
    """The same for a retry of the same task: the region, the launch and the instances the
    task found (any state) go into it, and the hour, so that a later, separate run that
    happens to find the same instances after the ones launched are gone gets a new one."""
    seed = {
        "region": module.region,
        "launch": params,
        "found": sorted(i["InstanceId"] for i in found),
        "hour": int(time.time() // 3600),
    }
    digest = hashlib.sha256(json.dumps(seed, sort_keys=True).encode()).hexdigest()
    return "ansible-" + digest[:48]


def still_there(module, ids):
    """Whether the instances a launch answered with exist and are not on their way out (a
    token reused after its instances were terminated answers with the old ids). An id the
    service does not list yet is given a few seconds."""
    for _attempt in range(5):
        seen = describe_ids(module, ids)
        if any(i["InstanceState"] in ("TERMINATING", "SHUTDOWN") for i in seen):
            return False
        if len(seen) == len(ids):
            return True
        time.sleep(1)
    return False


def launch(module, found, n):
    params = launch_params(module, found, n)
    token = module.params["client_token"] or derived_token(module, params, found)
    ids = module.call("RunInstances", ClientToken=token, **params)["InstanceIdSet"]
    if not still_there(module, ids):
        if module.params["client_token"]:
            module.fail_json(
                msg="client_token %s was used by an earlier launch whose instances are gone"
                % token,
                instance_ids=ids,
            )
        # A fresh token (tccvm makes one and keeps it across its own retries).
        out = module.call("RunInstances", **params)
        ids, token = out["InstanceIdSet"], None
    return ids, token


def wait_all(module, waiter, ids):
    for chunk in chunks(ids):
        module.wait(waiter, module.params["wait_timeout"], InstanceIds=chunk)


def act(module, action, ids, **extra):
    for chunk in chunks(ids):
        module.call(action, InstanceIds=chunk, **extra)


def diff_of(found, todo, state):
    before = {i["InstanceId"]: i["InstanceState"] for i in found}
    target = {"running": "RUNNING", "stopped": "STOPPED"}.get(state)
    after = {}
    for i in found:
        iid = i["InstanceId"]
        if iid in todo["terminate"]:
            continue
        if iid in todo["keep"] and target:
            after[iid] = target
        else:
            after[iid] = i["InstanceState"]
    for k in range(todo["launch"]):
        after["(new %d)" % (k + 1)] = target or "RUNNING"
    return {"before": {"instances": before}, "after": {"instances": after}}


def main():
    module = TccvmModule(
        argument_spec=dict(
            state=dict(
                type="str",
                default="present",
                choices=["present", "running", "stopped", "absent"],
            ),
            name=dict(type="str"),
            tags=dict(type="dict"),
            filters=dict(type="dict"),
            instance_ids=dict(type="list", elements="str"),
            count=dict(type="int"),
            exact_count=dict(type="int"),
            image_id=dict(type="str"),
            instance_type=dict(type="str"),
            zone=dict(type="str"),
            instance_charge_type=dict(
                type="str",
                default="POSTPAID_BY_HOUR",
                choices=["POSTPAID_BY_HOUR", "PREPAID", "SPOTPAID"],
            ),
            key_ids=dict(type="list", elements="str", no_log=False),
            security_group_ids=dict(type="list", elements="str"),
            system_disk=dict(
                type="dict",
                options=dict(disk_type=dict(type="str"), disk_size=dict(type="int")),
            ),
            internet_max_bandwidth_out=dict(type="int"),
            vpc_id=dict(type="str"),
            subnet_id=dict(type="str"),
            client_token=dict(type="str", no_log=False),
            stopped_mode=dict(type="str", choices=["KEEP_CHARGING", "STOP_CHARGING"]),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
        ),
        mutually_exclusive=[
            ("count", "exact_count"),
            ("instance_ids", "name"),
            ("instance_ids", "tags"),
            ("instance_ids", "filters"),
            ("instance_ids", "count"),
            ("instance_ids", "exact_count"),
        ],
        required_one_of=[("name", "tags", "filters", "instance_ids")],
        supports_check_mode=True,
    )
    p = module.params
    for opt in ("count", "exact_count"):
        if p[opt] is not None and p[opt] < 0:
            module.fail_json(msg="%s must be 0 or more" % opt)
    state = p["state"]
    found = find(module)
    if p["instance_ids"] and state != "absent":
        missing = sorted(set(p["instance_ids"]) - {i["InstanceId"] for i in found})
        if missing:
            module.fail_json(msg="instances not found: %s" % ", ".join(missing))
    todo = plan(module, found)
    changed = bool(todo["launch"] or todo["terminate"] or todo["start"] or todo["stop"])
    result = dict(
        changed=changed,
        launched=[],
        launch_count=todo["launch"],
        terminated=todo["terminate"],
        started=todo["start"],
        stopped=todo["stop"],
    )
    if module._diff:
        result["diff"] = diff_of(found, todo, state)
    by_id = {i["InstanceId"]: i for i in found}
    if module.check_mode:
        result["instance_ids"] = todo["keep"]
        result["instances"] = [
            instance_facts(by_id[i], module.region) for i in todo["keep"]
        ]
        module.exit_json(**result)

    wait = p["wait"]
    if todo["terminate"]:
        act(module, "TerminateInstances", todo["terminate"])
    keep = list(todo["keep"])
    if todo["launch"]:
        launched, token = launch(module, found, todo["launch"])
        result["launched"] = launched
        if token:
            result["client_token"] = token
        keep += launched
    if todo["start"]:
        # STOPPING ones must be STOPPED before they can start.
        stopping = [i for i in todo["start"] if by_id[i]["InstanceState"] == "STOPPING"]
        if stopping:
            wait_all(module, "instance_stopped", stopping)
        act(module, "StartInstances", todo["start"])
    to_stop = todo["stop"] + (result["launched"] if state == "stopped" else [])
    if to_stop:
        # Only RUNNING instances can be stopped: let PENDING/STARTING/REBOOTING ones settle.
        settling = [
            i for i in to_stop if by_id.get(i, {}).get("InstanceState") != "RUNNING"
        ]
        if settling:
            wait_all(module, "instance_running", settling)
        extra = {"StoppedMode": p["stopped_mode"]} if p["stopped_mode"] else {}
        act(module, "StopInstances", to_stop, **extra)
        result["stopped"] = to_stop
    if wait:
        if state in ("running", "present"):
            waiting = keep if state == "running" else todo["start"] + result["launched"]
            wait_all(module, "instance_running", waiting)
        elif state == "stopped":
            wait_all(module, "instance_stopped", keep)
        if todo["terminate"]:
            wait_all(module, "instance_terminated", todo["terminate"])
    now = describe_ids(module, keep)
    result["instance_ids"] = [i["InstanceId"] for i in now]
    result["instances"] = [instance_facts(i, module.region) for i in now]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
