"""Reading the user's own settings (theme, keys, notifications) into a frozen value.

The file is personal and optional, and lives outside every repository, so a missing file means
the defaults; a present one is checked as strictly as corral.toml.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from sessions.adapters.toml_check import Section, parse_document, read_text
from sessions.core.model import UserSettings

USER_KEYS = ("theme", "keys", "notifications")
NOTIFICATION_KEYS = ("bell", "desktop", "notify_send")


def user_config_path() -> Path:
    """XDG says a relative $XDG_CONFIG_HOME is invalid and must be ignored."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "corral" / "config.toml"


def load_user_settings(
    path: Path | None = None, binding_ids: Sequence[str] | None = None
) -> UserSettings:
    """A missing file means defaults: the settings are personal and optional."""
    path = user_config_path() if path is None else path
    if not path.exists():
        return UserSettings()
    return parse_user_settings(read_text(path), str(path), binding_ids)


def parse_user_settings(
    text: str, path: str, binding_ids: Sequence[str] | None = None
) -> UserSettings:
    """`binding_ids`, when the caller knows them, turns a mistyped id in [keys] into an error."""
    _, top = parse_document(text, path)
    top.check_keys(USER_KEYS)
    default = UserSettings()
    theme = top.text("theme", default.theme)
    keys = top.table("keys", '[keys] with quit = "ctrl+q" below it')
    notifications = top.table(
        "notifications", "[notifications] with bell = true below it"
    ) or Section(top.doc, ("notifications",), {})
    notifications.check_keys(NOTIFICATION_KEYS)

    def flag(key: str, fallback: bool) -> bool:
        value = notifications.boolean(key)
        return fallback if value is None else value

    return UserSettings(
        theme=default.theme if theme is None else theme,
        keys=() if keys is None else _bindings(keys, binding_ids),
        bell=flag("bell", default.bell),
        desktop=flag("desktop", default.desktop),
        notify_send=flag("notify_send", default.notify_send),
    )


def _bindings(section: Section, binding_ids: Sequence[str] | None) -> tuple[tuple[str, str], ...]:
    if binding_ids is not None:
        section.check_keys(binding_ids)
    bindings = []
    for binding in section.values:
        key = section.text(binding, "ctrl+p")
        assert key is not None
        if any(char.isspace() for char in key):
            raise section.error(
                binding, f'is {json.dumps(key)}: a key has no spaces, as in "ctrl+p"'
            )
        bindings.append((binding, key))
    return tuple(bindings)
