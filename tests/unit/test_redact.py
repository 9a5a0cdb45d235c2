"""Secrets leave agent output before a summary request does; ordinary agent talk stays.

The fake secrets are assembled when the tests run, so this file holds no string that a secret
scanner (or a push protection rule) would take for a real key.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.core.redact import REDACTED, Redactor

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"


def fake(prefix: str, length: int, alphabet: str = ALNUM) -> str:
    """A key of a realistic shape: the family's prefix and a random, repeatable body."""
    rng = random.Random(f"{prefix}{length}")
    return prefix + "".join(rng.choice(alphabet) for _ in range(length - 1)) + "7"


def redact(text: str) -> str:
    return Redactor().redact(text)


def test_an_anthropic_key_is_hidden_and_the_sentence_around_it_kept() -> None:
    key = fake("sk-ant-api03-", 95, URLSAFE)
    assert redact(f"the agent printed {key} into the log") == (
        f"the agent printed {REDACTED} into the log"
    )


def test_openai_keys_old_and_project_scoped_are_hidden() -> None:
    old = fake("sk-", 48)
    project = fake("sk-proj-", 156, URLSAFE)
    assert redact(f"tried {old} then {project}.") == f"tried {REDACTED} then {REDACTED}."


def test_every_kind_of_github_token_is_hidden() -> None:
    tokens = [fake(f"gh{kind}_", 36) for kind in "pousr"] + [
        fake("github_pat_11A", 82, ALNUM + "_")
    ]
    text = "pushing with " + " and ".join(tokens) + " now"
    assert redact(text) == "pushing with " + " and ".join([REDACTED] * 6) + " now"


def test_a_gitlab_token_is_hidden() -> None:
    token = fake("glpat-", 20, URLSAFE)
    assert redact(f"remote uses {token} for CI") == f"remote uses {REDACTED} for CI"


def test_slack_tokens_are_hidden() -> None:
    bot = "xoxb-" + fake("", 12, string.digits) + "-" + fake("", 13, string.digits) + "-abcDEF"
    user = fake("xoxp-", 40, ALNUM + "-")
    assert redact(f"posting as {bot} or {user} today") == (
        f"posting as {REDACTED} or {REDACTED} today"
    )


def test_aws_key_ids_and_the_secret_access_key_are_hidden() -> None:
    long_term = fake("AKIA", 16, string.ascii_uppercase + string.digits)
    session = fake("ASIA", 16, string.ascii_uppercase + string.digits)
    secret = fake("", 40, ALNUM + "/+")
    text = f"ids {long_term}, {session}\naws_secret_access_key = {secret}\nregion = eu-west-1"
    assert redact(text) == (
        f"ids {REDACTED}, {REDACTED}\naws_secret_access_key = {REDACTED}\nregion = eu-west-1"
    )


def test_a_google_api_key_is_hidden() -> None:
    key = fake("AIza", 35, URLSAFE)
    assert redact(f"maps?key={key}&q=x") == f"maps?key={REDACTED}&q=x"


def test_stripe_live_keys_are_hidden() -> None:
    secret = fake("sk_" + "live_", 24)
    restricted = fake("rk_" + "live_", 24)
    assert redact(f"charge with {secret} / {restricted} ok") == (
        f"charge with {REDACTED} / {REDACTED} ok"
    )


def test_a_jwt_is_hidden() -> None:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    jwt = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': '42'})}.{fake('', 43, URLSAFE)}"
    assert jwt.startswith("eyJ")
    assert redact(f"cookie session={jwt}; Path=/") == f"cookie session={REDACTED}; Path=/"


def test_a_private_key_block_is_replaced_whole() -> None:
    body = "\n".join(fake(f"MII{i}", 64, ALNUM + "+/") for i in range(5))
    block = f"-----BEGIN RSA {'PRIVATE'} KEY-----\n{body}\n-----END RSA {'PRIVATE'} KEY-----"
    assert (
        redact(f"cat id_rsa\n{block}\n$ next command") == f"cat id_rsa\n{REDACTED}\n$ next command"
    )


def test_a_private_key_block_cut_off_by_the_screen_loses_its_lines_too() -> None:
    body = "\n".join(fake(f"b3B{i}", 70, ALNUM + "+/") for i in range(3))
    text = f"$ cat key\n-----BEGIN OPENSSH {'PRIVATE'} KEY-----\n{body}\n~ (END)"
    assert redact(text) == f"$ cat key\n{REDACTED}\n~ (END)"


def test_bearer_tokens_are_hidden_but_the_header_stays_readable() -> None:
    token = fake("", 40, URLSAFE + ".")
    assert redact(f"curl -H 'Authorization: Bearer {token}' api") == (
        f"curl -H 'Authorization: Bearer {REDACTED}' api"
    )
    assert redact(f'headers = ["Bearer {token}"]') == f'headers = ["Bearer {REDACTED}"]'


def test_a_password_in_a_url_is_hidden_and_user_and_host_kept() -> None:
    assert redact("connecting to postgres://app:Tr0ub4dor3@db.internal:5432/app failed") == (
        f"connecting to postgres://app:{REDACTED}@db.internal:5432/app failed"
    )


def test_assignments_to_secret_names_hide_the_value_and_keep_the_name() -> None:
    forms = {
        "ANTHROPIC_API_KEY=not-a-known-shape": f"ANTHROPIC_API_KEY={REDACTED}",
        "export DB_PASSWORD='correct horse'": f"export DB_PASSWORD='{REDACTED}'",
        '{"client_secret": "s3cr3t", "id": 7}': f'{{"client_secret": "{REDACTED}", "id": 7}}',
        "apikey: k3y-value": f"apikey: {REDACTED}",
        "private_key = hush-hush": f"private_key = {REDACTED}",
        "AWS_ACCESS_KEY := abc123": f"AWS_ACCESS_KEY := {REDACTED}",
        "passwd=hunter2": f"passwd={REDACTED}",
        "github.token: abc123": f"github.token: {REDACTED}",
        "authToken = 'q1w2e3'": f"authToken = '{REDACTED}'",
        "Secret: opensesame": f"Secret: {REDACTED}",
        "auth=user:pw1": f"auth={REDACTED}",
    }
    for text, expected in forms.items():
        assert redact(f"before {text} after") == f"before {expected} after", text


def test_code_that_only_names_a_secret_is_left_alone() -> None:
    code = (
        "token_count = 5\n"
        "max_tokens=4096\n"
        '"input_tokens": 1523, "output_tokens": 88\n'
        "if not password_field:\n"
        "token = get_token()\n"
        "password = args.password\n"
        "secret = os.environ['SECRET']\n"
        "if token == expected:\n"
        'author = "Jane Austen"\n'
        "auth = None\n"
        'headers = {"Authorization": f"Bearer {token}"}\n'
    )
    assert redact(code) == code


def test_a_git_sha_and_ordinary_prose_pass_unchanged() -> None:
    text = (
        "Committed 3f2a9c1b7e4d5f6a8b9c0d1e2f3a4b5c6d7e8f90 on main after the tests passed.\n"
        "The login form now hides the password field; bearer authentication is next, and the\n"
        "secret to faster tests was fewer tokens. See https://example.com:8080/docs@v2 for more."
    )
    assert redact(text) == text


@given(
    before=st.text(max_size=80),
    kind=st.sampled_from(["", "api03-", "admin01-"]),
    body=st.text(alphabet=URLSAFE, min_size=8, max_size=120),
    after=st.text(max_size=80),
)
def test_no_anthropic_key_survives_whatever_surrounds_it(
    before: str, kind: str, body: str, after: str
) -> None:
    key = f"sk-ant-{kind}{body}"
    redacted = redact(before + key + after)
    assert key not in redacted
    assert REDACTED in redacted


def test_values_from_env_files_are_hidden_wherever_they_appear(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# OLD_TOKEN=commented-out-6\n"
        "\n"
        'export SERVICE_URL="https://svc.internal/v1?sig=q8Zx"\n'
        "SINGLE='single-quoted-1'\n"
        "PLAIN = plainvalue2  # trailing comment\n"
        "SHORT=ab12c\n"
        "DEBUG=true\n"
        "PORT=8080800\n"
        "NODE_ENV=production\n"
        "DB_HOST=db.example.internal\n"
        "DB_PASSWORD=sunshine\n"
        'GOOGLE_CREDENTIALS={"type": "service_account"}\n'
    )
    (tmp_path / ".env.local").write_text("LOCAL_ONLY=local-secret-3\n")
    (tmp_path / ".env.example").write_text("EXAMPLE=example-value-4\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".env").write_text("NESTED=nested-value-5\n")
    hidden = [
        "https://svc.internal/v1?sig=q8Zx",
        "single-quoted-1",
        "plainvalue2",
        "local-secret-3",
        "sunshine",
        '{"type": "service_account"}',
    ]
    kept = ["commented-out-6", "example-value-4", "nested-value-5", "ab12c", "true", "8080800"]
    kept += ["production", "db.example.internal"]
    redactor = Redactor.for_checkouts([tmp_path])
    assert redactor.redact("saw " + " ".join(hidden + kept)) == "saw " + " ".join(
        [REDACTED] * len(hidden) + kept
    )


def test_env_files_that_cannot_be_read_are_skipped(tmp_path: Path) -> None:
    good, odd = tmp_path / "good", tmp_path / "odd"
    good.mkdir()
    odd.mkdir()
    (good / ".env").write_text("TOKEN_A=value-from-good\n")
    (odd / ".env").mkdir()  # a virtualenv called .env
    (odd / ".env.old").symlink_to(odd / "gone")
    (odd / ".env.bin").write_bytes(b"BINARY=\xff\xfe-still-a-value\n")
    redactor = Redactor.for_checkouts([tmp_path / "missing", odd, good])
    assert redactor.redact("value-from-good and the rest") == f"{REDACTED} and the rest"


def test_literal_values_are_hidden() -> None:
    redactor = Redactor(values=["hunter2hunter2", "", "  "])
    assert redactor.redact("login hunter2hunter2 worked") == f"login {REDACTED} worked"
    assert redactor.redact("nothing here") == "nothing here"


def test_user_patterns_are_hidden_on_top_of_the_built_in_ones() -> None:
    redactor = Redactor([r"INTERNAL-\d{6}", r"ref=(?P<secret>\w+)"])
    key = fake("sk-ant-api03-", 40, URLSAFE)
    assert redactor.redact(f"ticket INTERNAL-123456 ref=abc {key}; INTERNAL-12345 stays") == (
        f"ticket {REDACTED} ref={REDACTED} {REDACTED}; INTERNAL-12345 stays"
    )
    assert Redactor().redact("ticket INTERNAL-123456") == "ticket INTERNAL-123456"


def test_a_bad_user_pattern_is_a_value_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as raised:
        Redactor([r"ok-\d+", r"INTERNAL-(\d{6}"])
    assert r"'INTERNAL-(\d{6}'" in str(raised.value)
    assert "missing )" in str(raised.value)
    with pytest.raises(ValueError, match=re.escape("a{99999999999}")):
        Redactor.for_checkouts([tmp_path], ["a{99999999999}"])


def test_redact_lines_finds_a_block_across_lines_and_keeps_one_line_per_line() -> None:
    lines = [
        "before",
        f"-----BEGIN {'PRIVATE'} KEY-----",
        fake("MII", 64, ALNUM + "+/"),
        f"-----END {'PRIVATE'} KEY-----",
        f"token: {fake('ghp_', 36)}",
    ]
    assert Redactor().redact_lines(lines) == [
        "before",
        REDACTED,
        "",
        "",
        f"token: {REDACTED}",
    ]
    assert Redactor().redact_lines(iter([])) == []
