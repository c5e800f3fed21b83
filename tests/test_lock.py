"""The environment the tests run in is the locked one: what CI tested is what a clone installs."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.fixtures.paths import REPO

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
                 r"(?:\s*;\s*(?P<marker>[^\\\n]+?))?\s*\\?$", re.MULTILINE)
# Installed by the venv itself or by `make`, not by the lock.
NOT_LOCKED = {"pip", "cohort"}


def _pins(lock: str) -> dict[str, str]:
    """The lock's pins that apply to this interpreter and platform (markers evaluated)."""
    pins = {}
    for match in PIN.finditer((REPO / lock).read_text()):
        marker = match["marker"]
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def _installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_every_locked_package_is_installed_at_its_locked_version():
    installed = _installed()
    wrong = {name: (version, installed.get(name))
             for name, version in _pins("requirements-dev.lock").items()
             if installed.get(name) != version}
    assert wrong == {}, "run `make install-test` (locked version, installed version)"


def test_nothing_is_installed_that_the_lock_does_not_name():
    unlocked = set(_installed()) - set(_pins("requirements-dev.lock")) - NOT_LOCKED
    assert unlocked == set(), "installed outside the lock: add it to pyproject.toml, `make lock`"


def test_the_runtime_lock_has_the_same_versions_as_the_dev_lock():
    dev = _pins("requirements-dev.lock")
    runtime = _pins("requirements.lock")
    assert set(runtime) <= set(dev)
    assert {name: dev[name] for name in runtime} == runtime
