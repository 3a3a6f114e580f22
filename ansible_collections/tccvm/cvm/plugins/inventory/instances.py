# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: instances
short_description: Tencent Cloud CVM instances as an Ansible inventory
version_added: 0.1.0
description:
  - Every instance of the given regions (every page of DescribeInstances) becomes a host,
    named after the first of I(hostnames) it has, with its fields as host variables.
  - Groups come from I(keyed_groups) and I(groups), variables from I(compose) (the
    constructed features); the result can be cached.
  - Host variables are the fields of DescribeInstances in snake_case (C(instance_id),
    C(instance_state), C(instance_type), C(placement) ...) plus C(zone), C(region),
    C(public_ip), C(private_ip), and C(instance_tags), the tags as a dict (not C(tags),
    a name Ansible reserves). Their text is marked unsafe, never templated.
  - The configuration file's name must end in C(tccvm.yml) or C(tccvm.yaml).
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
    choices: [tccvm.cvm.instances]
  regions:
    description:
      - The regions to list. Empty - every available region (DescribeRegions).
    type: list
    elements: str
    default: []
  filters:
    description:
      - DescribeInstances filters, such as C(zone=ap-guangzhou-3) or C(tag:env=prod);
        a value may be a list.
    type: dict
    default: {}
  states:
    description:
      - Only instances in one of these states. Empty - every state.
    type: list
    elements: str
    default: []
  hostnames:
    description:
      - How to name a host, in order of preference - the first that an instance has is
        used. C(public_ip), C(private_ip), C(instance_name), C(instance_id), or
        C(tag:KEY) for the value of a tag.
      - Two instances with the same name are one host (the later overwrites the earlier);
        end the list with C(instance_id) when names may repeat.
    type: list
    elements: str
    default: [public_ip, private_ip, instance_id]
  page_size:
    description:
      - Instances per DescribeInstances call (1 to 100).
    type: int
    default: 100
extends_documentation_fragment:
  - tccvm.cvm.common.inventory
  - constructed
  - inventory_cache
author:
  - tccvm developers (!UNKNOWN)
"""

EXAMPLES = r"""
# web.tccvm.yml
plugin: tccvm.cvm.instances
regions: [ap-guangzhou]
filters:
  tag:env: prod
hostnames: [public_ip, instance_name, instance_id]
keyed_groups:
  - key: instance_tags
    prefix: tag
  - key: zone
    prefix: zone
  - key: instance_type
    prefix: type
  - key: instance_state | lower
    prefix: state
groups:
  big: memory >= 16
compose:
  ansible_host: public_ip | default(private_ip, true)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/tccvm-inventory
cache_timeout: 600
"""

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.tccvm.cvm.plugins.module_utils.common import (
    CONNECTION_OPTIONS,
    HAS_TCCVM,
    api_filters,
    error_text,
    instance_facts,
    make_client,
)

if HAS_TCCVM:
    import tccvm

HOSTNAME_FIELDS = ("public_ip", "private_ip", "instance_name", "instance_id")


def hostname_of(facts, preferences):
    """The first preference the instance has a value for (None: none)."""
    for pref in preferences:
        if pref.startswith("tag:"):
            value = facts["instance_tags"].get(pref[4:])
        elif pref in HOSTNAME_FIELDS:
            value = facts.get(pref)
        else:
            raise AnsibleError(
                "hostnames: %r is none of %s or tag:KEY"
                % (pref, ", ".join(HOSTNAME_FIELDS))
            )
        if value:
            return str(value)
    return None


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "tccvm.cvm.instances"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("tccvm.yml", "tccvm.yaml"))

    def _client(self, region):
        options = {k: self.get_option(k) for k in CONNECTION_OPTIONS if k != "region"}
        options["region"] = region
        return make_client(options)

    def _regions(self):
        regions = self.get_option("regions")
        if regions:
            return list(regions)
        with self._client(None) as client:
            answer = client.describe_regions()
        return [
            r["Region"]
            for r in answer["RegionSet"]
            if r.get("RegionState") == "AVAILABLE"
        ]

    def _fetch(self):
        """{region: [instance, ...]} straight from the service."""
        size = self.get_option("page_size")
        if not 1 <= size <= 100:
            raise AnsibleError("page_size must be between 1 and 100, not %d" % size)
        params = {"Limit": size}
        filters = api_filters(self.get_option("filters"))
        if filters:
            params["Filters"] = filters
        out = {}
        for region in self._regions():
            with self._client(region) as client:
                out[region] = list(client.paginate("DescribeInstances", **params))
        return out

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        if not HAS_TCCVM:
            raise AnsibleError(
                "the tccvm.cvm.instances inventory needs the tccvm package"
            )
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache")
        found = None
        if use_cache:
            try:
                found = self._cache[cache_key]
                update_cache = False
            except KeyError:
                pass
        if found is None:
            try:
                found = self._fetch()
            except (tccvm.TccvmError, ValueError) as err:
                raise AnsibleError(error_text(err, "tccvm.cvm.instances")) from err
        if update_cache:
            self._cache[cache_key] = found
        self._populate(found)

    def _populate(self, found):
        states = {s.upper() for s in self.get_option("states")}
        preferences = self.get_option("hostnames")
        strict = self.get_option("strict")
        for region, instances in found.items():
            for inst in instances:
                if states and inst.get("InstanceState") not in states:
                    continue
                facts = instance_facts(inst, region)
                facts["instance_tags"] = facts.pop("tags")
                name = hostname_of(facts, preferences)
                if name is None:
                    continue
                self.inventory.add_host(name)
                for key, value in facts.items():
                    self.inventory.set_variable(name, key, value)
                self._set_composite_vars(
                    self.get_option("compose"), facts, name, strict=strict
                )
                self._add_host_to_composed_groups(
                    self.get_option("groups"), facts, name, strict=strict
                )
                self._add_host_to_keyed_groups(
                    self.get_option("keyed_groups"), facts, name, strict=strict
                )
