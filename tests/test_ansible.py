"""The Ansible collection tccvm.cvm (ansible_collections/tccvm/cvm), driven by the real
``ansible-playbook``, ``ansible-inventory``, ``ansible-doc`` and ``ansible-galaxy`` of
ansible-core (the ``test`` extra pins it) against an emulator this test starts.

Credentials reach the modules and the inventory plugin through tccvm's own chain
(TENCENTCLOUD_SECRET_ID/KEY in the environment); the endpoint through ``module_defaults`` and
the inventory file. The emulator's request counters prove what check mode did not call.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import tccvm
from tccvm.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-3"

pytest.importorskip("ansible", reason="ansible-core is not installed (the test extra)")
if not (BIN / "ansible-playbook").exists():  # pragma: no cover
    pytest.skip("ansible-playbook is not beside this python", allow_module_level=True)

RECAP = re.compile(
    r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
)

# Every play runs on the controller itself, with the test's python (where tccvm is).
PLAY_HEAD = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/tccvm.cvm.cvm:
      endpoint: "{{ lookup('env', 'TCCVM_TEST_ENDPOINT') }}"
      region: ap-guangzhou
  tasks:
"""

WEB = """
    - name: Three web servers
      tccvm.cvm.instance:
        name: web
        tags: {role: web, env: test}
        exact_count: "{{ count | default(3) | int }}"
        state: running
        image_id: "{{ image }}"
        instance_type: S3.MEDIUM4
        zone: ap-guangzhou-3
        wait_timeout: 60
"""

INVENTORY = """
plugin: tccvm.cvm.instances
endpoint: {endpoint}
regions: [ap-guangzhou]
page_size: 2
filters:
  tag:env: test
hostnames: [public_ip, instance_name, instance_id]
keyed_groups:
  - {key: instance_tags, prefix: tag}
  - {key: zone, prefix: zone}
  - {key: instance_state | lower, prefix: state}
groups:
  small: memory < 8
compose:
  ansible_host: private_ip
"""

LIFECYCLE = """
    - name: Stop them
      tccvm.cvm.instance:
        tags: {role: web}
        state: stopped
        wait_timeout: 60
      register: stopped

    - name: An image of the first one
      tccvm.cvm.image:
        name: web-golden
        instance_id: "{{ stopped.instance_ids | sort | first }}"
        wait_timeout: 60
      register: golden

    - name: It is usable
      ansible.builtin.assert:
        that:
          - golden.image.image_state == 'NORMAL'
          - golden.image_id is match('img-')

    - name: A key pair made by the service
      tccvm.cvm.key_pair:
        name: deploy
      register: key

    - name: The same key pair again changes nothing
      tccvm.cvm.key_pair:
        name: deploy
      register: again

    - name: Only the first run returned a private key
      ansible.builtin.assert:
        that:
          - key.changed and key.private_key is search('PRIVATE KEY')
          - not again.changed and again.private_key is not defined

    - name: A key pair of my own
      tccvm.cvm.key_pair:
        name: mine
        public_key: "{{ pubkey }}"
      register: mine

    - name: Importing it again changes nothing
      tccvm.cvm.key_pair:
        name: mine
        public_key: "{{ pubkey }}"
      register: mine_again

    - name: The service holds my key
      ansible.builtin.assert:
        that:
          - mine.changed and not mine_again.changed
          - mine.key.public_key.split()[:2] == pubkey.split()[:2]
          - mine.private_key is not defined

    - name: Remove it
      tccvm.cvm.key_pair:
        name: mine
        state: absent

    - name: The stopped instances, listed
      tccvm.cvm.instance_info:
        tags: {role: web}
        states: [STOPPED]
      register: info

    - name: Three of them
      ansible.builtin.assert:
        that: info.instances | length == 3

    - name: Remove the image
      tccvm.cvm.image:
        name: web-golden
        state: absent

    - name: Remove the key pair
      tccvm.cvm.key_pair:
        name: deploy
        state: absent

    - name: Remove the instances
      tccvm.cvm.instance:
        tags: {role: web}
        state: absent
        wait_timeout: 60
"""


@pytest.fixture(scope="module")
def emu():
    with Emulator(transition_seconds=0.1, seed=18) as e:
        yield e


@pytest.fixture()
def ansible(emu, tmp_path):
    """Run an Ansible command line against the emulator; returns the CompletedProcess."""
    emu.reset()
    home = tmp_path / "home"
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "TENCENTCLOUD_"))
    }
    base_env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(home / "remote"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        TENCENTCLOUD_SECRET_ID=emu.secret_id,
        TENCENTCLOUD_SECRET_KEY=emu.secret_key,
        TENCENTCLOUD_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        TCCVM_TEST_ENDPOINT=emu.endpoint,
    )

    def run(tool, *args, check=True, env=None):
        out = subprocess.run(
            [str(BIN / tool), *map(str, args)],
            cwd=tmp_path,
            env={**base_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        if check and out.returncode != 0:
            raise AssertionError(
                f"{tool} {args} exited {out.returncode}\n{out.stdout}\n{out.stderr}"
            )
        return out

    run.tmp = tmp_path
    return run


def playbook(run, tasks, *args, check=True, **extra_vars):
    path = run.tmp / "play.yml"
    path.write_text(PLAY_HEAD + tasks)
    out = run(
        "ansible-playbook", path, "-e", json.dumps(extra_vars), *args, check=check
    )
    m = RECAP.search(out.stdout)
    assert m, out.stdout + out.stderr
    _ok, changed, _unreachable, failed = map(int, m.groups())
    return out, changed, failed


def public_image(emu):
    with _client(emu) as c:
        return c.describe_images(
            Filters=[{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}], Limit=1
        )["ImageSet"][0]["ImageId"]


def _client(emu, region=REGION):
    return tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region=region,
        endpoint=emu.endpoint,
    )


def openssh_public_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return raw.decode() + " me@laptop"


def plain(value):
    """ansible-inventory's JSON with the unsafe markers taken off."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def calls(emu):
    return dict(emu.stats()["requests_by_action"])


def mutating(before, after):
    """Actions called between two counter snapshots that are not Describe/Inquiry."""
    return sorted(
        a
        for a, n in after.items()
        if n > before.get(a, 0) and not a.startswith(("Describe", "Inquiry"))
    )


def web_instances(emu):
    return sorted(
        (i for i in emu.instances(REGION) if i["InstanceState"] != "TERMINATING"),
        key=lambda i: i["InstanceName"],
    )


def test_fleet_lifecycle(emu, ansible):
    image = public_image(emu)

    # Check mode first: reports the launch, calls nothing that changes anything.
    before = calls(emu)
    out, changed, _ = playbook(ansible, WEB, "--check", "--diff", image=image)
    assert changed == 1
    assert "(new 3)" in out.stdout, out.stdout  # the diff shows what would come
    assert mutating(before, calls(emu)) == []
    assert emu.instances(REGION) == []

    # The real run launches three, once.
    out, changed, _ = playbook(ansible, WEB, image=image)
    assert changed == 1
    web = web_instances(emu)
    assert [i["InstanceName"] for i in web] == ["web1", "web2", "web3"]
    assert {i["InstanceState"] for i in web} == {"RUNNING"}
    assert emu.launches == 1

    # Again: nothing to do, and nothing but Describe calls.
    before = calls(emu)
    out, changed, _ = playbook(ansible, WEB, image=image)
    assert changed == 0, out.stdout
    assert mutating(before, calls(emu)) == []

    # Scaling down in check mode: reported, not done.
    before = calls(emu)
    out, changed, _ = playbook(ansible, WEB, "--check", image=image, count=2)
    assert changed == 1
    assert mutating(before, calls(emu)) == []
    assert len(web_instances(emu)) == 3

    # The inventory: the three hosts, named by instance name (they have no public IP),
    # grouped by tag, zone and state; 2 per page: 2 DescribeInstances calls.
    inv = ansible.tmp / "web.tccvm.yml"
    inv.write_text(INVENTORY.replace("{endpoint}", emu.endpoint))
    before = calls(emu)
    out = ansible("ansible-inventory", "-i", inv, "--list")
    assert (
        calls(emu).get("DescribeInstances", 0) - before.get("DescribeInstances", 0) == 2
    )
    listed = json.loads(out.stdout)
    hosts = ["web1", "web2", "web3"]
    assert sorted(listed["tag_role_web"]["hosts"]) == hosts
    assert sorted(listed["tag_env_test"]["hosts"]) == hosts
    assert sorted(listed["zone_ap_guangzhou_3"]["hosts"]) == hosts
    assert sorted(listed["state_running"]["hosts"]) == hosts
    assert sorted(listed["small"]["hosts"]) == hosts  # S3.MEDIUM4: 4 GB
    hostvars = plain(listed["_meta"]["hostvars"])
    ids = {i["InstanceId"] for i in web}
    assert {hostvars[h]["instance_id"] for h in hosts} == ids
    for h in hosts:
        assert hostvars[h]["ansible_host"] == hostvars[h]["private_ip"]
        assert hostvars[h]["region"] == REGION
        assert hostvars[h]["instance_tags"] == {"role": "web", "env": "test"}
    # The service's text is never templated: ansible-inventory marks it unsafe.
    assert listed["_meta"]["hostvars"]["web1"]["instance_id"] == {
        "__ansible_unsafe": hostvars["web1"]["instance_id"]
    }
    assert "reserved name" not in out.stderr

    # Stop, image, key pair, then remove everything.
    out, changed, failed = playbook(ansible, LIFECYCLE, pubkey=openssh_public_key())
    assert failed == 0
    # stop, image, two key pairs and their removal, the image's and the instances'
    # removal; the key pair tasks run a second time changed nothing
    assert changed == 8, out.stdout
    with _client(emu) as c:
        assert c.describe_key_pairs()["TotalCount"] == 0
        private = c.describe_images(
            Filters=[{"Name": "image-type", "Values": ["PRIVATE_IMAGE"]}]
        )
        assert private["TotalCount"] == 0
    assert emu.instances(REGION) == [] or all(
        i["InstanceState"] == "TERMINATING" for i in emu.instances(REGION)
    )

    # Once they are gone, the same task launches three new ones: the ClientToken it
    # derives is the first run's, the service answers with the old ids, and the module
    # notices they are gone and launches with a fresh token.
    out, changed, _ = playbook(ansible, WEB, image=image)
    assert changed == 1
    web2 = web_instances(emu)
    assert len(web2) == 3 and not ({i["InstanceId"] for i in web2} & ids)
    assert {i["InstanceState"] for i in web2} == {"RUNNING"}


def test_a_retried_task_never_launches_twice(emu, ansible):
    image = public_image(emu)
    # Every answer to RunInstances is lost (the SDK's three attempts carry one
    # ClientToken: one launch); the task fails and Ansible runs it again.
    emu.inject("drop_after", count=3, actions="RunInstances")
    tasks = WEB.replace(
        "        wait_timeout: 60\n",
        "        wait_timeout: 60\n"
        "      register: web\n"
        "      retries: 2\n"
        "      delay: 0\n"
        "      until: web is succeeded\n",
    )
    out, _changed, failed = playbook(ansible, tasks, image=image)
    assert failed == 0, out.stdout
    assert "FAILED - RETRYING" in out.stdout
    assert emu.launches == 1
    assert len(web_instances(emu)) == 3


def test_unknown_image_fails_with_the_service_message(emu, ansible):
    # Credentials as module options this time (secret_key is no_log), at -vvv.
    tasks = WEB.replace(
        "        wait_timeout: 60\n",
        "        wait_timeout: 60\n"
        '        secret_id: "{{ sid }}"\n'
        '        secret_key: "{{ skey }}"\n',
    )
    # Wrong ones in the environment: the options must win (else AuthFailure).
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDwrong", "TENCENTCLOUD_SECRET_KEY": "wrong"}
    out, _changed, failed = playbook(
        ansible,
        tasks,
        "-vvv",
        check=False,
        env=env,
        image="img-00000000",
        sid=emu.secret_id,
        skey=emu.secret_key,
    )
    assert emu.secret_key not in out.stdout + out.stderr
    assert out.returncode != 0 and failed == 1
    text = out.stdout
    m = re.search(
        r"RunInstances failed: (\S+): (.+?) \(request id ([0-9a-f-]{36})\)", text
    )
    assert m, text
    # The emulator's answer (the service's own code and message), word for word.
    assert m.group(1) == "InvalidParameterValue"
    assert m.group(2) == "The image `img-00000000` does not exist."
    assert f'"request_id": "{m.group(3)}"' in text
    assert emu.instances(REGION) == []


def test_ansible_doc_renders_every_plugin(ansible):
    for name in ("instance", "instance_info", "key_pair", "image"):
        out = ansible("ansible-doc", f"tccvm.cvm.{name}")
        assert "OPTIONS" in out.stdout and "EXAMPLES" in out.stdout, out.stdout
        assert "RETURN VALUES" in out.stdout, out.stdout
        assert "secret_key" in out.stdout
    out = ansible("ansible-doc", "-t", "inventory", "tccvm.cvm.instances")
    assert "keyed_groups" in out.stdout and "hostnames" in out.stdout
    assert "cache_plugin" in out.stdout


def test_inventory_cache_answers_without_calling(emu, ansible):
    with _client(emu) as c:
        c.run_instances(Placement={"Zone": ZONE}, ImageId=public_image(emu))
    inv = ansible.tmp / "cached.tccvm.yml"
    inv.write_text(
        f"plugin: tccvm.cvm.instances\nendpoint: {emu.endpoint}\n"
        "regions: [ap-guangzhou]\nhostnames: [instance_id]\n"
        "cache: true\ncache_plugin: ansible.builtin.jsonfile\n"
        f"cache_connection: {ansible.tmp / 'cache'}\ncache_timeout: 600\n"
    )
    first = json.loads(ansible("ansible-inventory", "-i", inv, "--list").stdout)
    n = calls(emu).get("DescribeInstances", 0)
    second = json.loads(ansible("ansible-inventory", "-i", inv, "--list").stdout)
    assert calls(emu).get("DescribeInstances", 0) == n  # from the cache
    assert plain(second["_meta"]) == plain(first["_meta"])
    assert len(first["_meta"]["hostvars"]) == 1
    # --flush-cache asks the service again.
    ansible("ansible-inventory", "-i", inv, "--list", "--flush-cache")
    assert calls(emu).get("DescribeInstances", 0) == n + 1


def test_inventory_of_every_region_names_hosts_by_preference(emu, ansible):
    image = public_image(emu)
    with _client(emu, "ap-shanghai") as sh, _client(emu) as gz:
        zone = sh.describe_zones()["ZoneSet"][0]["Zone"]
        sh.run_instances(
            Placement={"Zone": zone},
            ImageId=image,
            InstanceName="api",
            InternetAccessible={"InternetMaxBandwidthOut": 5, "PublicIpAssigned": True},
        )
        gz.run_instances(Placement={"Zone": ZONE}, ImageId=image, InstanceName="db")
        public = sh.describe_instances()["InstanceSet"][0]["PublicIpAddresses"][0]
    inv = ansible.tmp / "all.tccvm.yml"
    inv.write_text(  # no regions: every region DescribeRegions lists
        f"plugin: tccvm.cvm.instances\nendpoint: {emu.endpoint}\n"
        "hostnames: [public_ip, instance_name]\n"
        "keyed_groups:\n  - {key: region, prefix: region}\n"
    )
    before = calls(emu)
    listed = json.loads(ansible("ansible-inventory", "-i", inv, "--list").stdout)
    with _client(emu) as c:
        regions = c.describe_regions()["RegionSet"]
    after = calls(emu)
    assert after["DescribeInstances"] - before.get("DescribeInstances", 0) == len(
        regions
    )
    # The public IP first when there is one, else the name.
    assert listed["region_ap_shanghai"]["hosts"] == [public]
    assert listed["region_ap_guangzhou"]["hosts"] == ["db"]
    assert plain(listed["_meta"]["hostvars"][public]["instance_name"]) == "api"


def test_the_collection_builds(ansible):
    out = ansible(
        "ansible-galaxy",
        "collection",
        "build",
        ROOT / "ansible_collections/tccvm/cvm",
        "--output-path",
        ansible.tmp,
    )
    built = ansible.tmp / "tccvm-cvm-0.1.0.tar.gz"
    assert built.exists(), out.stdout
    with tarfile.open(built) as tar:
        names = set(tar.getnames())
    for f in (
        "MANIFEST.json",
        "plugins/inventory/instances.py",
        "plugins/modules/instance.py",
        "plugins/module_utils/common.py",
    ):
        assert f in names, (f, sorted(names))
