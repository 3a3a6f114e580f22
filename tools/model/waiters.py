"""The waiters of the model, as data (botocore waiters-2 style)."""

from __future__ import annotations

INSTANCE_STATES = [
    "PENDING",
    "LAUNCH_FAILED",
    "RUNNING",
    "STOPPED",
    "STARTING",
    "STOPPING",
    "REBOOTING",
    "SHUTDOWN",
    "TERMINATING",
]


def waiters() -> dict:
    """Waiters as data (botocore waiters-2 style). Matchers:
    - pathAll: every element the path selects equals `expected` (false when nothing is selected)
    - pathAny: some element the path selects equals `expected`
    - path:    the single value at the path equals `expected`
    - error:   the call failed with error code `expected`
    Paths are dotted with `[]` to project over a list: `InstanceStatusSet[].InstanceState`.
    The waiter's parameters are passed to `operation` unchanged."""
    ist = "InstanceSet[].InstanceState"
    return {
        "instance_running": {
            "operation": "DescribeInstances",
            "delay": 5,
            "max_attempts": 40,
            "acceptors": [
                {
                    "matcher": "pathAll",
                    "path": ist,
                    "expected": "RUNNING",
                    "state": "success",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "LAUNCH_FAILED",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "SHUTDOWN",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "TERMINATING",
                    "state": "failure",
                },
            ],
        },
        "instance_stopped": {
            "operation": "DescribeInstances",
            "delay": 5,
            "max_attempts": 40,
            "acceptors": [
                {
                    "matcher": "pathAll",
                    "path": ist,
                    "expected": "STOPPED",
                    "state": "success",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "LAUNCH_FAILED",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "SHUTDOWN",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "TERMINATING",
                    "state": "failure",
                },
            ],
        },
        "instance_terminated": {
            "operation": "DescribeInstances",
            "delay": 5,
            "max_attempts": 60,
            "acceptors": [
                {
                    "matcher": "path",
                    "path": "TotalCount",
                    "expected": 0,
                    "state": "success",
                },
                {
                    "matcher": "error",
                    "path": None,
                    "expected": "InvalidInstanceId.NotFound",
                    "state": "success",
                },
            ],
        },
        "image_normal": {
            "operation": "DescribeImages",
            "delay": 5,
            "max_attempts": 60,
            "acceptors": [
                {
                    "matcher": "pathAll",
                    "path": "ImageSet[].ImageState",
                    "expected": "NORMAL",
                    "state": "success",
                },
                # Not in the seed (which names only NORMAL): the vendor's failure states.
                {
                    "matcher": "pathAny",
                    "path": "ImageSet[].ImageState",
                    "expected": "CREATEFAILED",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": "ImageSet[].ImageState",
                    "expected": "IMPORTFAILED",
                    "state": "failure",
                },
            ],
        },
    }
