"""The plugin's package schema: served over gRPC and by `pulumi-webhooks schema`, generated from the
resources' `InputField`s and settings, and valid under the rules of Pulumi's package meta-schema
(`pkg/codegen/schema/pulumi.json` in pulumi/pulumi) that it relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.cases import PluginFactory
from pulumi_webhooks._core import settings
from pulumi_webhooks.plugin import package_schema
from pulumi_webhooks.plugin._convert import camel, snake
from pulumi_webhooks.plugin._schema import RESOURCES, config_name, param_docs

# The rules of pulumi.json this schema relies on, restated (same patterns, same structure) so the test
# runs without the network: the package's keys and their types, the name/version/token patterns, and
# what a property, a resource and the config section may hold.
# (Named groups in Python's spelling, `(?P<name>`: jsonschema matches patterns with `re`.)
SEMVER = (
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<buildmetadata>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
TOKEN = r"^[a-zA-Z][-a-zA-Z0-9_]*:([^0-9][a-zA-Z0-9._/-]*)?:[^0-9][a-zA-Z0-9._/-]*$"
PRIMITIVES = ["boolean", "integer", "number", "string"]
PROPERTY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": [*PRIMITIVES, "array", "object"]},
        "items": {"$ref": "#/$defs/property"},
        "description": {"type": "string"},
        "default": {"type": ["boolean", "number", "string"]},
        "secret": {"type": "boolean"},
        "replaceOnChanges": {"type": "boolean"},
        "willReplaceOnChanges": {"type": "boolean"},
        "plain": {"type": "boolean"},
    },
    "additionalProperties": False,
    "required": ["type"],
    # An array type must name its items; a primitive has none.
    "if": {"properties": {"type": {"const": "array"}}},
    "then": {"required": ["items"]},
    "else": {"not": {"required": ["items"]}},
}
RESOURCE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "type": {"type": "string"},
        "isComponent": {"type": "boolean"},
        "inputProperties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/property"}},
        "requiredInputs": {"type": "array", "items": {"type": "string"}},
        "properties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/property"}},
        "required": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}
META: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-zA-Z][-a-zA-Z0-9_]*$"},
        "displayName": {"type": "string"},
        "version": {"type": "string", "pattern": SEMVER},
        "description": {"type": "string"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "license": {"type": "string"},
        "namespace": {"type": "string", "pattern": r"^([a-z][a-z0-9]*)(-[a-z0-9]+)*$"},
        "config": {
            "type": "object",
            "properties": {
                "variables": {"type": "object", "additionalProperties": {"$ref": "#/$defs/property"}},
                "defaults": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "types": {"type": "object", "propertyNames": {"pattern": TOKEN}},
        "provider": {"$ref": "#/$defs/resource"},
        "resources": {
            "type": "object",
            "additionalProperties": {"$ref": "#/$defs/resource"},
            "propertyNames": {"pattern": TOKEN},
        },
        "language": {"type": "object"},
        "dependencies": {"type": "array"},
    },
    "$defs": {"property": PROPERTY, "resource": RESOURCE},
}
REPO = Path(__file__).resolve().parents[2]
TOKENS = {
    "webhooks:shopline:Webhook",
    "webhooks:shoplazza:Webhook",
    "webhooks:up42:Webhook",
    "webhooks:cjdropshipping:WebhookSettings",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package_schema()


def test_schema_is_served_over_grpc_and_printed_by_the_cli(
    schema: dict[str, Any], start_plugin: PluginFactory
) -> None:
    host = start_plugin()
    assert json.loads(host.get_schema()) == schema
    printed = subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks.cli", "schema"], capture_output=True, text=True, check=True
    )
    assert json.loads(printed.stdout) == schema


def test_schema_validates_against_the_meta_schema_rules(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(META)
    jsonschema.validate(schema, META, cls=jsonschema.Draft202012Validator)
    assert set(schema["resources"]) == TOKENS


@pytest.mark.parametrize(
    "broken",
    [
        {"resources": {"webhooks:1bad:Webhook": {}}},  # a module may not start with a digit
        {"resources": {"webhooks::": {}}},  # no member name
        {"version": "0.1"},  # not semver
        {"name": "9webhooks"},
        {"unknownTopLevelKey": True},
        {"config": {"variables": {"x": {"type": "array"}}}},  # an array without items
        {"config": {"variables": {"x": {"type": "list"}}}},
        {"config": {"variables": {"x": {"type": "string", "secret": "yes"}}}},
    ],
)
def test_the_meta_schema_rules_reject_what_pulumi_rejects(
    schema: dict[str, Any], broken: dict[str, Any]
) -> None:
    """The restated rules can fail: each of these breaks one of them."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**schema, **broken}, META, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("kind", RESOURCES, ids=lambda k: k.token)
def test_resources_follow_their_input_fields(schema: dict[str, Any], kind: Any) -> None:
    spec = schema["resources"][kind.token]
    inputs = spec["inputProperties"]
    assert list(inputs) == [camel(f.name) for f in kind.fields]
    named = kind.provider.named_after_resource  # required, but defaulting to the resource name (UP42's)
    assert spec["requiredInputs"] == [
        camel(f.name) for f in kind.fields if f.required and f.name not in named
    ]
    assert {camel(f.name) for f in kind.fields if f.required} <= set(spec["required"])  # always output
    for field in kind.fields:
        prop = inputs[camel(field.name)]
        assert prop["type"] == {str: "string", bool: "boolean", list: "array"}[field.kind]
        assert prop.get("secret", False) is field.secret
        assert prop.get("willReplaceOnChanges", False) is field.replaces
        assert prop.get("default") == (None if callable(field.default) else field.default)
        assert prop["description"]
    outputs = spec["properties"]
    for name in kind.provider.computed_outputs:
        assert camel(name) in outputs
    for name in kind.provider.secret_outputs:
        assert outputs[camel(name)]["secret"] is True
    # Every input is documented in the resource's Args docstring (where the schema takes it from).
    module = __import__(kind.module, fromlist=[kind.class_name])
    documented = param_docs(getattr(module, f"{kind.class_name}Args").__doc__)
    assert {f.name for f in kind.fields} <= set(documented)


def test_config_has_every_setting_with_its_secrecy(schema: dict[str, Any]) -> None:
    variables = schema["config"]["variables"]
    assert schema["provider"]["inputProperties"] == variables
    for setting in settings.declared():
        spec = variables[config_name(setting)]
        assert spec["type"] == "string"
        assert spec.get("secret", False) is setting.secret
        assert setting.env_var in spec["description"]
    assert {
        "shoplineAccessToken",
        "shoplazzaAccessToken",
        "up42Username",
        "up42Region",
        "cjdropshippingApiKey",
    } <= set(variables)
    assert variables["shoplineAccessToken"]["secret"] is True
    assert "operationTimeout" in variables


@given(st.lists(st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=4))
def test_camel_and_snake_case_round_trip(parts: list[str]) -> None:
    name = "_".join(parts)
    assert snake(camel(name)) == name
    assert "_" not in camel(name)


def test_the_plugin_page_lists_every_config_key_with_its_environment_variable(schema: dict[str, Any]) -> None:
    page = (REPO / "docs" / "plugin.md").read_text()
    rows = {
        line.split("|")[1].strip(" `"): line for line in page.splitlines() if line.startswith("| `webhooks:")
    }
    assert set(rows) == {f"webhooks:{name}" for name in schema["config"]["variables"]}
    for setting in settings.declared():
        row = rows[f"webhooks:{config_name(setting)}"]
        assert f"`{setting.env_var}`" in row
        assert ("| yes |" in row) is setting.secret
        if setting.default is not None:
            assert f"`{setting.default}`" in row
