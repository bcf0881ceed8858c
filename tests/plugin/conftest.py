"""Fixtures of the plugin tests: plugin processes (closed at the end of each test) and the cases."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from conftest import SandboxProcess
from plugin_host import PluginHost

from plugin.cases import Case, PluginFactory, cases, clean_env


@pytest.fixture
def start_plugin() -> Iterator[PluginFactory]:
    """Start plugin processes (closed at the end of the test): ``start_plugin(config=..., secret_keys=...,
    env=...)`` starts one and sends CheckConfig + Configure (``config=None``: no Configure)."""
    hosts: list[PluginHost] = []

    def factory(
        *,
        config: Mapping[str, str] | None = None,
        secret_keys: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        command: list[str] | None = None,
    ) -> PluginHost:
        host = PluginHost(env=clean_env(env), inherit_env=False, command=command).start()
        hosts.append(host)
        if config is not None:
            checked = host.configure(config, secret_keys)
            assert not checked.failures, checked.failures
        return host

    try:
        yield factory
    finally:
        for host in hosts:
            host.close()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def all_cases(sandbox: SandboxProcess, cache_dir: Path) -> dict[str, Case]:
    return cases(sandbox, cache_dir)
