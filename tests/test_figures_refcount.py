"""Rendering figures must not over-release ``None``.

PySide6 6.12.0 drops one reference to ``None`` too many on many calls (``processEvents``,
``mkPen`` …), about 700 per rendered figure. On Python 3.11 ``None`` is an ordinary object: after
a hundred or so figures in one process (a test suite, a study, a live window) its count reaches
zero and the interpreter aborts with ``Fatal Python error: none_dealloc``. pyproject.toml keeps
that release out; this test catches the next one. (From Python 3.12 ``None`` is immortal and its
count never moves.)
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np

from labctl.figures import Panel, Series, save_figure


def test_rendering_figures_keeps_the_reference_count_of_none(tmp_path: Path) -> None:
    line = Panel(title="loop", xlabel="field (T)", ylabel="V", series=[
        Series(np.linspace(-1, 1, 20), np.sign(np.linspace(-1, 1, 20)), "up")
    ])  # fmt: skip
    heat = Panel(title="R", xlabel="task", ylabel="after", image=np.eye(3), cell_format="{:.1f}")
    save_figure(tmp_path / "warm-up.png", [line, heat])
    gc.collect()
    before = sys.getrefcount(None)
    for i in range(3):
        save_figure(tmp_path / f"figure{i}.png", [line, heat])
    gc.collect()
    assert sys.getrefcount(None) >= before, "the Qt bindings over-release None (see pyproject)"
