"""Outputs: each is a view of one stored scan, rendered to text.

Renderers are imported only when asked for, so the CLI starts fast whatever formats exist.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from aispm.model import ScanResult

#: format name -> module under aispm.outputs exposing ``render(result, **options) -> str``
FORMATS: dict[str, str] = {
    "json": "json",
    "sarif": "sarif",
    "cyclonedx": "cyclonedx",
    "spdx": "spdx",
}

#: file name used for each format when a whole report directory is written
REPORT_FILES: dict[str, str] = {
    "json": "aispm-scan.json",
    "sarif": "aispm.sarif",
    "cyclonedx": "aibom.cdx.json",
    "spdx": "aibom.spdx.json",
}


def renderer(fmt: str) -> Callable[..., str]:
    """The render function of ``fmt``; KeyError for an unknown format."""
    module = importlib.import_module(f"aispm.outputs.{FORMATS[fmt]}")
    fn: Callable[..., str] = module.render
    return fn


def render(fmt: str, result: ScanResult, **options: Any) -> str:
    return renderer(fmt)(result, **options)
