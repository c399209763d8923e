"""Test-suite set-up: pytester (for the plugin's own tests) and the tim3check plugin.

When tim3check is installed (``pip install -e .``) its plugin is registered through the
``pytest11`` entry point; from an uninstalled checkout it is registered here instead.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tim3check"):
        import checker.interfaces.pytest_plugin as plugin

        config.pluginmanager.register(plugin, "tim3check")
