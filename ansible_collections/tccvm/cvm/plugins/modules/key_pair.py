#!/usr/bin/python
# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: key_pair
short_description: Create, import and delete Tencent Cloud CVM key pairs
version_added: 0.1.0
description:
  - Makes the key pair called I(name) exist (imported from I(public_key), or created by the
    service, whose private key is then returned once) or be gone.
options:
  name:
    description:
      - The key pair's name.
    type: str
    required: true
  state:
    description:
      - Whether the key pair exists.
    type: str
    choices: [present, absent]
    default: present
  public_key:
    description:
      - An OpenSSH public key to import. Without it the service creates the key pair.
    type: str
  project_id:
    description:
      - The project of a new key pair.
    type: int
    default: 0
  force:
    description:
      - When a key pair called I(name) exists with another public key than I(public_key),
        replace it (delete, then import). Without it that is an error.
    type: bool
    default: false
extends_documentation_fragment:
  - tccvm.cvm.common
"""

EXAMPLES = r"""
- name: My key, for logging in
  tccvm.cvm.key_pair:
    name: deploy
    public_key: "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"

- name: A key pair made by the service (its private key comes back once)
  tccvm.cvm.key_pair:
    name: generated
  register: made

- name: Gone
  tccvm.cvm.key_pair:
    name: deploy
    state: absent
"""

RETURN = r"""
key:
  description: The key pair (DescribeKeyPairs' fields in snake_case).
  returned: when I(state=present)
  type: dict
  sample:
    key_id: skey-3glfot13
    key_name: deploy
    public_key: ssh-rsa AAAA... skey-3glfot13
private_key:
  description: The private key of a key pair the service created; it is never available
    again.
  returned: when the service created the key pair
  type: str
"""

from ansible_collections.tccvm.cvm.plugins.module_utils.common import (
    TccvmModule,
    api_filters,
    to_snake,
)


def key_material(public_key):
    """The type and base64 of an OpenSSH public key, without its comment."""
    return tuple((public_key or "").split()[:2])


def find(module, name):
    found = module.paginate("DescribeKeyPairs", Filters=api_filters({"key-name": name}))
    return [k for k in found if k.get("KeyName") == name]


def main():
    module = TccvmModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            public_key=dict(type="str", no_log=False),
            project_id=dict(type="int", default=0),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    found = find(module, name)
    if p["state"] == "absent":
        if found and not module.check_mode:
            module.call("DeleteKeyPairs", KeyIds=[k["KeyId"] for k in found])
        module.exit_json(changed=bool(found))

    existing = found[0] if found else None
    if existing and p["public_key"]:
        if key_material(existing.get("PublicKey")) != key_material(p["public_key"]):
            if not p["force"]:
                module.fail_json(
                    msg="key pair %s (%s) exists with another public key; force: true "
                    "replaces it" % (name, existing["KeyId"]),
                    key=to_snake(existing),
                )
            if not module.check_mode:
                module.call("DeleteKeyPairs", KeyIds=[existing["KeyId"]])
            existing = None
    if existing:
        module.exit_json(changed=False, key=to_snake(existing))
    if module.check_mode:
        module.exit_json(changed=True, key={"key_name": name})

    result = dict(changed=True)
    if p["public_key"]:
        key_id = module.call(
            "ImportKeyPair",
            KeyName=name,
            ProjectId=p["project_id"],
            PublicKey=p["public_key"],
        )["KeyId"]
    else:
        made = module.call("CreateKeyPair", KeyName=name, ProjectId=p["project_id"])
        key_id = made["KeyPair"]["KeyId"]
        result["private_key"] = made["KeyPair"].get("PrivateKey")
    now = module.paginate("DescribeKeyPairs", KeyIds=[key_id])
    result["key"] = to_snake(now[0]) if now else {"key_id": key_id, "key_name": name}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
