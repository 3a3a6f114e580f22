#!/usr/bin/python
# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: instance_info
short_description: List Tencent Cloud CVM instances
version_added: 0.1.0
description:
  - Every instance of the region that matches the filters (all pages of
    DescribeInstances), as facts.
options:
  instance_ids:
    description:
      - Only these instances.
    type: list
    elements: str
  filters:
    description:
      - DescribeInstances filters, such as C(zone=ap-guangzhou-3) or C(tag:role=web);
        a value may be a list.
    type: dict
  tags:
    description:
      - Only instances carrying every one of these tags.
    type: dict
  states:
    description:
      - Only instances in one of these states (C(RUNNING), C(STOPPED) ...).
    type: list
    elements: str
extends_documentation_fragment:
  - tccvm.cvm.common
"""

EXAMPLES = r"""
- name: The web servers
  tccvm.cvm.instance_info:
    tags: {role: web}
    states: [RUNNING]
  register: web

- ansible.builtin.debug:
    msg: "{{ web.instances | map(attribute='private_ip') | list }}"
"""

RETURN = r"""
instances:
  description: The instances, each with every field of DescribeInstances in snake_case
    (C(instance_id), C(instance_state), C(instance_type), C(placement) ...) plus C(tags) (a
    dict), C(zone), C(region), C(public_ip) and C(private_ip).
  returned: always
  type: list
  elements: dict
  sample:
    - instance_id: ins-3k0qn4sl
      instance_name: web1
      instance_state: RUNNING
      zone: ap-guangzhou-3
      tags: {role: web}
"""

from ansible_collections.tccvm.cvm.plugins.module_utils.common import (
    TccvmModule,
    api_filters,
    instance_facts,
    tag_filters,
)


def main():
    module = TccvmModule(
        argument_spec=dict(
            instance_ids=dict(type="list", elements="str"),
            filters=dict(type="dict"),
            tags=dict(type="dict"),
            states=dict(type="list", elements="str"),
        ),
        mutually_exclusive=[("instance_ids", "filters"), ("instance_ids", "tags")],
        supports_check_mode=True,
    )
    p = module.params
    params = {}
    if p["instance_ids"]:
        params["InstanceIds"] = p["instance_ids"]
    filters = tag_filters(p["tags"]) + api_filters(p["filters"])
    if filters:
        params["Filters"] = filters
    found = module.paginate("DescribeInstances", **params)
    if p["states"]:
        wanted = {s.upper() for s in p["states"]}
        found = [i for i in found if i["InstanceState"] in wanted]
    module.exit_json(
        changed=False, instances=[instance_facts(i, module.region) for i in found]
    )


if __name__ == "__main__":
    main()
