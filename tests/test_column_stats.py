"""Column statistics of sparse X (_cd.column_stats_csc*: the weighted column means mu,
the centred squared norms norm2 and the first gradient x_j^T y_c) against numpy, for
each kind of column the unit-weight statistics treat apart: empty, at most half full
(one pass, sum x^2 - n mu^2), more than half full (two passes), full (the dense
layout's sums), constant, and stored zeros."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from fastlasso._data import make_design, make_design_for_target


def _columns(n, rng):
    """n x 9 matrix, one kind of column each (see the module docstring)."""
    X = np.zeros((n, 9))
    X[3, 1] = 2.5  # one entry
    few = rng.choice(n, n // 2, replace=False)  # exactly half full, large offset:
    X[few, 2] = 1e4 + rng.standard_normal(few.size)  # sum x^2 >> norm2 if centred
    X[few[: n // 5], 3] = rng.standard_normal(n // 5)  # sparse
    many = rng.choice(n, n - 3, replace=False)  # more than half full
    X[many, 4] = 7.0 + rng.standard_normal(many.size)
    X[:, 5] = rng.standard_normal(n)  # full
    X[:, 6] = 3.0  # full and constant
    X[many, 7] = -1.5  # constant where stored, zero elsewhere: not constant
    return X


def _csc(X, explicit_zeros_col=8):
    """X as CSC (int32, sorted rows) with stored zeros at every third row of column
    explicit_zeros_col (scipy's own conversions drop them)."""
    data, indices, indptr = [], [], [0]
    for j in range(X.shape[1]):
        rows = np.flatnonzero(X[:, j])
        if j == explicit_zeros_col:
            rows = np.arange(0, X.shape[0], 3)
        data.append(X[rows, j])
        indices.append(rows)
        indptr.append(indptr[-1] + rows.size)
    indices = np.concatenate(indices).astype(np.int32)
    indptr = np.array(indptr, dtype=np.int32)
    return sp.csc_matrix((np.concatenate(data), indices, indptr), shape=X.shape)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n", [40, 41])
def test_sparse_column_statistics_match_numpy(fit_intercept, n):
    rng = np.random.default_rng(n)
    X = _columns(n, rng)
    y = rng.standard_normal(n) + 3.0
    A = _csc(X)
    assert A.nnz > np.count_nonzero(X)  # the stored zeros are there
    design, yc, _, xty = make_design_for_target(A, y, None, fit_intercept)
    mu = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    norm2 = ((X - mu) ** 2).sum(axis=0)
    norm2[[0, 8]] = 0.0  # empty / stored zeros only: constant
    if fit_intercept:
        norm2[6] = 0.0  # constant
    assert_allclose(design.mu, mu, rtol=1e-13, atol=0)
    assert_allclose(design.norm2, norm2, rtol=1e-11, atol=0)
    assert_array_equal(design.norm2 == 0, norm2 == 0)
    assert_allclose(xty, X.T @ yc, rtol=1e-12, atol=1e-12 * np.abs(X.T @ yc).max())
    # and the same without the first gradient
    plain = make_design(A, None, fit_intercept)
    assert_array_equal(plain.mu, design.mu)
    assert_array_equal(plain.norm2, design.norm2)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_full_sparse_columns_have_the_dense_statistics_to_the_bit(fit_intercept):
    """A column stored in full gets the dense layout's sums, in the same order: the
    same data give the same mu and norm2 in both layouts."""
    rng = np.random.default_rng(3)
    X = np.asfortranarray(rng.standard_normal((203, 6)) * 10 + 1.0 / 3.0)
    dense = make_design(X, None, fit_intercept)
    csc = make_design(sp.csc_matrix(X), None, fit_intercept)
    assert_array_equal(csc.mu, dense.mu)
    assert_array_equal(csc.norm2, dense.norm2)
