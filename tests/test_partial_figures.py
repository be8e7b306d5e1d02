"""Every protocol's figure is drawn for a run that ended early: an empty result and points
that stop anywhere (columns never recorded are NaN)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labctl.engine import draw_figure
from labctl.protocol import available_protocols

WITH_FIGURES = sorted(n for n, s in available_protocols().items() if s.figure is not None)


def _partial(columns: list[str], rows: int, recorded: int) -> pd.DataFrame:
    """``rows`` points in which only the first ``recorded`` columns were ever written."""
    data = {c: np.arange(rows, dtype=float) * 1e-3 for c in columns[:recorded]}
    return pd.DataFrame(data)


@pytest.mark.parametrize("name", WITH_FIGURES)
@pytest.mark.parametrize("rows,recorded", [(1, 2), (3, 3), (5, 99)])
def test_the_figure_of_an_aborted_run_is_drawn(
    name: str, rows: int, recorded: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = available_protocols()[name]
    columns = ["t_s", *spec.columns]
    path = tmp_path / f"{name}.png"
    with caplog.at_level(logging.WARNING, logger="labctl"):
        draw_figure(spec, {}, _partial(columns, rows, recorded), path)
    assert "figure failed" not in caplog.text
    assert path.exists() and path.stat().st_size > 0


def test_an_aborted_gate_program_gets_its_figure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Aborted during the first loop: no Hc was ever recorded (was: figure failed: 'hc_T')."""
    from labctl.engine import execute
    from labctl.params import build_params
    from labctl.station import load_station

    spec = available_protocols()["gate-program"]

    def abort_soon(run) -> None:  # type: ignore[no-untyped-def]
        run.subscribers.append(
            lambda row: run.control.request_abort("test abort") if run.n_points >= 5 else None
        )

    with caplog.at_level(logging.WARNING, logger="labctl"):
        outcome = execute(
            spec,
            build_params(spec.params_type, {}, spec.name),
            load_station(None),
            tmp_path / "g.db",
            on_run=abort_soon,
            handle_signals=False,
        )
    assert outcome.status == "aborted" and outcome.points >= 5
    assert "figure failed" not in caplog.text
    assert outcome.figures and Path(outcome.figures[0]).exists()
