"""docs/protocol.md is enough to write a client: its examples decode, its tables match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest

from attune.cli import main
from attune.core import protocol as p
from attune.core.errors import CLOSE_CODES, ERROR_CODES, ErrorCode

DOC = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
CLIENT, _, SERVER = DOC.partition("## Server messages")
_BLOCK = re.compile(r"```json\n(.*?)```", re.S)


@pytest.mark.parametrize("example", _BLOCK.findall(CLIENT.partition("## Client messages")[2]))
def test_client_examples_decode(example: str) -> None:
    p.decoder.decode(example)


@pytest.mark.parametrize("example", _BLOCK.findall(SERVER))
def test_server_examples_decode(example: str) -> None:
    p.server_decoder.decode(example)


def test_every_message_type_has_an_example() -> None:
    for union, section in ((p.ClientMessage, CLIENT), (p.ServerMessage, SERVER)):
        for struct in union.__args__:  # type: ignore[attr-defined]
            for leaf in getattr(struct, "__args__", (struct,)):
                assert f'"type": "{leaf.__struct_config__.tag}"' in section, leaf.__name__


def test_error_and_close_code_tables_match_the_code() -> None:
    assert set(get_args(ErrorCode)) == set(ERROR_CODES), "ErrorCode and ERROR_CODES differ"
    for code, meaning in ERROR_CODES.items():
        assert f"| `{code}` | {meaning} |" in DOC, code
    for number, meaning in CLOSE_CODES.items():
        assert f"| {number} | {meaning} |" in DOC, number


def test_published_json_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocol-schema"]) == 0
    published = (Path(__file__).parent.parent / "docs" / "protocol.schema.json").read_text()
    assert json.loads(capsys.readouterr().out) == json.loads(published)
