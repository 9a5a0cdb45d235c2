"""The simulated agent's pure parts: line editor, scenario files, random plans, screen layout."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sessions.sim import editor as keys
from sessions.sim.editor import Key, LineEditor
from sessions.sim.main import parse_options
from sessions.sim.plan import plan_turn, seed_for
from sessions.sim.scenario import KINDS, ScenarioError, Step, load_scenario, parse_scenario
from sessions.sim.screen import SimScreen, View, cell_width, compose

PASTE_OPEN, PASTE_CLOSE = b"\x1b[200~", b"\x1b[201~"

# --- line editor -----------------------------------------------------------------------------


def names(events: list[Key]) -> list[str]:
    return [event.name for event in events]


def test_typing_and_enter_submit_one_prompt() -> None:
    editor = LineEditor()
    assert names(editor.feed(b"hello")) == [keys.CHANGED]
    assert editor.feed(b"\r") == [Key(keys.SUBMIT, "hello")]
    assert editor.buffer == ""


def test_backspace_removes_the_last_character_of_either_byte() -> None:
    editor = LineEditor()
    editor.feed(b"abc\x7f\x7fd\x08e")
    assert editor.buffer == "ae"


def test_backspace_on_an_empty_buffer_changes_nothing() -> None:
    editor = LineEditor()
    assert editor.feed(b"\x7f") == []


def test_bracketed_paste_is_taken_whole_with_cr_turned_into_newlines() -> None:
    editor = LineEditor()
    events = editor.feed(PASTE_OPEN + b"line one\rline two\r\nline three" + PASTE_CLOSE + b"\r")
    assert events == [Key(keys.CHANGED), Key(keys.SUBMIT, "line one\nline two\nline three")]


def test_a_paste_split_across_reads_and_inside_its_markers_still_arrives_once() -> None:
    editor = LineEditor()
    data = PASTE_OPEN + "fix ✓ this\rand that".encode() + PASTE_CLOSE + b"\r"
    submitted = [
        event
        for index in range(len(data))
        for event in editor.feed(data[index : index + 1])
        if event.name == keys.SUBMIT
    ]
    assert submitted == [Key(keys.SUBMIT, "fix ✓ this\nand that")]


def test_escape_sequences_inside_a_paste_are_text_not_keys() -> None:
    editor = LineEditor()
    events = editor.feed(PASTE_OPEN + b"a\x1b[Ab\x03" + PASTE_CLOSE)
    assert names(events) == [keys.CHANGED]
    assert editor.buffer == "a\x1b[Ab\x03"


def test_enter_on_a_blank_buffer_submits_nothing() -> None:
    editor = LineEditor()
    assert names(editor.feed(b"   \r")) == [keys.CHANGED]


def test_backslash_enter_adds_a_newline_instead_of_submitting() -> None:
    editor = LineEditor()
    editor.feed(b"one\\\rtwo")
    assert editor.feed(b"\r") == [Key(keys.SUBMIT, "one\ntwo")]


def test_lone_escape_is_the_esc_key_only_after_the_timeout() -> None:
    editor = LineEditor()
    assert editor.feed(b"\x1b") == []
    assert editor.pending_escape
    assert editor.timeout() == [Key(keys.ESCAPE)]
    assert not editor.pending_escape
    assert editor.timeout() == []


def test_arrow_keys_are_not_mistaken_for_escape() -> None:
    editor = LineEditor()
    assert names(editor.feed(b"\x1b[A\x1bOB")) == [keys.UP, keys.DOWN]
    assert editor.buffer == ""


def test_escape_followed_by_a_letter_is_esc_then_the_letter() -> None:
    editor = LineEditor()
    assert names(editor.feed(b"\x1bx")) == [keys.ESCAPE, keys.CHANGED]
    assert editor.buffer == "x"


def test_control_keys() -> None:
    editor = LineEditor()
    assert names(editor.feed(b"\x03\x04")) == [keys.INTERRUPT, keys.EOF]
    editor.feed(b"one two")
    editor.feed(b"\x17")
    assert editor.buffer == "one "
    editor.feed(b"\x15")
    assert editor.buffer == ""


def test_utf8_split_between_reads() -> None:
    editor = LineEditor()
    encoded = "é❯".encode()
    for index in range(len(encoded)):
        editor.feed(encoded[index : index + 1])
    assert editor.buffer == "é❯"


def test_with_capture_off_keys_are_reported_instead_of_typed() -> None:
    editor = LineEditor()
    editor.capture = False
    assert editor.feed(b"1\r") == [Key(keys.CHAR, "1"), Key(keys.ENTER)]
    assert editor.buffer == ""


# --- scenarios -------------------------------------------------------------------------------

VALID = """
seed = 7
speed = 0.5

[[step]]
do = "think"
seconds = 2

[[step]]
do = "say"
text = "Looking around."

[[step]]
do = "read"
path = "src/app.py"

[[step]]
do = "grep"
pattern = "def "

[[step]]
do = "edit"
path = "src/app.py"
old = "return 0"
new = "return 1"

[[step]]
do = "edit"
path = "src/app.py"

[[step]]
do = "write"
path = "notes/x.md"
text = "hello"

[[step]]
do = "bash"
argv = ["git", "status", "--short"]

[[step]]
do = "commit"
message = "Change things"

[[step]]
do = "progress"
tick = "first task"

[[step]]
do = "note"
topic = "handoff"
text = "Done."

[[step]]
do = "lock"
task = "Fix the parser"

[[step]]
do = "unlock"
task = "Fix the parser"

[[step]]
do = "ask"
path = "src/app.py"

[[step]]
do = "idle"

[[step]]
do = "crash"

[[step]]
do = "exit"
code = 3

[[step]]
do = "loop"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def test_a_valid_scenario_covers_every_kind(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, VALID))
    assert scenario.seed == 7
    assert scenario.speed == 0.5
    assert {step.do for step in scenario.steps} == set(KINDS)
    assert scenario.steps[0] == Step("think", seconds=2.0)
    assert scenario.steps[4] == Step("edit", path="src/app.py", old="return 0", new="return 1")
    assert scenario.steps[7].argv == ("git", "status", "--short")
    assert scenario.steps[-2] == Step("exit", code=3)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("seed = 1\n", "no steps"),
        ("[[step]]\nseconds = 1\n", "step 1: missing `do`"),
        ('[[step]]\ndo = "fly"\n', "step 1: unknown do = 'fly'"),
        ('[[step]]\ndo = "idle"\n[[step]]\ndo = "read"\n', "step 2 (read): missing `path`"),
        ('[[step]]\ndo = "think"\nseconds = "2"\n', "`seconds` must be a number"),
        ('[[step]]\ndo = "think"\nseconds = true\n', "`seconds` must be a number"),
        ('[[step]]\ndo = "read"\npaht = "x"\npath = "x"\n', "unknown key `paht`"),
        ('[[step]]\ndo = "read"\npath = "/etc/passwd"\n', "must be relative"),
        ('[[step]]\ndo = "edit"\npath = "../x.py"\n', "must be relative"),
        ('[[step]]\ndo = "think"\nseconds = -1\n', "must not be negative"),
        ('[[step]]\ndo = "bash"\nargv = []\n', "`argv` must not be empty"),
        ('[[step]]\ndo = "bash"\nargv = "git status"\n', "`argv` must be a list of strings"),
        ('[[step]]\ndo = "exit"\ncode = 300\n', "between 0 and 255"),
        ('[[step]]\ndo = "edit"\npath = "a"\nold = "x"\n', "`old` and `new` go together"),
        ('[[step]]\ndo = "progress"\n', "needs one of"),
        ('[[step]]\ndo = "lock"\ntask = " "\n', "`task` must not be empty"),
        ("step = 3\n", "no steps"),
        ("step = [1]\n", "step 1: must be a [[step]] table"),
        ('speed = 0\n[[step]]\ndo = "idle"\n', "`speed` must be a positive number"),
        ('seed = "x"\n[[step]]\ndo = "idle"\n', "`seed` must be an integer"),
        ('sed = 1\n[[step]]\ndo = "idle"\n', "unknown top-level key `sed`"),
        ("[[step]\n", "not valid TOML"),
        ('[[step]]\ndo = "loop"\n', "a loop needs steps before it"),
    ],
)
def test_each_kind_of_mistake_is_named_with_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.toml: cannot read the scenario"):
        load_scenario(tmp_path / "nope.toml")


def test_a_bad_scenario_is_a_usage_error_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[[step]]\ndo = "fly"\n')
    with pytest.raises(SystemExit) as caught:
        parse_options(["--scenario", str(path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(path) in err


def test_parse_scenario_accepts_a_plain_dict() -> None:
    scenario = parse_scenario({"step": [{"do": "exit"}]})
    assert scenario.steps == (Step("exit"),)


# --- options ---------------------------------------------------------------------------------


def test_resume_takes_an_optional_id_and_corral_style_session_ids() -> None:
    options = parse_options(["--resume", "--session-id", "abc"])
    assert options.resume
    assert options.session_id == "abc"
    assert parse_options(["--resume", "xyz"]).session_id == "xyz"


def test_the_prompt_may_be_positional_or_a_flag_and_the_seed_comes_from_the_name() -> None:
    assert parse_options(["do it", "--name", "alpha"]).prompt == "do it"
    assert parse_options(["--prompt", "do it"]).prompt == "do it"
    assert parse_options(["--name", "alpha"]).seed == seed_for("alpha")
    assert parse_options(["--name", "alpha", "--seed", "5"]).seed == 5


def test_speed_comes_from_the_flag_then_the_scenario_then_1(tmp_path: Path) -> None:
    path = str(write(tmp_path, 'speed = 0.5\n[[step]]\ndo = "idle"\n'))
    assert parse_options([]).speed == 1.0
    assert parse_options(["--scenario", path]).speed == 0.5
    assert parse_options(["--scenario", path, "--speed=2"]).speed == 2.0


@pytest.mark.parametrize("argv", [["--speed", "0"], ["--ask", "2"], ["a", "--prompt", "b"]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_options(argv)
    assert caught.value.code == 2


# --- random plans ----------------------------------------------------------------------------

FILES = ["README.md", "src/app.py", "src/util.py", "PROGRESS.md", "logo.png"]
TOOLS = {"read", "grep", "edit", "bash", "note"}


def test_random_turns_are_deterministic_for_a_seed() -> None:
    first = [plan_turn(random.Random(42), FILES, "alpha") for _ in range(3)]
    again = [plan_turn(random.Random(42), list(reversed(FILES)), "alpha") for _ in range(3)]
    assert first == again
    others = {plan_turn(random.Random(seed), FILES, "alpha") for seed in range(10)}
    assert len(others) > 1


def test_a_turn_makes_three_to_eight_tool_calls_on_text_files() -> None:
    rng = random.Random(1)
    for _ in range(50):
        turn = plan_turn(rng, FILES, "alpha", ask_chance=0.5)
        tools = [step for step in turn.steps if step.do in TOOLS]
        assert 3 <= len(tools) <= 8
        edited = {step.path for step in turn.steps if step.do == "edit"}
        assert edited <= {"README.md", "src/app.py", "src/util.py"}
        assert all(not step.path.endswith(".png") for step in turn.steps)
        thinks = [step.seconds for step in turn.steps if step.do == "think"]
        assert all(0.4 <= seconds <= 2.0 for seconds in thinks)


def test_a_locked_task_is_claimed_first_and_released_last() -> None:
    turns = [plan_turn(random.Random(seed), FILES, "alpha") for seed in range(40)]
    locked = [turn for turn in turns if turn.steps[0].do == "lock"]
    assert locked
    for turn in locked:
        assert turn.steps[-1] == Step("unlock", task=turn.steps[0].task)
        assert turn.steps[-2].do == "commit"


def test_seed_for_is_stable() -> None:
    assert seed_for("alpha") == seed_for("alpha") == 3504355690
    assert seed_for("alpha") != seed_for("beta")


def test_an_empty_tree_still_gets_a_file_to_work_on() -> None:
    turn = plan_turn(random.Random(3), [], "Agent-1")
    paths = {step.path for step in turn.steps if step.path and step.do != "grep"}
    assert paths <= {"sim_agent_1.py"}


# --- screen layout ---------------------------------------------------------------------------


def last_line(rows: list[str]) -> str:
    return next(row for row in reversed(rows) if row.strip())


@pytest.mark.parametrize(("width", "height"), [(40, 10), (80, 24), (160, 45)])
def test_the_footer_says_esc_to_interrupt_only_while_working(width: int, height: int) -> None:
    state = SimScreen()
    for number in range(30):
        state.add([f"⏺ Read(src/file_{number}.py)", "  ⎿  Read 3 lines"])
    rows, cursor = compose(state, width, height)
    assert len(rows) == height
    assert all(cell_width(row) <= width for row in rows)
    assert "esc to interrupt" not in last_line(rows)
    assert "? for shortcuts" in last_line(rows)
    assert any(row.startswith("❯ ") or row == "❯" for row in rows)
    assert cursor is not None

    state.view = View.WORKING
    state.verb = "Brewing"
    rows, _ = compose(state, width, height)
    assert "esc to interrupt" in last_line(rows)
    assert any(row in {f"{glyph} Brewing…" for glyph in "·✢✶✻✽*"} for row in rows)


def test_the_dialog_replaces_the_box() -> None:
    state = SimScreen(view=View.ASKING, question="src/app.py")
    rows, cursor = compose(state, 60, 10)
    text = "\n".join(rows)
    assert "Do you want to make this edit to src/app.py?" in text
    assert "❯ 1. Yes" in text
    assert "2. No" in text
    assert last_line(rows).strip() == "Esc to cancel · Tab to amend"
    assert cursor is None


def test_a_long_multi_line_buffer_keeps_the_box_and_footer_on_screen() -> None:
    state = SimScreen(buffer="\n".join(f"line {n} " + "x" * 80 for n in range(20)))
    rows, cursor = compose(state, 40, 10)
    assert "? for shortcuts" in last_line(rows)
    assert cursor is not None and 0 <= cursor[0] < 10 and 0 <= cursor[1] < 40


def test_rows_break_at_spaces_so_phrases_stay_whole() -> None:
    state = SimScreen(view=View.ASKING, question="src/some/deeply/nested/module.py")
    rows, _ = compose(state, 40, 10)
    assert " Do you want to make this edit to" in rows
    assert "src/some/deeply/nested/module.py?" in rows


def test_wide_characters_never_overflow_a_row() -> None:
    state = SimScreen()
    state.add(["⏺ " + "漢字" * 50])
    rows, _ = compose(state, 41, 10)
    assert all(cell_width(row) <= 41 for row in rows)
