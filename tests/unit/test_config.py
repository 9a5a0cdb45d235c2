"""corral.toml and the user settings: what is accepted, and where every error points."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from sessions.adapters.agent_config import AGENT_KEYS
from sessions.adapters.config import (
    BACKOFF_KEYS,
    CONFIG_NAME,
    CONFLICT_KEYS,
    DEFAULT_WORKTREES,
    LOCK_KEYS,
    NOTE_KEYS,
    ROLE_KEYS,
    SUMMARY_KEYS,
    TOP_KEYS,
    find_config,
    load_config,
    parse_config,
)
from sessions.adapters.toml_check import Locator, key_name
from sessions.adapters.user_settings import (
    NOTIFICATION_KEYS,
    USER_KEYS,
    load_user_settings,
    parse_user_settings,
    user_config_path,
)
from sessions.core.errors import ConfigError
from sessions.core.model import AgentSpec, Config, Kind, Restart, UserSettings
from sessions.core.rules import Backoff, CoordinationRules, SummaryRules

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
PATH = "/repo/corral.toml"

ONE = """\
[[agent]]
name = "claude-1"
kind = "claude"
"""


def parse(text: str, root: Path = Path("/nonexistent")) -> Config:
    return parse_config(text, PATH, root)


def error_of(text: str, root: Path = Path("/nonexistent")) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(text, root)
    assert caught.value.path == PATH
    return caught.value


def only(config: Config) -> AgentSpec:
    assert len(config.agents) == 1
    return config.agents[0]


# --- the example file ---------------------------------------------------------------------------


def test_example_is_valid_and_shows_the_defaults() -> None:
    config = parse_config(EXAMPLE.read_text(), str(EXAMPLE), EXAMPLE.parent)
    assert config.base is None
    assert config.worktrees == DEFAULT_WORKTREES
    assert (config.width, config.height) == (Config.width, Config.height)
    assert config.backoff == Backoff()
    assert config.rules == CoordinationRules()
    assert config.summaries == SummaryRules()
    assert {spec.kind for spec in config.agents} >= {Kind.CLAUDE, Kind.CODEX, Kind.SHELL}


def test_example_shows_every_key_the_parser_accepts() -> None:
    """Optional keys are shown commented out; uncommented, they must sit in the right table."""
    text = re.sub(r"(?m)^# (?=[a-z_]+ = )", "", EXAMPLE.read_text())
    data = tomllib.loads(text)
    assert set(TOP_KEYS) <= set(data)
    assert set(BACKOFF_KEYS) <= set(data["backoff"])
    for table, keys in (
        ("roles", ROLE_KEYS),
        ("locks", LOCK_KEYS),
        ("notes", NOTE_KEYS),
        ("conflicts", CONFLICT_KEYS),
        ("summaries", SUMMARY_KEYS),
    ):
        assert set(keys) <= set(data[table])
    assert set(AGENT_KEYS) <= {key for agent in data["agent"] for key in agent}


# --- the line locator ---------------------------------------------------------------------------

LOCATED = """\
base = "main"   # [[agent]] in a comment
backoff.clean = 2

[backoff]
failure = 9

[[agent]]
name = "a"
env = { HOME = "/h" }
prompt = \"\"\"
[[agent]]
name = "not a key"
\"\"\"
args = [
  "x = y",
  ["nested"]
]

[agent.env]
PATH = "/bin"

[[agent]]
"quoted key" = 1
'literal.key' = 2
env.LANG = "C"
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("base",), 1),
        (("backoff", "clean"), 2),
        (("backoff", "failure"), 5),
        (("agent",), 7),
        (("agent", 0), 7),
        (("agent", 0, "name"), 8),
        (("agent", 0, "env", "HOME"), 9),
        (("agent", 0, "prompt"), 10),
        (("agent", 0, "args"), 14),
        (("agent", 0, "kind"), 7),
        (("agent", 0, "env", "PATH"), 20),
        (("agent", 1), 22),
        (("agent", 1, "name"), 22),
        (("agent", 1, "quoted key"), 23),
        (("agent", 1, "literal.key"), 24),
        (("agent", 1, "env", "LANG"), 25),
    ],
)
def test_locator_finds_the_line_of_a_key(path: tuple[str | int, ...], line: int) -> None:
    assert Locator(LOCATED).line_of(path) == line


def test_locator_knows_nothing_of_an_absent_top_level_key() -> None:
    assert Locator(LOCATED).line_of(("width",)) is None


def test_locator_points_inline_agents_at_their_array() -> None:
    text = 'width = 100\nagent = [\n  { name = "a" },\n]\n'
    assert Locator(text).line_of(("agent", 0, "name")) == 2


def test_locator_reads_windows_line_ends_and_literal_strings() -> None:
    text = "[[agent]]\r\nprompt = '''\r\nkind = 1\r\n'''\r\nkind = 'x'\r\n"
    assert Locator(text).line_of(("agent", 0, "kind")) == 5


def test_key_names_count_agents_from_one() -> None:
    assert key_name(("agent", 1, "env", "HOME")) == "agent[2].env.HOME"
    assert key_name(("width",)) == "width"


# --- a valid corral.toml ------------------------------------------------------------------------


def test_minimal_config_takes_the_defaults() -> None:
    config = parse(ONE)
    assert config == Config(
        path=PATH,
        base=None,
        worktrees="../{repo}.corral",
        agents=(AgentSpec(name="claude-1", kind=Kind.CLAUDE),),
        backoff=Backoff(),
        width=160,
        height=45,
    )
    assert only(config).command == ()
    assert only(config).restart is Restart.NEVER


def test_empty_file_is_a_herd_of_none() -> None:
    assert parse("").agents == ()


def test_every_top_level_key_is_read() -> None:
    config = parse(
        'base = "dev"\nworktrees = "/tmp/{repo}-trees"\nwidth = 200\nheight = 50\n'
        "[backoff]\nclean = 1\nfailure = 2.5\ncrash_runs = 3\ncrash_seconds = 10\n"
    )
    assert (config.base, config.worktrees, config.width, config.height) == (
        "dev",
        "/tmp/{repo}-trees",
        200,
        50,
    )
    assert config.backoff == Backoff(clean=1.0, failure=2.5, crash_runs=3, crash_seconds=10.0)
    assert isinstance(config.backoff.clean, float)


def test_every_agent_key_is_read() -> None:
    spec = only(
        parse(
            ONE + 'command = "claude --flag \'two words\'"\nargs = ["--model", "x"]\n'
            'prompt = "go"\nrestart = "on-failure"\nenv = { B = "2", A = "1" }\n'
        )
    )
    assert spec.command == ("claude", "--flag", "two words")
    assert spec.args == ("--model", "x")
    assert spec.prompt == "go"
    assert spec.restart is Restart.ON_FAILURE
    assert spec.env == (("B", "2"), ("A", "1"))


def test_command_and_args_take_arrays_and_strings() -> None:
    spec = only(parse(ONE + 'command = ["my claude", "-v"]\nargs = "--a b"\n'))
    assert spec.command == ("my claude", "-v")
    assert spec.args == ("--a", "b")


def test_env_as_a_sub_table() -> None:
    assert only(parse(ONE + '[agent.env]\nX = "1"\n')).env == (("X", "1"),)


def test_prompt_file_is_read_relative_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "p.md").write_text("Take the next task.\n")
    spec = only(parse(ONE + 'prompt_file = "prompts/p.md"\n', tmp_path))
    assert spec.prompt == "Take the next task.\n"


def test_agents_keep_their_order() -> None:
    text = ONE + '[[agent]]\nname = "s"\nkind = "shell"\ncommand = "bash"\n'
    assert [spec.name for spec in parse(text).agents] == ["claude-1", "s"]


# --- errors in corral.toml ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        # syntax
        ("width = 100\nwidth = \n", 2, None, "not valid TOML"),
        ('[[agent]]\nprompt = """never closed\n', 2, None, "end of the file"),
        # unknown keys
        ("widht = 100\n", 1, "widht", 'did you mean "width"'),
        ("[backof]\nclean = 1\n", 1, "backof", "allowed are base, worktrees"),
        ("[backoff]\nclaen = 1\n", 2, "backoff.claen", "allowed are clean, failure"),
        (ONE + 'kinds = "x"\n', 4, "agent[1].kinds", "allowed are name, kind"),
        # types
        ("[[agent]]\nname = 3\nkind = 'claude'\n", 2, "agent[1].name", "not the integer 3"),
        ("width = true\n", 1, "width", "whole number from 40 to 1000, not the boolean true"),
        ("width = 100.0\n", 1, "width", "not the number 100.0"),
        ("backoff = 3\n", 1, "backoff", "must be a table"),
        (ONE + "prompt = 1\n", 4, "agent[1].prompt", "must be a string"),
        (ONE + "env = 1\n", 4, "agent[1].env", "must be a table"),
        # names
        ("[[agent]]\nname = 'Claude_1'\nkind = 'claude'\n", 2, "agent[1].name", "lowercase"),
        ("[[agent]]\nname = '-a'\nkind = 'claude'\n", 2, "agent[1].name", "starting with"),
        (f"[[agent]]\nname = '{'a' * 41}'\nkind = 'claude'\n", 2, "agent[1].name", "at most 40"),
        ("[[agent]]\nkind = 'claude'\n", 1, "agent[1].name", "is missing"),
        ("[[agent]]\nname = 'a'\n", 1, "agent[1].kind", "is missing"),
        (ONE + ONE, 5, "agent[2].name", "already the name of agent[1] on line 2"),
        # choices
        (ONE.replace('"claude"', '"clod"'), 3, "agent[1].kind", "claude, codex, gemini, aider"),
        (ONE + 'restart = "sometimes"\n', 4, "agent[1].restart", "never, on-failure, always"),
        # commands
        ("[[agent]]\nname = 's'\nkind = 'shell'\n", 1, "agent[1].command", "is missing"),
        (ONE + 'command = ""\n', 4, "agent[1].command", "is empty"),
        (ONE + 'command = "   "\n', 4, "agent[1].command", "is empty"),
        (ONE + "command = []\n", 4, "agent[1].command", "is empty"),
        (ONE + 'command = ["", "x"]\n', 4, "agent[1].command", "empty word"),
        (ONE + 'command = "claude \'oops"\n', 4, "agent[1].command", "No closing quotation"),
        (ONE + 'command = ["a", 1]\n', 4, "agent[1].command", "holds the integer 1"),
        (ONE + "args = 2\n", 4, "agent[1].args", "or an array of strings"),
        # prompts
        (ONE + 'prompt = "a"\nprompt_file = "p.md"\n', 5, "agent[1].prompt_file", "prompt"),
        (ONE + 'prompt = ""\n', 4, "agent[1].prompt", "is empty"),
        (ONE + 'prompt_file = "gone.md"\n', 4, "agent[1].prompt_file", "gone.md"),
        # env
        (ONE + 'env = { "1X" = "a" }\n', 4, "agent[1].env.1X", "not a variable name"),
        (ONE + "\n[agent.env]\nOK = 'a'\nN = 1\n", 7, "agent[1].env.N", "put the value in quotes"),
        (ONE + "env.FLAG = true\n", 4, "agent[1].env.FLAG", "not the boolean true"),
        # the agent array
        ('agent = "claude"\n', 1, "agent", "array of tables, one [[agent]] header per agent"),
        ("[agent]\nname = 'a'\n", 1, "agent", "array of tables"),
        ("agent = [1]\n", 1, "agent[1]", "must be a table"),
        # worktrees and base
        ('worktrees = ""\n', 1, "worktrees", "is empty"),
        ('worktrees = "{repo"\n', 1, "worktrees", "only placeholders are {repo}"),
        ('worktrees = "../{user}"\n', 1, "worktrees", "only placeholders are {repo}"),
        ('worktrees = "../{{repo}}"\n', 1, "worktrees", "no other braces"),
        ('base = ""\n', 1, "base", "is empty"),
        ('base = "my branch"\n', 1, "base", "no spaces"),
        # numbers
        ("[backoff]\nclean = 0\n", 2, "backoff.clean", "above 0"),
        ("[backoff]\nfailure = -1.0\n", 2, "backoff.failure", "above 0"),
        ("[backoff]\ncrash_seconds = inf\n", 2, "backoff.crash_seconds", "above 0"),
        ("[backoff]\ncrash_seconds = nan\n", 2, "backoff.crash_seconds", "above 0"),
        ("[backoff]\ncrash_runs = 0\n", 2, "backoff.crash_runs", "whole number above 0"),
        ("[backoff]\ncrash_runs = 2.5\n", 2, "backoff.crash_runs", "whole number above 0"),
        ("width = 39\n", 1, "width", "from 40 to 1000"),
        ("width = 1001\n", 1, "width", "from 40 to 1000"),
        ("height = 9\n", 1, "height", "from 10 to 500"),
        ("height = 501\n", 1, "height", "from 10 to 500"),
    ],
)
def test_errors_name_line_key_and_what_is_allowed(
    text: str, line: int, key: str | None, says: str
) -> None:
    error = error_of(text)
    assert (error.line, error.key) == (line, key)
    assert says in error.problem
    assert str(error).startswith(f"{PATH}:{line}: ")


def test_missing_prompt_file_is_named_in_full(tmp_path: Path) -> None:
    error = error_of(ONE + 'prompt_file = "prompts/gone.md"\n', tmp_path)
    assert str(tmp_path / "prompts" / "gone.md") in error.problem


def test_empty_prompt_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("\n")
    assert "is empty" in error_of(ONE + 'prompt_file = "p.md"\n', tmp_path).problem


def test_agents_are_checked_in_order() -> None:
    error = error_of(ONE + '[[agent]]\nname = "b"\nkind = "nope"\n[[agent]]\nname = 3\n')
    assert (error.key, error.line) == ("agent[2].kind", 6)


# --- the file on disk ---------------------------------------------------------------------------


def test_load_config_reads_corral_toml(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text(ONE)
    assert find_config(tmp_path) == tmp_path / CONFIG_NAME
    config = load_config(tmp_path)
    assert config.path == str(tmp_path / CONFIG_NAME)
    assert only(config).name == "claude-1"


def test_load_config_without_a_file_says_what_to_do(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    with pytest.raises(ConfigError, match=r"corral init.*config\.example\.toml") as caught:
        load_config(tmp_path)
    assert (caught.value.path, caught.value.line) == (str(tmp_path / CONFIG_NAME), None)


def test_load_config_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_bytes(b'base = "\xff"\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(tmp_path)


# --- user settings ------------------------------------------------------------------------------


def test_user_settings_default_when_the_file_is_missing(tmp_path: Path) -> None:
    assert load_user_settings(tmp_path / "none.toml") == UserSettings()


def test_user_settings_are_read() -> None:
    settings = parse_user_settings(
        'theme = "nord"\n[keys]\nquit = "ctrl+q"\nattach = "a"\n'
        "[notifications]\nbell = false\ndesktop = false\nnotify_send = true\n",
        "u.toml",
    )
    assert settings == UserSettings(
        theme="nord",
        keys=(("quit", "ctrl+q"), ("attach", "a")),
        bell=False,
        desktop=False,
        notify_send=True,
    )


def test_load_user_settings_looks_in_the_user_config_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_user_settings() == UserSettings()
    (tmp_path / "corral").mkdir()
    (tmp_path / "corral" / "config.toml").write_text("[notifications]\nbell = false\n")
    assert load_user_settings().bell is False


def test_load_user_settings_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n')
    assert load_user_settings(path).theme == "nord"


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        ('themes = "x"\n', 1, "themes", 'did you mean "theme"'),
        ("theme = 1\n", 1, "theme", "must be a string"),
        ("[notifications]\nbel = true\n", 2, "notifications.bel", "bell, desktop, notify_send"),
        ('[notifications]\nbell = "yes"\n', 2, "notifications.bell", "true or false"),
        ("[keys]\nquit = 1\n", 2, "keys.quit", "must be a string"),
        ('[keys]\nquit = "ctrl q"\n', 2, "keys.quit", "no spaces"),
        ('[keys]\nquit = ""\n', 2, "keys.quit", "is empty"),
        ("keys = 1\n", 1, "keys", "must be a table"),
        ("theme = \n", 1, None, "not valid TOML"),
    ],
)
def test_user_settings_errors(text: str, line: int, key: str | None, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_user_settings(text, "u.toml")
    assert (caught.value.path, caught.value.line, caught.value.key) == ("u.toml", line, key)
    assert says in caught.value.problem


def test_unknown_binding_ids_are_errors_when_the_ids_are_known() -> None:
    text = '[keys]\nquit = "q"\nqiut = "x"\n'
    with pytest.raises(ConfigError, match='did you mean "quit"') as caught:
        parse_user_settings(text, "u.toml", binding_ids=["quit", "attach"])
    assert (caught.value.line, caught.value.key) == (3, "keys.qiut")


def test_user_keys_constants_match_the_settings() -> None:
    assert set(USER_KEYS) == {"theme", "keys", "notifications"}
    assert set(NOTIFICATION_KEYS) <= set(UserSettings.__dataclass_fields__)


def test_user_config_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_config_path() == tmp_path / "corral" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_config_path() == tmp_path / "home" / ".config" / "corral" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert user_config_path() == tmp_path / "home" / ".config" / "corral" / "config.toml"


def test_prices_table_overrides_a_default_and_adds_a_model(tmp_path: Path) -> None:
    from sessions.core.usage import Tokens

    text = (
        '[prices."claude-opus-5"]\ninput = 1.0\noutput = 2.0\n'
        '[prices."my-model"]\ninput = 3.0\noutput = 4.0\n'
    )
    config = parse_config(text, "corral.toml", tmp_path)
    assert config.prices is not None
    opus = config.prices.find("claude-opus-5-20261101")
    mine = config.prices.find("my-model")
    assert opus is not None and mine is not None
    assert opus.rates.cost(Tokens(input=1_000_000, output=1_000_000)) == 3.0
    assert mine.rates.cost(Tokens(input=1_000_000)) == 3.0


def test_a_bad_price_names_its_line_and_key(tmp_path: Path) -> None:
    text = 'base = "main"\n\n[prices."my-model"]\ninput = "cheap"\noutput = 4.0\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "corral.toml", tmp_path)
    assert caught.value.line == 4
    assert "input" in str(caught.value)


# --- coordination tables ------------------------------------------------------------------------


def test_coordination_tables_are_read_in_minutes_and_lists() -> None:
    config = parse(
        "[roles]\nwindow_minutes = 10\nbuilder_share = 0.25\nstall_minutes = 5\n"
        '[locks]\ndirs = ["tasks"]\nstale_minutes = 90\n'
        '[notes]\nfiles = ["NOTES.md"]\nmax_lines = 200\nquiet_days = 2\n'
        '[conflicts]\ntell = "warn"\n'
    )
    rules = config.rules
    assert rules is not None
    assert (rules.roles.window, rules.roles.builder_share, rules.roles.stall_after) == (
        600.0,
        0.25,
        300.0,
    )
    assert rules.locks.dirs == ("tasks",) and rules.locks.stale_after == 5400.0
    assert rules.notes.globs == ("NOTES.md",) and rules.notes.max_lines == 200
    assert rules.notes.quiet_after == 2 * 86400.0
    assert rules.tell == "warn"
    assert parse("").rules is None


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[conflicts]\ntell = "loud"\n', "conflicts.tell", "must be one of"),
        ("[roles]\nbuilder_share = 2\n", "roles.builder_share", "from 0 to 1"),
        ("[roles]\nwindow_minutes = 0\n", "roles.window_minutes", "above 0"),
        ("[locks]\ndirs = []\n", "locks.dirs", "non-empty list"),
        ('[locks]\ndirs = "current_tasks"\n', "locks.dirs", "a list of strings"),
        ("[notes]\nmax_line = 3\n", "notes.max_line", 'did you mean "max_lines"'),
    ],
)
def test_coordination_mistakes_name_the_key(text: str, key: str, words: str) -> None:
    error = error_of(text)
    assert error.key == key and words in str(error)
    assert error.line is not None


# --- summaries ----------------------------------------------------------------------------------

SUMMARIES = 'base = "main"\n\n[summaries]\n# a key added to this is on line 5\n'


def test_summaries_take_the_defaults_without_a_table_or_keys() -> None:
    assert parse(ONE).summaries == SummaryRules()
    assert parse("[summaries]\n").summaries == SummaryRules()
    assert parse(SUMMARIES).summaries == SummaryRules()


def test_every_summaries_key_is_read_in_the_unit_it_names() -> None:
    summaries = parse(
        '[summaries]\nenabled = true\nmodel = "claude-sonnet-5"\nhourly_cap = 2\n'
        "on_change = false\nevery_minutes = 2.5\ninput_tokens = 500\naway_minutes = 3\n"
        "redact = ['corp-[0-9]{6}', '\\bsecret\\b']\ntimeout = 600\n"
    ).summaries
    assert summaries == SummaryRules(
        enabled=True,
        model="claude-sonnet-5",
        hourly_cap_usd=2.0,
        on_change=False,
        every_minutes=2.5,  # minutes, not seconds
        input_tokens=500,
        away_minutes=3.0,
        redact=("corp-[0-9]{6}", r"\bsecret\b"),
        timeout=600.0,
    )
    assert isinstance(summaries.hourly_cap_usd, float) and isinstance(summaries.timeout, float)
    assert parse("[summaries]\ninput_tokens = 200000\n").summaries.input_tokens == 200_000
    assert parse("[summaries]\nhourly_cap = 0.05\n").summaries.hourly_cap_usd == 0.05


@pytest.mark.parametrize(
    ("bad", "key", "says"),
    [
        # types
        ('enabled = "yes"', "enabled", "true or false, not the string"),
        ("on_change = 1", "on_change", "true or false, not the integer 1"),
        ("model = 5", "model", "must be a string"),
        ('hourly_cap = "0.5"', "hourly_cap", "number of US dollars above 0, not the string"),
        ("every_minutes = true", "every_minutes", "number of minutes above 0, not the boolean"),
        ("input_tokens = 4000.0", "input_tokens", "whole number from 500 to 200000"),
        ("away_minutes = []", "away_minutes", "number of minutes above 0, not an array"),
        ('redact = "corp"', "redact", "a list of strings"),
        ("redact = [1]", "redact", "non-empty list of strings"),
        ('timeout = "30"', "timeout", "number of seconds above 0 and at most 600"),
        # values
        ('model = "  "', "model", "is empty"),
        ("hourly_cap = 0", "hourly_cap", "US dollars above 0"),
        ("hourly_cap = inf", "hourly_cap", "US dollars above 0"),
        ("every_minutes = -1", "every_minutes", "minutes above 0"),
        ("away_minutes = nan", "away_minutes", "minutes above 0"),
        ("input_tokens = 499", "input_tokens", "is 499: it must be from 500 to 200000"),
        ("input_tokens = 200001", "input_tokens", "from 500 to 200000"),
        ("timeout = 0", "timeout", "seconds above 0"),
        (
            "timeout = 600.5",
            "timeout",
            "is 600.5: it must be a number of seconds above 0 and at most 600",
        ),
        ("redact = []", "redact", "non-empty list"),
        ("redact = ['ok', '(unclosed']", "redact", '"(unclosed", which is not a Python regular'),
        ("redact = ['*x']", "redact", "nothing to repeat"),
        ("redact = ['ok', '[a-']", "redact", "not a Python regular expression"),
        # unknown keys
        ("hourly_cap_usd = 1", "hourly_cap_usd", 'did you mean "hourly_cap"'),
        ("every_minute = 5", "every_minute", 'did you mean "every_minutes"'),
        ("colour = 1", "colour", "allowed are enabled, model, hourly_cap"),
    ],
)
def test_summaries_mistakes_name_the_key_and_its_line(bad: str, key: str, says: str) -> None:
    error = error_of(SUMMARIES + bad + "\n")
    assert (error.line, error.key) == (5, f"summaries.{key}")
    assert says in error.problem
    assert str(error).startswith(f"{PATH}:5: summaries.{key}: ")


def test_summaries_must_be_a_table() -> None:
    error = error_of('base = "main"\nsummaries = true\n')
    assert (error.line, error.key) == (2, "summaries")
    assert "must be a table" in error.problem


@pytest.mark.parametrize("key", ["api_key", "ANTHROPIC_API_KEY", "key", "apiKey", "anthropic-key"])
def test_an_api_key_in_summaries_is_refused_with_where_it_belongs(key: str) -> None:
    secret = "sk-ant-do-not-print-me"
    error = error_of(f'{SUMMARIES}{key} = "{secret}"\n')
    assert (error.line, error.key) == (5, f"summaries.{key}")
    assert "the API key comes only from the ANTHROPIC_API_KEY environment variable" in error.problem
    assert "never from a file" in error.problem
    assert "did you mean" not in error.problem
    assert secret not in str(error)
