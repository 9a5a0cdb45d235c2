"""The real Codex CLI for tests: installed once per machine, run offline in a tmux pane.

npm's `@openai/codex` is a small node wrapper; the native program comes in a platform
package (`@openai/codex-linux-x64/vendor/<target>/bin/codex`), which is what the tests run,
so node is needed only for the install. It goes into `$CORRAL_TEST_CACHE/codex` (see
`tests.support.npm_cli`); `CORRAL_CODEX_BIN` points at a binary to use instead and
`CORRAL_CODEX_VERSION` picks the npm version (default: the pinned one the recordings were made
with, `tests.support.npm_cli.PINNED`).

It runs against the Responses API stand-in (`tests.support.responses_standin`) as a custom
model provider written into a private `CODEX_HOME/config.toml`, with the worktree trusted (so
it starts at the prompt, not at a "do you trust this folder" question) and the update check
off, in an environment built from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.cli_pane import Looks, scratch_env
from tests.support.npm_cli import NpmCli

CODEX = NpmCli(
    title="Codex",
    package="@openai/codex",
    folder="codex",
    explicit="CORRAL_CODEX_BIN",
    places=(
        "node_modules/@openai/codex-{platform}/vendor/*/bin/codex",
        "node_modules/@openai/codex-*/vendor/*/bin/codex",
        "node_modules/.bin/codex",
    ),
    says="codex",
)
API_KEY_VARIABLE = "CORRAL_STANDIN_OPENAI_KEY"
API_KEY = "sk-corral-standin-0123456789"
PROVIDER = "standin"
MODEL = "gpt-5.1-codex"


def toml_string(text: str) -> str:
    """A TOML basic string; JSON's escapes are valid TOML for the text written here."""
    return json.dumps(text)


def prepare_codex_home(codex_home: Path, base_url: str, trusted: Sequence[Path] = ()) -> Path:
    """A private CODEX_HOME whose config sends every request to the stand-in.

    `base_url` is the stand-in's root; Codex appends `/responses` to the provider's URL, so
    the provider gets `<root>/v1`. `env_key` names the variable holding the key, which
    `codex_env` sets. Each folder in `trusted` is marked trusted, otherwise Codex asks about
    it before the first prompt.
    """
    codex_home.mkdir(parents=True, exist_ok=True)
    lines = [
        f"model = {toml_string(MODEL)}",
        f"model_provider = {toml_string(PROVIDER)}",
        "check_for_update_on_startup = false",
        "",
        f"[model_providers.{PROVIDER}]",
        'name = "corral stand-in"',
        f"base_url = {toml_string(base_url.rstrip('/') + '/v1')}",
        f"env_key = {toml_string(API_KEY_VARIABLE)}",
        'wire_api = "responses"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
    ]
    for folder in trusted:
        lines += ["", f"[projects.{toml_string(str(folder.resolve()))}]", 'trust_level = "trusted"']
    config = codex_home / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def codex_env(
    home: Path, codex_home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment for the CLI, built from scratch rather than inherited.

    Inheriting would leak the developer's own OPENAI_* and CODEX_* settings into a run.
    """
    env = {
        **scratch_env(home),
        "CODEX_HOME": str(codex_home),
        "COLORTERM": "truecolor",
        API_KEY_VARIABLE: API_KEY,
    }
    env.update(extra or {})
    return env


def bottom(screen: str, count: int = 8) -> str:
    """The last non-blank lines, where Codex draws its status, prompt and footer."""
    lines = [line for line in screen.splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def is_working(screen: str) -> bool:
    """A turn runs: the status line above the prompt says `esc to interrupt`."""
    return "esc to interrupt" in bottom(screen)


def is_idle(screen: str) -> bool:
    """The prompt (U+203A and a space) with the shortcuts footer, and no turn running."""
    end = bottom(screen)
    prompt = any(line.startswith("›") for line in end.splitlines())
    return prompt and "? for shortcuts" in end and not is_working(screen)


LOOKS = Looks(is_idle, is_working)
