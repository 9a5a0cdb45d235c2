"""The house rule that keeps the domain headless: sessions/ never imports textual or rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import sessions


def test_sessions_imports_neither_textual_nor_rich() -> None:
    modules = [
        info.name
        for info in pkgutil.walk_packages(sessions.__path__, prefix="sessions.")
        if not info.name.endswith("__main__")
    ]
    assert "sessions.supervisor" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
