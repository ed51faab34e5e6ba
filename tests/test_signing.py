"""The worked signing example of schema/README.md, checked byte for byte."""
import base64
import hashlib
import hmac
import re

import pytest
import standardwebhooks

from tests.support import contract

README = (contract.ROOT / "schema" / "README.md").read_text(encoding="utf-8")
EXAMPLE = contract.signing_example()


def readme_block(label: str) -> str:
    match = re.search(re.escape(label) + r"[^\n]*\n\n```\n(.*?)\n```", README, re.S)
    assert match, f"README has no code block after {label!r}"
    return match.group(1)


def test_readme_and_example_file_agree():
    assert readme_block("secret:") == EXAMPLE["secret"]
    assert readme_block("webhook-id:") == EXAMPLE["webhook_id"]
    assert readme_block("webhook-timestamp:") == EXAMPLE["webhook_timestamp"]
    assert readme_block("body (") == EXAMPLE["body"]
    assert readme_block("signed content") == "webhook-signature: " + EXAMPLE["webhook_signature"]


def test_body_length_is_as_documented():
    stated = int(re.search(r"body \((\d+) bytes", README).group(1))
    assert len(EXAMPLE["body"].encode("utf-8")) == stated


def test_signature_recomputed_from_the_spec():
    key = base64.b64decode(EXAMPLE["secret"].removeprefix("whsec_"))
    signed = f"{EXAMPLE['webhook_id']}.{EXAMPLE['webhook_timestamp']}.{EXAMPLE['body']}".encode()
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert "v1," + digest == EXAMPLE["webhook_signature"]


def test_standardwebhooks_library_verifies_the_example(monkeypatch):
    wh = standardwebhooks.Webhook(EXAMPLE["secret"])
    headers = {"webhook-id": EXAMPLE["webhook_id"], "webhook-timestamp": EXAMPLE["webhook_timestamp"],
               "webhook-signature": EXAMPLE["webhook_signature"]}
    # The library enforces its 5-minute tolerance against the wall clock: pin "now" to the example.
    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", _FrozenDatetime)
    assert wh.verify(EXAMPLE["body"], headers)["type"] == "occupant.joined"


def test_standardwebhooks_library_rejects_a_changed_body(monkeypatch):
    wh = standardwebhooks.Webhook(EXAMPLE["secret"])
    headers = {"webhook-id": EXAMPLE["webhook_id"], "webhook-timestamp": EXAMPLE["webhook_timestamp"],
               "webhook-signature": EXAMPLE["webhook_signature"]}
    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", _FrozenDatetime)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        wh.verify(EXAMPLE["body"].replace("Zoë", "Zoe"), headers)


def test_standardwebhooks_library_signs_the_same():
    import datetime as dt

    wh = standardwebhooks.Webhook(EXAMPLE["secret"])
    moment = dt.datetime.fromtimestamp(int(EXAMPLE["webhook_timestamp"]), tz=dt.timezone.utc)
    assert wh.sign(EXAMPLE["webhook_id"], moment, EXAMPLE["body"]) == EXAMPLE["webhook_signature"]


def test_example_body_is_a_valid_event():
    import json

    assert contract.validator().is_valid(json.loads(EXAMPLE["body"]))


class _FrozenDatetime:
    """Stands in for the `datetime` class inside standardwebhooks so `now()` is the example's time."""

    import datetime as _dt

    @classmethod
    def now(cls, tz=None):
        return cls._dt.datetime.fromtimestamp(int(EXAMPLE["webhook_timestamp"]) + 30, tz=tz or cls._dt.timezone.utc)

    fromtimestamp = _dt.datetime.fromtimestamp
    timezone = _dt.timezone
