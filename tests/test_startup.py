"""A web process, once loaded, has every view imported and what it loaded left out of garbage collection."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, sys
before = gc.get_freeze_count()
import clinic.{module}
print(before, gc.get_freeze_count(), "records.views.review" in sys.modules)
"""


@pytest.mark.parametrize("module", ["wsgi", "asgi"])
def test_a_loaded_web_process_has_its_views_and_leaves_them_to_no_collection(module):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": "startup-test-only-not-secret",
        "DEBUG": "0",
        "DATABASE_URL": "sqlite://:memory:",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    before, frozen, views_loaded = result.stdout.split()
    assert int(frozen) > int(before) + 10_000  # the framework's and the project's objects
    assert views_loaded == "True"
