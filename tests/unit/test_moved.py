"""Modules that moved (``llamabook._moved``): each old path still imports, as the same module, with a
DeprecationWarning naming the new one; the public names are where they were."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import llamabook as lb
from llamabook import checks

OLD_PATHS = {
    "llamabook.batch": ("llamabook.grid", "run_grid"),
    "llamabook.server_batches": ("llamabook.grid.executors.batch", "BatchLimits"),
    "llamabook.batch_lines": ("llamabook.grid.lines", "read_jsonl"),
    "llamabook.checks": ("llamabook.evaluation.checks", "contains"),
    "llamabook.scoring": ("llamabook.evaluation.scores", "plot_pass_rate"),
    "llamabook.comparison": ("llamabook.evaluation.compare", "compare"),
}


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_a_moved_module_still_imports_from_its_old_path_with_a_deprecation_warning(old: str) -> None:
    new, name = OLD_PATHS[old]
    script = textwrap.dedent(f"""
        import warnings
        warnings.simplefilter("always")
        import {new} as new
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import {old} as old
            from {old} import {name}
        assert old is new and {name} is getattr(new, {name!r})
        (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
        print(warning.message)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{old} has moved to {new}: import it from there ({old} will be removed in a later release)"


def test_the_public_names_are_where_they_were() -> None:
    from llamabook.evaluation import compare, scores

    assert lb.checks is checks and lb.scores is scores.scores and lb.compare is compare.compare
    assert lb.Comparison is compare.Comparison
