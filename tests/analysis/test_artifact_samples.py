"""The container-level attack samples: each caught, each benign twin clean, no payload ever run."""

from __future__ import annotations

from pathlib import Path

import pytest

from aispm.analysis.artifact_report import Verdict
from aispm.analysis.model_scan import scan_model_file
from tests.analysis import artifact_samples as samples


@pytest.mark.parametrize("name", sorted(samples.MALICIOUS))
def test_each_technique_is_malicious(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(samples.MALICIOUS[name](tmp_path / "canary"))
    report = scan_model_file(path)
    assert report is not None and report.verdict is Verdict.MALICIOUS
    assert samples.EXPECT[name] in {i.rule for i in report.issues}
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize("name", sorted(samples.BENIGN))
def test_each_benign_twin_is_safe(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(samples.BENIGN[name]())
    report = scan_model_file(path)
    assert report is not None and report.verdict is Verdict.SAFE, report.issues


def test_expectations_cover_every_sample() -> None:
    assert set(samples.MALICIOUS) == set(samples.EXPECT)
