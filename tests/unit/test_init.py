"""`corral init`'s planning: which CLIs are found, what `--agents` and the questions accept, and
a corral.toml that the real parser reads as planned, with its comments, locks and notes only
when the repository has them, and an existing file never replaced without `force`."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sessions.adapters.config import load_config, parse_config
from sessions.adapters.repo import Repo
from sessions.commands.init import (
    ask_counts,
    check_absent,
    detect_clis,
    install_hints,
    missing_clis,
    parse_agents,
    plan_config,
    write_config,
)
from sessions.core.errors import CorralError
from sessions.core.model import Kind, Restart
from tests.helpers import git

FAKE_CLI = "#!/bin/sh\necho fake agent CLI\n"


def make_bin(folder: Path, *names: str) -> Path:
    """Real executables on a private PATH, so detection runs `shutil.which` for real."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        script = folder / name
        script.write_text(FAKE_CLI)
        script.chmod(0o755)
    return folder


def new_repo(root: Path, *paths: str, branch: str = "main") -> Repo:
    """A repository with one commit holding `paths` (a trailing '/' makes a folder)."""
    root.mkdir()
    git(root, "init", "-q", "-b", branch)
    (root / "README.md").write_text("# project\n")
    for path in paths:
        if path.endswith("/"):
            (root / path).mkdir(parents=True)
            (root / path / ".keep").write_text("")
        else:
            (root / path).write_text("- [ ] a task\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return Repo.discover(root)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return new_repo(tmp_path / "project")


@pytest.fixture
def found(tmp_path: Path) -> dict[Kind, str]:
    return detect_clis(str(make_bin(tmp_path / "bin", "claude", "codex")))


def agents_of(text: str, root: Path) -> list[tuple[str, str]]:
    config = parse_config(text, str(root / "corral.toml"), root)
    return [(agent.name, agent.kind.value) for agent in config.agents]


# --- detection ----------------------------------------------------------------------------------


def test_detects_the_executables_on_the_given_path(tmp_path: Path) -> None:
    folder = make_bin(tmp_path / "bin", "claude", "codex")
    (folder / "gemini").write_text(FAKE_CLI)  # not executable: not a CLI one can run
    (folder / "aider").mkdir()  # a folder by that name is not one either
    assert detect_clis(str(folder)) == {
        Kind.CLAUDE: str(folder / "claude"),
        Kind.CODEX: str(folder / "codex"),
    }


def test_detects_nothing_on_an_empty_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert detect_clis(str(tmp_path / "empty")) == {}


def test_searches_every_folder_of_the_path(tmp_path: Path) -> None:
    first = make_bin(tmp_path / "one", "gemini")
    second = make_bin(tmp_path / "two", "aider", "gemini")
    found = detect_clis(os.pathsep.join([str(first), str(second)]))
    assert found == {Kind.GEMINI: str(first / "gemini"), Kind.AIDER: str(second / "aider")}


# --- --agents -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "counts"),
    [
        ("claude:2,codex:1", {Kind.CLAUDE: 2, Kind.CODEX: 1}),
        (" Claude : 2 , gemini:0 ", {Kind.CLAUDE: 2, Kind.GEMINI: 0}),
        ("aider", {Kind.AIDER: 1}),
        ("sim:3", {Kind.SIM: 3}),
    ],
)
def test_agents_values_that_parse(value: str, counts: dict[Kind, int]) -> None:
    assert parse_agents(value) == counts


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("claude:2,cursor:1", "'cursor'"),
        ("shell:1", "'shell'"),  # needs a command init cannot guess
        ("claude:two", "'two'"),
        ("claude:-1", "'-1'"),
        ("claude:1.5", "'1.5'"),
        ("claude:51", "'51'"),
        ("claude:", "''"),
        ("claude:1,,codex:1", "empty part"),
        ("claude:1,claude:2", "claude is named twice"),
        ("claude:0,codex:0", "no agent at all"),
    ],
)
def test_agents_values_refused_name_the_wrong_part(value: str, named: str) -> None:
    with pytest.raises(CorralError) as caught:
        parse_agents(value)
    message = str(caught.value)
    assert named in message
    assert message.startswith("--agents") and "\n" not in message


# --- the questions ------------------------------------------------------------------------------


def answering(*answers: str | None) -> tuple[Callable[[str], str | None], list[str]]:
    asked: list[str] = []
    queue: Iterator[str | None] = iter(answers)

    def ask(question: str) -> str | None:
        asked.append(question)
        return next(queue)

    return ask, asked


def test_enter_takes_one_and_a_number_is_taken(found: dict[Kind, str]) -> None:
    ask, asked = answering("", "3")
    assert ask_counts(found, ask) == {Kind.CLAUDE: 1, Kind.CODEX: 3}
    assert "Claude Code" in asked[0] and found[Kind.CLAUDE] in asked[0] and "[1]" in asked[0]
    assert "Codex CLI" in asked[1]


def test_a_wrong_answer_is_asked_again(found: dict[Kind, str]) -> None:
    ask, asked = answering("two", "99", "2", "0")
    assert ask_counts(found, ask) == {Kind.CLAUDE: 2, Kind.CODEX: 0}
    assert len(asked) == 4 and "from 0 to 50" in asked[1]


def test_end_of_input_takes_the_defaults_for_the_rest(found: dict[Kind, str]) -> None:
    ask, asked = answering(None)
    assert ask_counts(found, ask) == {Kind.CLAUDE: 1, Kind.CODEX: 1}
    assert len(asked) == 1


def test_no_agent_at_all_is_refused(found: dict[Kind, str]) -> None:
    ask, _ = answering("0", "0")
    with pytest.raises(CorralError, match="at least one"):
        ask_counts(found, ask)


# --- the planned file ---------------------------------------------------------------------------


def test_one_agent_per_cli_found_each_with_a_comment(repo: Repo, found: dict[Kind, str]) -> None:
    text = plan_config(repo, None, found)
    config = parse_config(text, str(repo.config_path), repo.root)
    assert [(a.name, a.kind) for a in config.agents] == [
        ("claude-1", Kind.CLAUDE),
        ("codex-1", Kind.CODEX),
    ]
    assert all(a.restart is Restart.ON_FAILURE for a in config.agents)
    assert config.base == "main"
    lines = text.splitlines()
    headers = [index for index, line in enumerate(lines) if line == "[[agent]]"]
    assert len(headers) == len(config.agents)  # else the loop below could check nothing
    for index in headers:
        assert lines[index - 1].startswith("# "), lines[index - 1]
    assert f"# Claude Code ({found[Kind.CLAUDE]})" in text
    assert text.startswith("# corral.toml")
    # The base line is explained by the comment right above it.
    base = next(index for index, line in enumerate(lines) if line.startswith("base ="))
    assert lines[base - 1].startswith("#") and "branch" in lines[base - 2]


def test_counts_give_numbered_names_in_the_files_order(repo: Repo, found: dict[Kind, str]) -> None:
    text = plan_config(repo, {Kind.CODEX: 1, Kind.CLAUDE: 2, Kind.GEMINI: 0}, found)
    assert agents_of(text, repo.root) == [
        ("claude-1", "claude"),
        ("claude-2", "claude"),
        ("codex-1", "codex"),
    ]


def test_a_kind_not_installed_is_written_with_how_to_install_it(
    repo: Repo, found: dict[Kind, str]
) -> None:
    text = plan_config(repo, {Kind.GEMINI: 1}, found)
    assert agents_of(text, repo.root) == [("gemini-1", "gemini")]
    assert "`gemini` is not on PATH yet; npm install -g @google/gemini-cli" in text
    config = parse_config(text, str(repo.config_path), repo.root)
    assert missing_clis(config, found) == [
        "gemini is not on PATH, so its agents cannot start yet: npm install -g @google/gemini-cli"
    ]


def test_no_progress_file_means_no_prompt_and_says_so(repo: Repo, found: dict[Kind, str]) -> None:
    text = plan_config(repo, None, found)
    config = parse_config(text, str(repo.config_path), repo.root)
    assert all(agent.prompt is None for agent in config.agents)
    assert "There is no PROGRESS.md here" in text


def test_progress_gives_the_agents_a_first_message(tmp_path: Path, found: dict[Kind, str]) -> None:
    repo = new_repo(tmp_path / "project", "PROGRESS.md")
    config = parse_config(plan_config(repo, None, found), "corral.toml", repo.root)
    assert {agent.prompt for agent in config.agents} == {
        "Read PROGRESS.md and take the next open task."
    }


def test_the_prompt_names_the_lock_folder(tmp_path: Path, found: dict[Kind, str]) -> None:
    repo = new_repo(tmp_path / "project", "PROGRESS.md", "current_tasks/")
    config = parse_config(plan_config(repo, None, found), "corral.toml", repo.root)
    prompt = config.agents[0].prompt
    assert prompt is not None and "PROGRESS.md" in prompt and "current_tasks/" in prompt


def test_no_locks_or_notes_lines_without_such_paths(repo: Repo, found: dict[Kind, str]) -> None:
    text = plan_config(repo, None, found)
    assert not re.search(r"^\[(locks|notes|roles)\]", text, re.MULTILINE)
    assert parse_config(text, "corral.toml", repo.root).rules is None


def test_locks_and_notes_the_repository_has(tmp_path: Path, found: dict[Kind, str]) -> None:
    repo = new_repo(
        tmp_path / "project", "PROGRESS.md", "current_tasks/", "completed_tasks/", "notes/"
    )
    text = plan_config(repo, None, found)
    rules = parse_config(text, "corral.toml", repo.root).rules
    assert rules is not None
    assert rules.locks.dirs == ("current_tasks",)
    assert rules.locks.done_dirs == ("completed_tasks",)
    assert rules.notes.globs == ("PROGRESS.md", "notes/**/*.md")
    # corral's default coordination paths already cover these: no [roles] table is needed.
    assert "[roles]" not in text
    data = tomllib.loads(text)
    assert set(data) == {"base", "locks", "notes", "agent"}


def test_other_lock_folders_become_coordination(tmp_path: Path, found: dict[Kind, str]) -> None:
    repo = new_repo(tmp_path / "project", "tasks/", "NOTES.md")
    rules = parse_config(plan_config(repo, None, found), "corral.toml", repo.root).rules
    assert rules is not None
    assert rules.locks.dirs == ("tasks",)
    assert rules.locks.done_dirs == ("completed_tasks",)  # the default, not written
    assert rules.notes.globs == ("NOTES.md",)
    assert rules.roles.is_coordination("tasks/fix-login.md")
    assert rules.roles.is_coordination("NOTES.md")
    assert rules.roles.is_coordination("PROGRESS.md")  # the defaults stay
    assert not rules.roles.is_coordination("src/app.py")


def test_files_and_folders_are_told_apart(tmp_path: Path, found: dict[Kind, str]) -> None:
    # A file named like a lock folder is no lock folder; a folder named PROGRESS.md is no note.
    repo = new_repo(tmp_path / "project", "current_tasks", "PROGRESS.md/", "progress.md")
    text = plan_config(repo, None, found)
    rules = parse_config(text, "corral.toml", repo.root).rules
    assert "[locks]" not in text
    assert rules is not None and rules.notes.globs == ("progress.md",)
    assert "Read progress.md" in text


def test_a_detached_head_leaves_base_out(repo: Repo, found: dict[Kind, str]) -> None:
    git(repo.root, "checkout", "-q", "--detach")
    text = plan_config(repo, None, found)
    assert parse_config(text, "corral.toml", repo.root).base is None
    assert "detached" in text
    # The base line is there, commented out, and says "main" once uncommented.
    commented = [line for line in text.splitlines() if line.startswith("# base =")]
    assert [tomllib.loads(line.removeprefix("# ")) for line in commented] == [{"base": "main"}]


def test_any_branch_name_is_quoted_right(tmp_path: Path, found: dict[Kind, str]) -> None:
    repo = new_repo(tmp_path / "project", branch='feature/é"quoted"')
    text = plan_config(repo, None, found)
    assert parse_config(text, "corral.toml", repo.root).base == 'feature/é"quoted"'


def test_no_cli_found_gives_a_sim_agent_and_an_example_per_kind(repo: Repo) -> None:
    text = plan_config(repo, None, {})
    assert agents_of(text, repo.root) == [("sim-1", "sim")]
    for hint in install_hints().values():
        assert hint in text
    # Each example works once uncommented: take its block, read it back, and add it to the file.
    examples: dict[str, dict[str, object]] = {}
    for block in commented_agents(text):
        uncommented = uncomment(block)
        (example,) = tomllib.loads(uncommented)["agent"]
        examples[example["kind"]] = example
        assert agents_of(text + "\n" + uncommented, repo.root) == [
            ("sim-1", "sim"),
            (example["name"], example["kind"]),
        ]
    assert sorted(examples) == sorted(kind.value for kind in install_hints())
    assert len(commented_agents(text)) == len(install_hints())  # one example per kind, no more
    for kind, example in examples.items():
        assert example["name"] == f"{kind}-1"


def commented_agents(text: str) -> list[str]:
    """The commented-out `[[agent]]` examples, each as its run of `# ` lines: found by their
    layout, so how the values inside are quoted is left to the TOML reader."""
    return re.findall(r"^# \[\[agent\]\]\n(?:# .*\n)+", text, re.MULTILINE)


def uncomment(block: str) -> str:
    return "".join(line.removeprefix("# ") for line in block.splitlines(keepends=True))


# --- writing ------------------------------------------------------------------------------------


def test_writes_a_new_file(repo: Repo, found: dict[Kind, str]) -> None:
    text = plan_config(repo, None, found)
    written = write_config(repo, text)
    assert repo.config_path.read_text() == text
    assert written.backup is None
    assert [a.name for a in load_config(repo.root).agents] == ["claude-1", "codex-1"]
    assert [p.name for p in repo.root.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_file_is_refused_and_kept(repo: Repo, found: dict[Kind, str]) -> None:
    old = b"# mine\r\n[[agent]]\r\nname = 'x'\r\nkind = \"shell\"\r\ncommand = 'bash'\r\n"
    repo.config_path.write_bytes(old)
    with pytest.raises(CorralError, match=r"already exists.*--force"):
        check_absent(repo)
    with pytest.raises(CorralError, match="already exists"):
        write_config(repo, plan_config(repo, None, found))
    assert repo.config_path.read_bytes() == old


def test_force_replaces_and_keeps_the_old_text(repo: Repo, found: dict[Kind, str]) -> None:
    old = b"not even TOML ["
    repo.config_path.write_bytes(old)
    text = plan_config(repo, None, found)
    written = write_config(repo, text, force=True)
    assert repo.config_path.read_text() == text
    assert written.backup is not None and written.backup.parent == repo.state_dir
    assert written.backup.read_bytes() == old
    again = write_config(repo, text, force=True)  # a second backup never overwrites the first
    assert again.backup is not None and again.backup != written.backup
    assert written.backup.read_bytes() == old


def test_force_writes_through_a_link(repo: Repo, found: dict[Kind, str], tmp_path: Path) -> None:
    target = tmp_path / "kept-elsewhere.toml"
    target.write_text("# old\n")
    repo.config_path.symlink_to(target)
    text = plan_config(repo, None, found)
    write_config(repo, text, force=True)
    assert repo.config_path.is_symlink() and target.read_text() == text


def test_a_dangling_link_counts_as_a_file(repo: Repo, found: dict[Kind, str]) -> None:
    repo.config_path.symlink_to(repo.root / "nowhere.toml")
    with pytest.raises(CorralError, match="already exists"):
        write_config(repo, plan_config(repo, None, found))
    assert repo.config_path.is_symlink() and not (repo.root / "nowhere.toml").exists()
