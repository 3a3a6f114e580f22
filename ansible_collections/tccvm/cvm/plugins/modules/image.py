#!/usr/bin/python
# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image
short_description: Make and delete Tencent Cloud CVM custom images
version_added: 0.1.0
description:
  - Makes the custom image called I(name) exist (created from I(instance_id), waited for
    until it is C(NORMAL)) or be gone.
options:
  name:
    description:
      - The image's name. Required unless I(image_id) is given.
    type: str
  image_id:
    description:
      - The image (for C(state=absent)), instead of I(name).
    type: str
  state:
    description:
      - Whether the image exists.
    type: str
    choices: [present, absent]
    default: present
  instance_id:
    description:
      - The instance to make the image from (required to create it). It must be stopped,
        unless I(force_poweroff) is set.
    type: str
  description:
    description:
      - The image's description.
    type: str
  force_poweroff:
    description:
      - Shut a running instance down to make the image.
    type: bool
    default: false
  wait:
    description:
      - Wait until the image is C(NORMAL).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the image to be made (images of big disks take long).
    type: int
    default: 1800
extends_documentation_fragment:
  - tccvm.cvm.common
"""

EXAMPLES = r"""
- name: An image of the first web server
  tccvm.cvm.image:
    name: web-golden
    instance_id: "{{ web.instance_ids[0] }}"
  register: golden

- name: Gone
  tccvm.cvm.image:
    name: web-golden
    state: absent
"""

RETURN = r"""
image:
  description: The image (DescribeImages' fields in snake_case).
  returned: when I(state=present)
  type: dict
  sample:
    image_id: img-8toqc6s3
    image_name: web-golden
    image_state: NORMAL
image_id:
  description: The image's id (none in check mode before it exists).
  returned: when I(state=present)
  type: str
deleted:
  description: The images deleted (or that would be).
  returned: when I(state=absent)
  type: list
  elements: str
"""

from ansible_collections.tccvm.cvm.plugins.module_utils.common import (
    TccvmModule,
    api_filters,
    to_snake,
)


def find(module):
    p = module.params
    if p["image_id"]:
        return module.paginate("DescribeImages", ImageIds=[p["image_id"]])
    private = module.paginate(
        "DescribeImages", Filters=api_filters({"image-type": "PRIVATE_IMAGE"})
    )
    return [i for i in private if i.get("ImageName") == p["name"]]


def wait_normal(module, image_id):
    out = module.wait(
        "image_normal", module.params["wait_timeout"], ImageIds=[image_id]
    )
    return out["ImageSet"][0]


def main():
    module = TccvmModule(
        argument_spec=dict(
            name=dict(type="str"),
            image_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            instance_id=dict(type="str"),
            description=dict(type="str"),
            force_poweroff=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
        ),
        required_one_of=[("name", "image_id")],
        mutually_exclusive=[("name", "image_id")],
        supports_check_mode=True,
    )
    p = module.params
    found = find(module)
    if p["state"] == "absent":
        ids = [i["ImageId"] for i in found]
        if ids and not module.check_mode:
            for image in found:
                # An image still being made cannot be deleted yet.
                if image.get("ImageState") == "CREATING":
                    wait_normal(module, image["ImageId"])
            module.call("DeleteImages", ImageIds=ids)
        module.exit_json(changed=bool(ids), deleted=ids)

    if found:
        image = found[0]
        if (
            p["wait"]
            and image.get("ImageState") == "CREATING"
            and not module.check_mode
        ):
            image = wait_normal(module, image["ImageId"])
        module.exit_json(
            changed=False, image_id=image["ImageId"], image=to_snake(image)
        )
    if not p["name"]:
        module.fail_json(msg="image %s not found" % p["image_id"])
    if not p["instance_id"]:
        module.fail_json(msg="instance_id is required to create image %s" % p["name"])
    if module.check_mode:
        module.exit_json(changed=True, image_id=None, image={"image_name": p["name"]})
    params = dict(ImageName=p["name"], InstanceId=p["instance_id"])
    if p["description"]:
        params["ImageDescription"] = p["description"]
    if p["force_poweroff"]:
        params["ForcePoweroff"] = "TRUE"
    image_id = module.call("CreateImage", **params)["ImageId"]
    if p["wait"]:
        image = wait_normal(module, image_id)
    else:
        image = module.paginate("DescribeImages", ImageIds=[image_id])[0]
    module.exit_json(changed=True, image_id=image_id, image=to_snake(image))


if __name__ == "__main__":
    main()
