# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)
"""The options every module and the inventory plugin of tccvm.cvm share: where to connect
and which credentials to sign with. Their argument spec is module_utils/common.py's
CONNECTION_SPEC."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  secret_id:
    description:
      - The SecretId to sign requests with.
      - Without I(secret_id) and I(secret_key), tccvm's credential chain is used, in this
        order - the E(TENCENTCLOUD_SECRET_ID), E(TENCENTCLOUD_SECRET_KEY) and
        E(TENCENTCLOUD_TOKEN) environment variables, the credentials file
        (E(TENCENTCLOUD_CREDENTIALS_FILE), else C(~/.tencentcloud/credentials)), then the CVM
        role of the machine.
    type: str
  secret_key:
    description:
      - The SecretKey that goes with I(secret_id). Never logged.
    type: str
  token:
    description:
      - The session token of temporary credentials. Never logged.
    type: str
  region:
    description:
      - The region, for example C(ap-guangzhou). Default E(TENCENTCLOUD_REGION).
    type: str
  endpoint:
    description:
      - The API endpoint, a host (HTTPS) or a URL such as C(http://127.0.0.1:9000) for the
        tccvm emulator. Default C(cvm.tencentcloudapi.com).
    type: str
  profile:
    description:
      - The section of the credentials file to read. An explicit I(profile) reads the file
        even when the environment variables are set.
    type: str
requirements:
  - python >= 3.9
  - tccvm
attributes:
  action_group:
    description: Part of the action group C(tccvm.cvm.cvm), so C(module_defaults) with
      C(group/tccvm.cvm.cvm) sets the connection options of every module at once.
    support: full
    membership: [tccvm.cvm.cvm]
  check_mode:
    description: In check mode only Describe actions are called; the result says what
      would change.
    support: full
  diff_mode:
    description: In diff mode the result shows what changes.
    support: none
  platform:
    description: The host that runs the module needs tccvm and a way to the endpoint.
    support: full
    platforms: all
author:
  - tccvm developers (!UNKNOWN)
"""

    # The inventory plugin's version (its regions option replaces region).
    INVENTORY = r"""
options:
  secret_id:
    description:
      - The SecretId to sign requests with; without it, tccvm's credential chain (the
        E(TENCENTCLOUD_SECRET_ID)/E(TENCENTCLOUD_SECRET_KEY) environment variables, the
        credentials file, the CVM role).
    type: str
  secret_key:
    description:
      - The SecretKey that goes with I(secret_id).
    type: str
  token:
    description:
      - The session token of temporary credentials.
    type: str
  endpoint:
    description:
      - The API endpoint, a host (HTTPS) or a URL such as C(http://127.0.0.1:9000).
    type: str
  profile:
    description:
      - The section of the credentials file to read.
    type: str
requirements:
  - python >= 3.9
  - tccvm
"""
