"""The centring of y (_data): the unweighted mean is numpy's ``y.mean()`` to the bit,
refined once by the mean of y - mean; y_c and ||y_c||^2 follow from it; a y whose
centred values overflow is rejected by the scale check."""

import numpy as np
import pytest

from fastlasso._data import _centred_unchecked, make_design, weighted_mean


@pytest.mark.parametrize("seed", range(5))
def test_mean_is_numpys_refined(seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(1 + 97 * seed) * 10.0 ** rng.integers(-5, 6) + 3.0
    m = y.mean()
    m = float(m) + float((y - m).mean())
    assert weighted_mean(y, None) == m
    Y = y.reshape(-1, 1) if seed % 2 else y
    assert weighted_mean(Y, None) == m
    yc, y_mean, yy = _centred_unchecked(y, None, True, np.float64)
    assert y_mean == m
    np.testing.assert_array_equal(yc, y - m)
    assert yy == float((y - m) @ (y - m))


def test_constant_y_centres_to_zero():
    y = np.full(7, 1e100)
    yc, y_mean, yy = _centred_unchecked(y, None, True, np.float64)
    assert y_mean == 1e100 and yy == 0.0 and not yc.any()


def test_overflowing_centred_y_is_rejected():
    """||y_c||^2 overflows (finite y_c), or y_c itself does (y - mean is -inf)."""
    X = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 2)))
    design = make_design(X, None, True)
    for y in ([1.5e308, -1.5e308, 0.0], [1.7e308, -1.7e308, 1.7e308]):
        with pytest.raises(ValueError, match="y are too large"):
            design.center(np.array(y))
