"""What ``%%llama`` accepts (``magics/parsing.py``): a ``--var`` written without its ``=`` is shown how to write it."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from llamabook import magics


@pytest.mark.parametrize(
    "line, written",
    [
        ("--var tone friendly", "--var tone=friendly"),
        ("--var=tone friendly", "--var tone=friendly"),
        ("-m x --var tone very friendly --max-tokens 4", "--var 'tone=very friendly'"),
        ("--var a=1 --var tone friendly", "--var tone=friendly"),
    ],
)
def test_a_var_without_equals_followed_by_a_word_says_name_equals_value(line: str, written: str) -> None:
    with pytest.raises(UsageError) as wrong:
        magics.parse_cell_options(line)
    assert str(wrong.value) == f"--var takes NAME=VALUE: write {written}"
    assert "unrecognized arguments" not in str(wrong.value)


def test_other_lines_parse_as_before() -> None:
    assert magics.parse_cell_options("--var tone=friendly -i hi").var == ["tone=friendly"]
    assert magics.parse_cell_options("--var tone -i hi").var == ["tone"]  # no stray word: parse_vars says what's wrong
    with pytest.raises(UsageError, match="unrecognized arguments: stray"):
        magics.parse_cell_options("-i hi stray")


def test_versions_and_repeated_checks_parse_and_are_in_the_help() -> None:
    args = magics.parse_cell_options("--over df -p tutor --versions 1,2 --check ok=has_city --check short=is_short")
    assert (args.over, args.versions, args.check) == ("df", "1,2", ["ok=has_city", "short=is_short"])
    assert magics.parse_cell_options("--over df").check is None
    help_text = magics.cell_help()
    assert "--versions N,N" in help_text and "--check NAME=VAR" in help_text
    assert "the body is saved first (a changed body becomes a new version) and runs alongside" in help_text
