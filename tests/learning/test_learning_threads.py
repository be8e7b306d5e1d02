"""Training sizes BLAS's thread pool itself (issue 13: ``labctl train`` ran 5-8× slower than with
``OPENBLAS_NUM_THREADS=1``): one thread while :func:`train_sequence` runs, whatever the
environment says, ``LABCTL_BLAS_THREADS=N`` to change it; the setting outside is restored."""

from __future__ import annotations

from typing import Any

import numpy as np  # noqa: F401  (loads the BLAS that threadpoolctl reports)
import pytest
from threadpoolctl import threadpool_info

from protocols.learning import make_tasks, train_sequence
from protocols.learning.threads import ENV_VAR, blas_threads


def _blas_threads_now() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _tasks() -> list[Any]:
    return make_tasks("permuted-iris:2", 0)  # first, as the protocol does: loads scikit-learn


def _threads_while_training(tasks: list[Any]) -> list[list[int]]:
    seen: list[list[int]] = []

    def log(_row: dict[str, Any]) -> None:
        seen.append(_blas_threads_now())

    train_sequence(tasks, "none", hidden=(4,), epochs=1, batch=40, log=log)
    return seen


def test_training_runs_blas_on_one_thread_and_restores_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    tasks = _tasks()
    before = _blas_threads_now()
    seen = _threads_while_training(tasks)
    assert seen and all(threads == [1] * len(threads) for threads in seen)
    assert _blas_threads_now() == before


def test_the_environment_variable_sets_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "2")
    assert blas_threads() == 2
    assert all(threads == [2] * len(threads) for threads in _threads_while_training(_tasks()))


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_is_one_readable_error(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, bad)
    with pytest.raises(ValueError, match=f"{ENV_VAR}=.*positive integer"):
        blas_threads()
