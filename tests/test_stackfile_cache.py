"""A stack file read again with the same text is not parsed again (`ops.stackfile.read_document_config`), and
that memory never shows: an edited file is read afresh, a refusal is refused again, a caller's change to what it
got does not reach the next reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import stackfile
from ops.stackfile import StackFileError, read_document_config

GOOD = "config:\n  floyo-infra:tier: dev\n  floyo-infra:backend:\n    cpu: 256\n"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    parse = stackfile._parse

    def counted(path: Path, text: str) -> dict[str, object]:
        parsed.append(text)
        return parse(path, text)

    monkeypatch.setattr(stackfile, "_parse", counted)
    stackfile._document_config.cache_clear()
    return parsed


def test_the_same_text_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _counting(monkeypatch)
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(GOOD)
    first, second = read_document_config(path), read_document_config(path)
    assert first == second == {"floyo-infra:tier": "dev", "floyo-infra:backend": {"cpu": 256}}
    assert len(parsed) == 1


def test_an_edited_file_is_read_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _counting(monkeypatch)
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(GOOD)
    read_document_config(path)
    path.write_text(GOOD.replace("256", "512"))  # same length, same second: only the text tells them apart
    assert read_document_config(path)["floyo-infra:backend"] == {"cpu": 512}
    assert len(parsed) == 2


def test_a_caller_s_change_does_not_reach_the_next_reader(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(GOOD)
    got = read_document_config(path)
    got["floyo-infra:backend"]["cpu"] = 4096
    got.pop("floyo-infra:tier")
    assert read_document_config(path) == {"floyo-infra:tier": "dev", "floyo-infra:backend": {"cpu": 256}}


def test_a_refusal_is_refused_again(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  notnamespaced: 1\n")
    for _ in range(2):
        with pytest.raises(StackFileError, match=r"Pulumi\.x\.yaml:2: config key 'notnamespaced'"):
            read_document_config(path)
