"""Make the collection importable as `ansible_collections.berth.engine` for the unit tests."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.integration.ansible.runner import collection_tree

_BASE = Path(tempfile.mkdtemp(prefix="berth-collection-"))
collection_tree(_BASE)
if str(_BASE) not in sys.path:
    sys.path.insert(0, str(_BASE))


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    import shutil

    shutil.rmtree(_BASE, ignore_errors=True)
