"""The atheris fuzz targets in ``fuzz/`` run clean on their seed corpora (so they do not rot).

The fuzzing itself (coverage-guided, minutes to hours) is run by hand: see ``fuzz/harnesses.py``.
"""

from __future__ import annotations

import pytest
from fuzz import harnesses, make_seeds

_PICKLES = make_seeds.pickle_seeds()
_CONTAINERS = make_seeds.container_seeds(_PICKLES)


@pytest.mark.parametrize("target", sorted(harnesses.TARGETS))
def test_target_accepts_every_seed(target: str) -> None:
    seeds = {
        "model_scan": _PICKLES + _CONTAINERS,
        "pickle": _PICKLES,
        "hdf5": [s for s in _CONTAINERS if s.startswith(b"\x89HDF")],
        "keras_config": [b'{"class_name": "Sequential", "config": {"layers": []}}', b"[[[", b"\xff"],
        "nemo": make_seeds.NEMO_SEEDS,
        "collectors": make_seeds.collector_seeds(_PICKLES + _CONTAINERS),
    }[target]
    assert seeds
    for data in seeds:
        harnesses.TARGETS[target](data)
        harnesses.TARGETS[target](data[: len(data) // 2])  # and truncated


def test_an_internal_error_counts_as_a_failure() -> None:
    issue = harnesses.Issue("container.error", harnesses.Verdict.UNSCANNABLE, harnesses.Severity.MEDIUM, "x")
    with pytest.raises(harnesses.ScannerBug):
        harnesses._check([issue])
