"""The native plugin's resource lifecycle over gRPC, per platform, against the sandbox subprocess:
Check, Create, Diff (none, in place, replace: detailed), Update, Read (refresh and import, then a
preview of the imported declaration with no diff), Delete, and a lost create answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from conftest import SandboxProcess
from plugin_host import UNKNOWN, Props

from plugin.cases import PLATFORMS, Case, PluginFactory, configured, declared


def includes(props: Props, expected: Mapping[str, Any]) -> bool:
    """Whether ``props`` hold every expected value (lists as sets: Check stores them sorted)."""
    same = [
        sorted(props.get(k)) == sorted(v) if isinstance(v, list) else props.get(k) == v
        for k, v in expected.items()
    ]
    return all(same)


def _secret_values_absent(case: Case, text: str) -> None:
    for secret in case.secrets:
        assert secret not in text


@pytest.mark.parametrize("platform", PLATFORMS)
def test_lifecycle_through_grpc(
    platform: str, sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases[platform]
    host = configured(start_plugin, sandbox, case)
    target = case.urn()

    checked = host.check(target, {}, declared(case))
    assert checked.failures == ()
    inputs = checked.inputs
    assert includes(inputs, case.inputs)  # camelCase in, camelCase out

    resource_id, outputs = host.create(target, inputs)
    assert resource_id
    assert case.held(sandbox) == (2 if platform == "cjdropshipping" else 1)
    assert includes(outputs, case.inputs)
    if platform == "cjdropshipping":
        assert outputs["openId"] and "openId" in outputs.secrets
    else:
        assert outputs["webhookId"] and resource_id.endswith("/" + outputs["webhookId"])
    if platform == "up42":
        assert {"secret"} <= outputs.secrets and {"secret"} <= inputs.secrets
        assert outputs["active"] is True  # the schema's default, applied by Check

    unchanged = host.diff(target, resource_id, outputs, inputs)
    assert (unchanged.changes, unchanged.detailed, unchanged.replaces) == ("none", {}, ())

    news = host.check(target, inputs, declared(case, **case.update)).inputs
    in_place = host.diff(target, resource_id, outputs, news)
    assert in_place.changes == "some" and in_place.replaces == ()
    assert in_place.detailed == {k: (kind, True) for k, kind in case.update_diff.items()}
    assert sorted(in_place.diffs) == sorted(case.update_diff)

    updated = host.update(target, resource_id, outputs, news)
    assert includes(updated, case.update)

    if case.replace is not None:
        replacing = host.check(target, news, declared(case, **{**case.update, **case.replace})).inputs
        replace = host.diff(target, resource_id, updated, replacing)
        assert replace.replaces == tuple(case.replace)
        assert replace.detailed == {k: (kind, True) for k, kind in case.replace_diff.items()}
        assert replace.delete_before_replace is case.replace_deletes_first

    refreshed = host.read(target, resource_id, updated, news)
    assert refreshed.id == resource_id
    assert refreshed.outputs.values == updated.values
    assert refreshed.outputs.secrets >= updated.secrets - {"adopt"}

    # `pulumi import`: only the id. The inputs are the declaration it writes; previewing that declaration
    # against the imported state shows no change.
    imported = host.read(target, resource_id)
    assert imported.id == resource_id
    assert includes(imported.inputs, declared(case, **case.update).values)
    assert not set(imported.inputs.values) & {"accessToken", "apiKey", "adopt", "verify"}
    declaration = host.check(target, {}, imported.inputs)
    assert declaration.failures == ()
    preview = host.diff(target, resource_id, imported.outputs, declaration.inputs)
    assert (preview.changes, preview.detailed) == ("none", {})

    host.delete(target, resource_id, updated)
    assert case.held(sandbox) == 0
    gone = host.read(target, resource_id, updated, news)
    assert gone.id == ("cjdropshipping-webhook-settings" if platform == "cjdropshipping" else "")

    _secret_values_absent(case, host.logs() + json.dumps(host.engine_log.lines()))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_lost_create_answer_is_found_not_duplicated(
    platform: str, sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    """The platform commits the create and the connection drops before the answer: the plugin looks
    again (the shared lifecycle) and takes its own write over instead of writing twice."""
    case = all_cases[platform]
    host = configured(start_plugin, sandbox, case)
    target = case.urn()
    inputs = host.check(target, {}, declared(case)).inputs
    sandbox.fault(case.platform, **case.create_fault)

    resource_id, outputs = host.create(target, inputs)

    assert [r["fault"] for r in sandbox.requests(case.platform) if r["fault"]] == ["commit_then_drop"]
    assert case.held(sandbox) == (2 if platform == "cjdropshipping" else 1)
    assert host.read(target, resource_id, outputs, inputs).outputs.values == outputs.values


def test_import_of_a_missing_subscription_reads_nothing(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases["shopline"]
    host = configured(start_plugin, sandbox, case)
    gone = host.read(case.urn(), "open001/999999")
    assert (gone.id, gone.outputs, gone.inputs) == ("", Props.of({}), Props.of({}))


# At preview an input computed from another resource arrives unknown: Check passes it through unknown
# (the engine's sentinel), in a field, inside a list and as a secret, and Diff says what may change.
UNKNOWNS: dict[str, dict[str, Any]] = {
    "shopline": {"address": UNKNOWN},
    "shoplazza": {"address": UNKNOWN, "topic": UNKNOWN},
    "up42": {"url": UNKNOWN, "events": ["job.status", UNKNOWN], "secret": UNKNOWN},
    "cjdropshipping": {"productUrl": UNKNOWN},
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unknown_inputs_at_preview_pass_check_and_stay_unknown(
    platform: str, sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases[platform]
    host = configured(start_plugin, sandbox, case)
    unknowns = UNKNOWNS[platform]
    news = declared(case, **unknowns)
    if platform == "up42":
        news = Props.of(news.values, {"secret"})

    checked = host.check(case.urn(), {}, news)

    assert checked.failures == ()
    for key, value in unknowns.items():
        if key != "secret":  # the SDK's own deserializer reads a secret unknown back as None
            assert checked.inputs[key] == value, key
    if platform == "up42":
        assert "secret" in checked.inputs.secrets
    assert case.held(sandbox) == 0  # a preview writes nothing


def test_a_resource_name_with_double_colons_is_served(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    # Pulumi allows `::` in a resource name; only the first three separate the URN's parts.
    case = all_cases["shopline"]
    host = configured(start_plugin, sandbox, case)
    checked = host.check(case.urn("orders::v2"), {}, declared(case))
    assert checked.failures == ()


def test_an_up42_webhook_without_a_name_is_named_after_the_resource(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    # As for a Python program's `up42.Webhook("jobs", ...)`: the display name defaults to the resource name.
    case = all_cases["up42"]
    host = configured(start_plugin, sandbox, case)
    checked = host.check(case.urn("nightly-jobs"), {}, declared(case, name=None))
    assert checked.failures == ()
    assert checked.inputs["name"] == "nightly-jobs"


def test_engine_log_lines_name_the_resource_they_are_about(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    # With up to 32 operations at once, a retry line must say which resource it is about.
    case = all_cases["shopline"]
    host = configured(start_plugin, sandbox, case)
    target = case.urn("retried")
    sandbox.fault("shopline", "status", method="POST", path="webhooks\\.json$", status=503, count=1)
    checked = host.check(target, {}, declared(case))
    host.create(target, checked.inputs)
    retries = [e for e in host.engine_log.entries if "answered 503" in e.message]
    assert retries and all(e.urn == target for e in retries), host.engine_log.entries


def test_a_snake_case_property_is_refused_naming_the_camel_case_one(
    sandbox: SandboxProcess, start_plugin: PluginFactory, all_cases: dict[str, Case]
) -> None:
    case = all_cases["up42"]
    host = configured(start_plugin, sandbox, case)
    values = dict(declared(case).values)
    values["workspace_id"] = values.pop("workspaceId")
    checked = host.check(case.urn(), {}, Props.of(values))
    assert ("workspace_id", "is not a property of webhooks:up42:Webhook; did you mean 'workspaceId'?") in (
        checked.failures
    ), checked.failures
