"""The waiters of the model, as data (botocore waiters-2 style)."""

from __future__ import annotations

IST = "InstanceSet[].InstanceState"
IMG = "ImageSet[].ImageState"


def acceptor(matcher: str, path: str | None, expected: object, state: str) -> dict:
    return {"matcher": matcher, "path": path, "expected": expected, "state": state}


def until(path: str, success: str, failures: list[str]) -> list[dict]:
    """Success when every selected value is `success`; failure when any is one of `failures`."""
    return [acceptor("pathAll", path, success, "success")] + [
        acceptor("pathAny", path, f, "failure") for f in failures
    ]


def waiter(operation: str, max_attempts: int, acceptors: list[dict]) -> dict:
    return {
        "operation": operation,
        "delay": 5,
        "max_attempts": max_attempts,
        "acceptors": acceptors,
    }


def waiters() -> dict:
    """Waiters as data (botocore waiters-2 style). Matchers:
    - pathAll: every element the path selects equals `expected` (false when nothing is selected)
    - pathAny: some element the path selects equals `expected`
    - path:    the single value at the path equals `expected`
    - error:   the call failed with error code `expected`
    Paths are dotted with `[]` to project over a list: `InstanceStatusSet[].InstanceState`.
    The waiter's parameters are passed to `operation` unchanged."""
    gone = ["LAUNCH_FAILED", "SHUTDOWN", "TERMINATING"]
    return {
        "instance_running": waiter(
            "DescribeInstances", 40, until(IST, "RUNNING", gone)
        ),
        "instance_stopped": waiter(
            "DescribeInstances", 40, until(IST, "STOPPED", gone)
        ),
        "instance_terminated": waiter(
            "DescribeInstances",
            60,
            [
                acceptor("path", "TotalCount", 0, "success"),
                acceptor("error", None, "InvalidInstanceId.NotFound", "success"),
            ],
        ),
        # The current description's rescue mode: EnterRescueMode goes through
        # ENTER_RESCUE_MODE to RESCUE_MODE (ExitRescueMode back to STOPPED: instance_stopped).
        "instance_in_rescue_mode": waiter(
            "DescribeInstances",
            40,
            until(IST, "RESCUE_MODE", ["SHUTDOWN", "TERMINATING"]),
        ),
        # The failure states are not in the seed (which names only NORMAL): the vendor's.
        "image_normal": waiter(
            "DescribeImages", 60, until(IMG, "NORMAL", ["CREATEFAILED", "IMPORTFAILED"])
        ),
    }
