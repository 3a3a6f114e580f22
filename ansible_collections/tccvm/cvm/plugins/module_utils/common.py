# Copyright: tccvm developers
# Apache License 2.0 (see the repository's pyproject.toml)
"""What every module and the inventory plugin of tccvm.cvm share: the connection options,
the client (tccvm.Client and its credential chain), the failure messages built from the
service's code, message and request id, the check-mode guard, and the instance facts.

Modules use :class:`TccvmModule` (an AnsibleModule); the inventory plugin uses
:func:`make_client`, :func:`error_text` and :func:`instance_facts`.
"""

from __future__ import annotations

import re
import traceback

try:
    import tccvm

    HAS_TCCVM = True
    TCCVM_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module
    HAS_TCCVM = False
    TCCVM_IMPORT_ERROR = traceback.format_exc()

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

#: The options of doc_fragments/common.py, as an argument spec.
CONNECTION_SPEC = dict(
    secret_id=dict(type="str", no_log=False),
    secret_key=dict(type="str", no_log=True),
    token=dict(type="str", no_log=True),
    region=dict(type="str"),
    endpoint=dict(type="str"),
    profile=dict(type="str"),
)

CONNECTION_OPTIONS = tuple(CONNECTION_SPEC)

#: Actions that change nothing: the only ones a module may call in check mode.
READ_ONLY_PREFIXES = ("Describe", "Inquiry")


def is_read_only(action):
    return action.startswith(READ_ONLY_PREFIXES)


def snake(name):
    """``InstanceChargeType`` -> ``instance_charge_type``, ``VPC`` stays ``vpc``."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def to_snake(value):
    """A service answer with every dict key in snake_case (values untouched)."""
    if isinstance(value, dict):
        return {snake(k): to_snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_snake(v) for v in value]
    return value


def tags_dict(tags):
    """The service's ``[{"Key": k, "Value": v}]`` as ``{k: v}``."""
    return {t.get("Key"): t.get("Value") for t in tags or []}


def instance_facts(inst, region=None):
    """An instance of DescribeInstances as Ansible facts: every field in snake_case, plus
    ``tags`` as a dict, ``zone``, ``region``, ``public_ip`` and ``private_ip``."""
    facts = to_snake(inst)
    facts["tags"] = tags_dict(inst.get("Tags"))
    facts["zone"] = (inst.get("Placement") or {}).get("Zone")
    if region is not None:
        facts["region"] = region
    public = inst.get("PublicIpAddresses") or []
    private = inst.get("PrivateIpAddresses") or []
    facts["public_ip"] = public[0] if public else None
    facts["private_ip"] = private[0] if private else None
    return facts


def api_filters(filters):
    """``{"zone": "ap-guangzhou-3", "tag:role": ["web", "db"]}`` as the API's Filters."""
    out = []
    for name, values in (filters or {}).items():
        if not isinstance(values, (list, tuple)):
            values = [values]
        out.append({"Name": str(name), "Values": [str(v) for v in values]})
    return out


def tag_filters(tags):
    """One ``tag:KEY`` filter per tag: instances carrying every one of them."""
    return api_filters({"tag:" + k: v for k, v in (tags or {}).items()})


def make_client(options):
    """A tccvm.Client from the connection options (a dict; missing or None: the chain)."""
    kw = {k: options.get(k) for k in CONNECTION_OPTIONS}
    return tccvm.Client(**kw)


def error_details(err):
    """The fields a failure returns, for each kind of tccvm error."""
    if isinstance(err, tccvm.TencentCloudError):
        return dict(
            code=err.code,
            message=err.message,
            request_id=err.request_id,
            action=err.action,
        )
    if isinstance(err, tccvm.WaiterError):
        return dict(reason=err.reason, last_state=err.last_state, polls=err.polls)
    if isinstance(err, tccvm.TransportError):
        return dict(kind=getattr(err, "kind", None), status=err.status)
    return {}


def error_text(err, what=None):
    """One readable line: ``RunInstances failed: InvalidImageId.NotFound: ... (request id
    ...)``. tccvm's exception texts never hold a secret."""
    head = (what + " failed: ") if what else ""
    if isinstance(err, tccvm.TencentCloudError):
        return "%s%s: %s (request id %s)" % (
            head,
            err.code,
            err.message,
            err.request_id,
        )
    if isinstance(err, tccvm.WaiterError):
        return "%swaiting gave up (%s); last state %s" % (
            head,
            err.reason,
            err.last_state,
        )
    return "%s%s: %s" % (head, type(err).__name__, err)


class TccvmModule(AnsibleModule):
    """An AnsibleModule with the connection options and one tccvm client.

    :meth:`call`, :meth:`paginate` and :meth:`wait` turn every tccvm error into
    ``fail_json`` with the service's code, message and request id; in check mode
    :meth:`call` refuses any action that is not a Describe or an Inquiry."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(CONNECTION_SPEC)
        spec.update(argument_spec)
        super().__init__(argument_spec=spec, **kwargs)
        if not HAS_TCCVM:
            self.fail_json(
                msg=missing_required_lib("tccvm"), exception=TCCVM_IMPORT_ERROR
            )
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = make_client(self.params)
            except (tccvm.TccvmError, ValueError) as err:
                self.fail_tccvm(err, "connecting")
        return self._client

    @property
    def region(self):
        return self.client.region

    def fail_tccvm(self, err, what=None, **result):
        result.update(error_details(err))
        self.fail_json(msg=error_text(err, what), **result)

    def call(self, action, **params):
        """Call ``action`` through the client's typed method (parameters checked before
        anything is sent)."""
        if self.check_mode and not is_read_only(action):
            # A bug in a module, never the user's: check mode must not change anything.
            self.fail_json(msg="internal error: %s called in check mode" % action)
        try:
            return getattr(self.client, snake(action))(**params)
        except (tccvm.TccvmError, ValueError) as err:
            self.fail_tccvm(err, action)

    def paginate(self, action, **params):
        """Every item of every page, as a list."""
        try:
            return list(self.client.paginate(action, **params))
        except (tccvm.TccvmError, ValueError) as err:
            self.fail_tccvm(err, action)

    def wait(self, waiter, timeout, **params):
        try:
            return self.client.wait(
                waiter, timeout=timeout, interval=_interval(timeout), **params
            )
        except (tccvm.TccvmError, ValueError) as err:
            self.fail_tccvm(err, "waiting for " + waiter)


def _interval(timeout):
    """Poll every second, less often for long waits (at most 10 s)."""
    return max(1.0, min(10.0, float(timeout) / 60.0))
