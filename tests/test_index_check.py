"""_cd.compressed_indices_ok, the one-pass check of sparse index arrays that clears
the common input before the kernels index with it: it accepts exactly the structures
the numpy checks of _data._check_compressed accept (indptr from 0, non-decreasing,
ending within the index array; indices[:nnz] in range), for every int32/int64 mix."""

import numpy as np
import pytest

from fastlasso import _cd
from fastlasso._data import _check_compressed


def numpy_rule(indptr, indices, minor):
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] > len(indices):
        return False
    used = indices[: indptr[-1]]
    return bool(used.size == 0 or (used.min() >= 0 and used.max() < minor))


def structures(rng, n_cases=300):
    for case in range(n_cases):
        major, minor = rng.integers(1, 8), rng.integers(1, 8)
        counts = rng.integers(0, minor + 1, size=major)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        indices = rng.integers(0, minor, size=indptr[-1] + rng.integers(0, 3))
        kind = case % 6
        if kind == 1 and indices.size:  # out of range, above or below
            indices[rng.integers(indptr[-1] or 1) % indices.size] = rng.choice(
                [minor, minor + 5, -1, -(2**31) + 1])
        elif kind == 2 and major > 1:  # decreasing
            j = rng.integers(1, major)
            indptr[j] = indptr[j + 1] + 1
        elif kind == 3:  # past the end of indices
            indptr[-1] = len(indices) + 1
        elif kind == 4:  # not starting at 0
            indptr[0] = 1
        yield indptr, indices, minor


@pytest.mark.parametrize("ptr_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("idx_dtype", [np.int32, np.int64])
def test_same_verdict_as_the_numpy_rule(ptr_dtype, idx_dtype):
    rng = np.random.default_rng(0)
    verdicts = set()
    for indptr, indices, minor in structures(rng):
        indptr, indices = indptr.astype(ptr_dtype), indices.astype(idx_dtype)
        expected = numpy_rule(indptr, indices, minor)
        assert _cd.compressed_indices_ok(indptr, indices, minor) == expected
        verdicts.add(expected)
        if not expected:  # the caller then names the problem
            with pytest.raises(ValueError, match="Sparse X"):
                _check_compressed(indptr, indices, np.ones(len(indices)),
                                  len(indptr) - 1, minor, "csr")
    assert verdicts == {True, False}

