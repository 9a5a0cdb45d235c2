"""Reading corral.toml, the herd's config, into frozen values.

Every error names the file, the line and the key (`toml_check` finds them), with a sentence that
says what is allowed. The `[[agent]]` tables are read by `agent_config`; the user's own settings
file by `user_settings`.

Reading uses tomllib; writing a config back (keeping the user's comments) is tomlkit's job.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

from sessions.adapters.agent_config import parse_agents
from sessions.adapters.toml_check import Section, allowed_names, parse_document, read_text
from sessions.core.errors import ConfigError
from sessions.core.model import Config
from sessions.core.prices import PriceError, PriceTable
from sessions.core.rules import TELL_MODES, Backoff, CoordinationRules, SummaryRules

CONFIG_NAME = "corral.toml"
DEFAULT_WORKTREES = "../{repo}.corral"
WORKTREE_PLACEHOLDERS = ("repo",)

TOP_KEYS = (
    "base",
    "worktrees",
    "width",
    "height",
    "backoff",
    "prices",
    "roles",
    "locks",
    "notes",
    "conflicts",
    "summaries",
    "agent",
)
ROLE_KEYS = ("window_minutes", "builder_share", "builder_files", "stall_minutes", "coordination")
LOCK_KEYS = ("dirs", "done_dirs", "stale_minutes", "idle_minutes")
NOTE_KEYS = ("files", "max_lines", "fast_growth", "quiet_days")
CONFLICT_KEYS = ("tell",)
SUMMARY_KEYS = (
    "enabled",
    "model",
    "hourly_cap",
    "on_change",
    "every_minutes",
    "input_tokens",
    "away_minutes",
    "redact",
    "timeout",
)
BACKOFF_KEYS = ("clean", "failure", "crash_runs", "crash_seconds")

WIDTH_RANGE = (40, 1000)
HEIGHT_RANGE = (10, 500)
INPUT_TOKEN_RANGE = (500, 200_000)
SUMMARY_TIMEOUT_MAX = 600.0


# --- corral.toml --------------------------------------------------------------------------------


def find_config(root: Path) -> Path | None:
    """The repository's corral.toml; None when there is none, an error when something else
    (a folder, say) has its name, since ignoring it would hide the user's agents."""
    path = root / CONFIG_NAME
    if path.is_file():
        return path
    if path.exists():
        raise ConfigError(
            str(path), None, None, "is not a file: rename or remove it, then write corral.toml"
        )
    return None


def load_config(root: Path) -> Config:
    path = find_config(root)
    if path is None:
        raise ConfigError(
            str(root / CONFIG_NAME),
            None,
            None,
            f"no {CONFIG_NAME} here: run `corral init` or copy config.example.toml",
        )
    return parse_config(read_text(path), str(path), root)


def parse_config(text: str, path: str, root: Path) -> Config:
    """Validate the whole file; `root` is the repository root that `prompt_file` is read from."""
    _, top = parse_document(text, path)
    top.check_keys(TOP_KEYS)
    base = _base(top)
    worktrees = top.text("worktrees", DEFAULT_WORKTREES)
    if worktrees is not None:
        _check_template(top, "worktrees", worktrees)
    width = top.integer("width", *WIDTH_RANGE)
    height = top.integer("height", *HEIGHT_RANGE)
    backoff = _backoff(top)
    prices = _prices(top)
    rules = _rules(top)
    summaries = _summaries(top)
    agents = parse_agents(top, root)
    return Config(
        path=path,
        base=base,
        worktrees=DEFAULT_WORKTREES if worktrees is None else worktrees,
        agents=agents,
        backoff=backoff,
        width=Config.width if width is None else width,
        height=Config.height if height is None else height,
        prices=prices,
        rules=rules,
        summaries=summaries,
    )


def _rules(top: Section) -> CoordinationRules | None:
    """The coordination tables; None when none is given, so the defaults stay in one place."""
    sections = {
        key: top.table(key, f"[{key}] with its keys below it")
        for key in ("roles", "locks", "notes", "conflicts")
    }
    if not any(sections.values()):
        return None
    rules = CoordinationRules()
    roles, locks, notes = rules.roles, rules.locks, rules.notes
    tell = rules.tell
    if (section := sections["roles"]) is not None:
        section.check_keys(ROLE_KEYS)
        share = section.typed("builder_share", (int, float), "a share from 0 to 1, such as 0.1")
        assert share is None or isinstance(share, int | float)
        if share is not None and not 0 <= share <= 1:
            raise section.error("builder_share", f"is {share}: it must be from 0 to 1")
        roles = replace(
            roles,
            window=_minutes(section, "window_minutes", roles.window),
            builder_share=roles.builder_share if share is None else float(share),
            builder_files=int(section.positive("builder_files", whole=True) or roles.builder_files),
            stall_after=_minutes(section, "stall_minutes", roles.stall_after),
            coordination=_strings(section, "coordination", "notes/*") or roles.coordination,
        )
    if (section := sections["locks"]) is not None:
        section.check_keys(LOCK_KEYS)
        locks = replace(
            locks,
            dirs=_strings(section, "dirs", "current_tasks") or locks.dirs,
            done_dirs=_strings(section, "done_dirs", "completed_tasks") or locks.done_dirs,
            stale_after=_minutes(section, "stale_minutes", locks.stale_after),
            idle_after=_minutes(section, "idle_minutes", locks.idle_after),
        )
    if (section := sections["notes"]) is not None:
        section.check_keys(NOTE_KEYS)
        quiet = section.positive("quiet_days", whole=False)
        notes = replace(
            notes,
            globs=_strings(section, "files", "notes/**/*.md") or notes.globs,
            max_lines=int(section.positive("max_lines", whole=True) or notes.max_lines),
            fast_growth=float(section.positive("fast_growth", whole=False) or notes.fast_growth),
            quiet_after=notes.quiet_after if quiet is None else float(quiet) * 86400.0,
        )
    if (section := sections["conflicts"]) is not None:
        section.check_keys(CONFLICT_KEYS)
        tell = section.text("tell", "warn") or tell
        if tell not in TELL_MODES:
            allowed = allowed_names(TELL_MODES)
            raise section.error("tell", f"is {json.dumps(tell)}: it must be one of {allowed}")
    return CoordinationRules(roles=roles, locks=locks, notes=notes, tell=tell)


def _summaries(top: Section) -> SummaryRules:
    """`[summaries]` over the dataclass defaults, which stay the only place they are written.

    Numbers keep the unit their key names (minutes stay minutes) because the dataclass fields
    carry the same units. Any key naming a key is refused before the unknown-key check, so a
    user who pastes an API key here learns where it belongs instead of getting a spelling hint.
    """
    default = SummaryRules()
    section = top.table("summaries", "[summaries] with enabled = true below it")
    if section is None:
        return default
    for key in section.values:
        if "key" in key.lower() and key not in SUMMARY_KEYS:
            raise section.error(
                key,
                "cannot be set here: the API key comes only from the ANTHROPIC_API_KEY "
                "environment variable, never from a file, so remove this line",
            )
    section.check_keys(SUMMARY_KEYS)
    enabled = section.boolean("enabled")
    on_change = section.boolean("on_change")
    tokens = section.integer("input_tokens", *INPUT_TOKEN_RANGE)
    return replace(
        default,
        enabled=default.enabled if enabled is None else enabled,
        model=section.text("model", default.model) or default.model,
        hourly_cap_usd=_above_zero(section, "hourly_cap", "US dollars") or default.hourly_cap_usd,
        on_change=default.on_change if on_change is None else on_change,
        every_minutes=_above_zero(section, "every_minutes", "minutes") or default.every_minutes,
        input_tokens=default.input_tokens if tokens is None else tokens,
        away_minutes=_above_zero(section, "away_minutes", "minutes") or default.away_minutes,
        redact=_patterns(section, "redact") or default.redact,
        timeout=_above_zero(section, "timeout", "seconds", SUMMARY_TIMEOUT_MAX) or default.timeout,
    )


def _above_zero(section: Section, key: str, unit: str, most: float | None = None) -> float | None:
    """A finite number above 0 (and at most `most`), kept in `unit`; None when absent."""
    limit = "" if most is None else f" and at most {most:g}"
    expected = f"a number of {unit} above 0{limit}"
    value = section.typed(key, (int, float), expected)
    if value is None:
        return None
    assert isinstance(value, int | float)
    if not (value > 0 and math.isfinite(value)) or (most is not None and value > most):
        raise section.error(key, f"is {value}: it must be {expected}")
    return float(value)


def _patterns(section: Section, key: str) -> tuple[str, ...]:
    """Regular expressions compiled now, so a typo fails at load and not on the first summary."""
    patterns = _strings(section, key, "corp-[0-9]{6}")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise section.error(
                key,
                f"holds {json.dumps(pattern)}, which is not a Python regular expression "
                f"({error}); in single quotes a TOML string keeps backslashes as written",
            ) from error
    return patterns


def _minutes(section: Section, key: str, default: float) -> float:
    value = section.typed(key, (int, float), "a number of minutes above 0")
    if value is None:
        return default
    assert isinstance(value, int | float)
    if not (value > 0 and math.isfinite(value)):
        raise section.error(key, f"is {value}: it must be a number of minutes above 0")
    return float(value) * 60.0


def _strings(section: Section, key: str, example: str) -> tuple[str, ...]:
    value = section.typed(key, list, f'a list of strings such as ["{example}"]')
    if value is None:
        return ()
    assert isinstance(value, list)
    if not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise section.error(key, f'must be a non-empty list of strings such as ["{example}"]')
    return tuple(value)


def _base(top: Section) -> str | None:
    base = top.text("base", "main")
    if base is not None and any(char.isspace() for char in base):
        raise top.error("base", f"is {json.dumps(base)}: a branch name has no spaces")
    return base


def _check_template(section: Section, key: str, template: str) -> None:
    """Placeholders are replaced literally, not by str.format, so any other brace is a typo."""
    rest = template
    for name in WORKTREE_PLACEHOLDERS:
        rest = rest.replace(f"{{{name}}}", "")
    if "{" in rest or "}" in rest:
        allowed = ", ".join(f"{{{name}}}" for name in WORKTREE_PLACEHOLDERS)
        raise section.error(
            key, f"is {json.dumps(template)}: the only placeholders are {allowed}, no other braces"
        )


def _prices(top: Section) -> PriceTable | None:
    """Prices that replace or add to the dated defaults, one table per model name prefix."""
    section = top.table("prices", '[prices."claude-opus-5"] with input = 5.0 below it')
    if section is None:
        return None
    try:
        return PriceTable.from_mapping(section.values)
    except PriceError as error:
        parts = tuple(p.strip('"') for p in error.key.removeprefix("prices.").split(".") if p)
        where = ("prices", *parts)
        message = str(error).removeprefix(f"{error.key}: ")
        raise section.doc.error(where, message) from error


def _backoff(top: Section) -> Backoff:
    default = Backoff()
    section = top.table("backoff", "[backoff] with clean = 5.0 below it")
    if section is None:
        return default
    section.check_keys(BACKOFF_KEYS)
    crash_runs = section.positive("crash_runs", whole=True)
    return Backoff(
        clean=float(section.positive("clean", whole=False) or default.clean),
        failure=float(section.positive("failure", whole=False) or default.failure),
        crash_runs=default.crash_runs if crash_runs is None else int(crash_runs),
        crash_seconds=float(
            section.positive("crash_seconds", whole=False) or default.crash_seconds
        ),
    )
