"""plottr, the viewer qcodes users open their databases with, reads a labctl run: its qcodes
loader node (what ``plottr-inspectr`` / ``autoplot`` use) gives the run's dependent quantities on
their setpoint axes, with units, and the values labctl stored. Needs the ``plottr`` extra
(``pip install -e ".[plottr]"``); skipped without it."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

import labctl.notebook as lab

# found, not imported: plottr imports Qt and pyqtgraph's flowchart, which only this test needs
pytestmark = pytest.mark.skipif(
    find_spec("plottr") is None, reason='plottr is not installed (pip install -e ".[plottr]")'
)


def test_plottr_loader_opens_a_labctl_run_with_axes_and_units(tmp_path: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from labctl.figures import qt_app

    qt_app()  # plottr's nodes are Qt objects
    from plottr.data.qcodes_dataset import QCodesDSLoader, get_runs_from_db

    db = tmp_path / "lab.db"
    station = lab.open_station(db=db, progress=False)
    station.run("hall-loop", field_max_T=0.04, step_T=0.004)
    run = station.run("gate-program", tolerance_T=0.002, step_T=0.003, loops_per_verify=1)
    assert run.status == "completed", run.error

    # plottr's run list (the inspectr window) sees both runs by their protocol names
    listed = get_runs_from_db(str(db))
    assert [listed[i]["name"] for i in sorted(listed)] == ["hall-loop", "gate-program"]

    # (setpoint axis and its unit, dependent and its unit) as each protocol declares them
    for run_id, (axis, axis_unit, dependent, unit) in {
        1: ("field_set_T", "T", "v_hall_V", "V"),  # a loop: V_xy against the field setpoint
        2: ("step", "", "hc_T", "T"),  # gate programming: Hc after each verification step
    }.items():
        loader = QCodesDSLoader("loader")
        loader.pathAndId = (str(db), run_id)  # the loader node loads on this option
        data = loader.outputValues()["dataOut"]
        assert data is not None and data.validate()
        assert data.meta_val("qcodes_runId") == run_id
        frame = lab.load_run(run_id, db).to_pandas()
        # a column recorded at its own rate (gate-program's Hc: once per verification) gets
        # its own copy of the axis in plottr ("step_3"), holding the setpoints of its points
        (shown,) = data.axes(dependent)
        assert shown == axis or shown.startswith(f"{axis}_"), (run_id, shown)
        assert data[dependent]["unit"] == unit and data[shown]["unit"] == axis_unit
        assert data.label(dependent) == f"{dependent} ({unit})" if unit else dependent
        # every stored point, in order, as labctl reads it
        taken = frame[dependent].notna().to_numpy()
        assert taken.sum() >= 2
        np.testing.assert_array_equal(data.data_vals(dependent), frame[dependent][taken])
        np.testing.assert_array_equal(data.data_vals(shown), frame[axis][taken])
