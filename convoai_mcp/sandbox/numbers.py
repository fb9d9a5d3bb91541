"""The project's phone numbers: the seeded ones, and the rules for adding and changing one.

A number is kept as its JSON record (the shape ``GET /v2/phone-numbers/{n}`` answers): a number
without a pipeline or a config leaves ``associated_pipeline`` / ``inbound_config`` /
``outbound_config`` out (no JSON nulls), as the official SDKs show. These functions are pure;
:class:`~.state.SandboxState` stores the records and holds the lock.
"""

from __future__ import annotations

from typing import Any

from .errors import SandboxError, bad_request
from .validation import validate_e164

__all__ = [
    "MAX_NUMBERS",
    "apply_number_changes",
    "number_not_found",
    "seed_numbers",
    "validate_number_changes",
    "validate_number_record",
]

MAX_NUMBERS = 200
"""Numbers one project may hold (403 ``ResourceQuotaLimitExceeded`` beyond)."""

_CONFIGS = ("inbound_config", "outbound_config")
_FLAGS = ("inbound", "outbound")


def seed_numbers() -> dict[str, dict[str, Any]]:
    """A fresh project's numbers: one outbound line, one inbound line."""
    return {
        "+14155550100": {
            "phone_number": "+14155550100",
            "provider": "byo",
            "label": "Sandbox outbound line",
            "inbound": False,
            "outbound": True,
            "outbound_config": {"address": "sip.sandbox.invalid", "transport": "tls", "prefix": ""},
        },
        "+14155550101": {
            "phone_number": "+14155550101",
            "provider": "twilio",
            "label": "Sandbox inbound line",
            "inbound": True,
            "outbound": False,
            "inbound_config": {"allowed_addresses": []},
        },
    }


def number_not_found(phone_number: str) -> SandboxError:
    """The 404 for a number that is not in the project."""
    return SandboxError(
        404, "PhoneNumberNotFound", f"phone number {phone_number} is not in this project"
    )


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SandboxError(400, "InvalidRequestBody", "the request body must be a JSON object")
    return body


def validate_number_record(body: Any) -> dict[str, Any]:
    """Turn an add-number body into the stored record (400 on a bad body)."""
    body = _json_object(body)
    provider = body.get("provider")
    if provider is None:
        raise SandboxError(400, "MissingRequiredField", "provider is required")
    if provider not in ("byo", "twilio"):
        raise bad_request("provider", "must be 'byo' or 'twilio'")
    phone = validate_e164(body.get("phone_number"), "phone_number")
    label = body.get("label")
    if label is None or label == "":
        raise SandboxError(400, "MissingRequiredField", "label is required")
    if not isinstance(label, str):
        raise bad_request("label", "must be a string")
    record: dict[str, Any] = {
        "phone_number": phone,
        "provider": provider,
        "label": label,
        "inbound": False,
        "outbound": False,
    }
    for key in _FLAGS:
        value = body.get(key)
        if value is not None and not isinstance(value, bool):
            raise bad_request(key, "must be true or false")
        record[key] = bool(value)
    for key in _CONFIGS:
        value = body.get(key)
        if value is not None and not isinstance(value, dict):
            raise bad_request(key, "must be a JSON object")
        if value is not None:
            record[key] = value
    return record


def validate_number_changes(body: Any) -> dict[str, Any]:
    """The changes a ``PATCH`` body asks for (400 on a bad body); ``null`` configs clear."""
    body = _json_object(body)
    changes: dict[str, Any] = {}
    for key in _CONFIGS:
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, dict):
                raise bad_request(key, "must be an object or null")
            if (
                isinstance(value, dict)
                and value.get("pipeline_id") is not None
                and not isinstance(value["pipeline_id"], str)
            ):
                raise bad_request(f"{key}.pipeline_id", "must be a string or null")
            changes[key] = value
    if "label" in body:
        if not isinstance(body["label"], str) or not body["label"]:
            raise bad_request("label", "must be a non-empty string")
        changes["label"] = body["label"]
    for key in _FLAGS:
        if key in body:
            if not isinstance(body[key], bool):
                raise bad_request(key, "must be true or false")
            changes[key] = body[key]
    return changes


def apply_number_changes(number: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply validated changes to a stored record: label, flags, and each config's pipeline
    (set, or cleared by ``null``); ``associated_pipeline`` follows the first pipeline set."""
    for key in ("label", *_FLAGS):
        if key in changes:
            number[key] = changes[key]
    for key in _CONFIGS:
        if key not in changes:
            continue
        current = number.get(key)
        config = dict(current) if isinstance(current, dict) else {}
        change = changes[key]
        if change is None or change.get("pipeline_id") is None:
            config.pop("pipeline_id", None)
        else:
            config["pipeline_id"] = change["pipeline_id"]
        if config:
            number[key] = config
        else:
            number.pop(key, None)
    pipeline = None
    for key in _CONFIGS:
        stored = number.get(key)
        if isinstance(stored, dict) and stored.get("pipeline_id"):
            pid = str(stored["pipeline_id"])
            pipeline = {"pipeline_id": pid, "pipeline_name": f"pipeline {pid}"}
            break
    if pipeline is None:
        number.pop("associated_pipeline", None)
    else:
        number["associated_pipeline"] = pipeline
