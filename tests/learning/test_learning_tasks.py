"""Task sequences: shapes, seeded permutations, label maps, clean skip of missing data."""

from __future__ import annotations

import numpy as np
import pytest

from protocols.learning.tasks import TaskUnavailable, make_tasks


def test_permuted_digits_are_seeded_permutations_of_the_same_split() -> None:
    a = make_tasks("permuted-digits:3", seed=0)
    b = make_tasks("permuted-digits:3", seed=0)
    assert [t.name for t in a] == ["pdigits-1", "pdigits-2", "pdigits-3"]
    for ta, tb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ta.x_train, tb.x_train)
        assert ta.x_train.dtype == np.float32 and ta.n_features == 64 and ta.n_classes == 10
    # same samples, different pixel order: sorted rows agree, rows themselves do not
    np.testing.assert_array_equal(np.sort(a[0].x_train, 1), np.sort(a[1].x_train, 1))
    assert not np.array_equal(a[0].x_train, a[1].x_train)
    c = make_tasks("permuted-digits:1", seed=1)[0]
    assert not np.array_equal(a[0].y_test, c.y_test)


def test_split_mnist_has_binary_labels_and_the_right_digits() -> None:
    tasks = make_tasks("split-mnist:5", seed=0)
    assert [t.name for t in tasks][:2] == ["split-01", "split-23"]
    for t in tasks:
        assert t.n_features == 784 and t.n_classes == 2
        assert set(np.unique(t.y_train)) == {0, 1}
        assert len(t.y_train) + len(t.y_test) == 1000  # 500 images per digit


def test_medical_sequence_shares_width_and_is_standardised() -> None:
    bc, diab = make_tasks("medical", seed=0)
    assert bc.n_features == diab.n_features == 30
    assert np.all(diab.x_train[:, 10:] == 0.0)  # zero padding
    np.testing.assert_allclose(bc.x_train.mean(0), 0.0, atol=1e-4)
    assert abs(diab.y_train.mean() - 0.5) < 0.05  # target above the median


def test_fashion_mnist_is_used_if_installed_and_skipped_cleanly_otherwise() -> None:
    try:
        mnist, fashion = make_tasks("mnist-fashion", seed=0)
    except TaskUnavailable as err:
        assert "dataset-fashion-mnist" in str(err)
        pytest.skip(str(err))
    assert fashion.n_features == mnist.n_features == 784


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="known"):
        make_tasks("cifar:2")
