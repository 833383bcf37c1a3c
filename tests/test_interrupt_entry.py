"""Every kernel entry checks for cancellation before it does any work.

The kernels (enet_cd_*, mtl_cd_*, prox_*, pn_*) check their thread's cancellation
token and pending signals when a call starts and then every few million touched
entries (_signals.pxd). The check at the start is what stops a CV or a path made of
many short solves, each far below the periodic check's interval: without it, a
cancelled fold thread would run its remaining solves to the end.

Deterministic and in-process: the test thread binds an already cancelled token
(fastlasso._interrupt) and fits a tiny problem, which touches a few hundred entries,
far fewer than the periodic check's interval. So the only check that can stop it is
the one at the entry: the first kernel call must raise KeyboardInterrupt, no kernel
may be called after it, and the estimator stays unfitted. The same fit without the
token must run to its end (the case is valid and the token does not leak). The
cases together must reach every kernel entry the extension modules define, so a new
layout or datafit is covered or fails here.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import fastlasso
from fastlasso import _cd, _cd_multitask, _interrupt, _logistic, _prox

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ENTRIES = {_cd: "enet_cd_", _cd_multitask: "mtl_cd_", _prox: "prox_", _logistic: "pn_"}


def _entry_names():
    return {(m.__name__, name) for m, prefix in ENTRIES.items() for name in dir(m)
            if name.startswith(prefix) and callable(getattr(m, name))}


def _layout(X, layout):
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "C":
        return np.ascontiguousarray(X)
    Xs = sp.csc_matrix(X)
    if layout == "csc64":
        Xs.indices = Xs.indices.astype(np.int64)
        Xs.indptr = Xs.indptr.astype(np.int64)
    return Xs


def _data(kind, layout, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 5)).astype(dtype)
    X[X < -0.8] = 0.0  # some zeros, so that the sparse layouts store fewer entries
    coef = np.array([1.0, -2.0, 0.0, 0.5, 0.0])
    y = X @ coef + 0.1 * rng.standard_normal(12)
    if kind == "multitask":
        y = np.column_stack([y, -y + rng.standard_normal(12)])
    elif kind == "binary":
        y = (y > 0).astype(int)
    elif kind == "multinomial":
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    return _layout(X, layout), y.astype(dtype) if kind in ("lasso", "multitask") else y


ESTIMATORS = {
    "lasso": lambda solver: fastlasso.Lasso(alpha=0.05, solver=solver),
    "multitask": lambda solver: fastlasso.MultiTaskLasso(alpha=0.05),
    "binary": lambda solver: fastlasso.LogisticRegression(C=1.0, l1_ratio=1.0),
    "multinomial": lambda solver: fastlasso.LogisticRegression(C=1.0, l1_ratio=1.0),
}
CASES = (
    [("lasso", solver, layout) for solver in ("cd", "fista", "subgradient")
     for layout in ("F", "C", "csc32", "csc64")]
    + [(kind, None, layout) for kind in ("multitask", "binary", "multinomial")
       for layout in ("F", "C", "csc32", "csc64")]
)


@pytest.fixture
def counted(monkeypatch):
    """Wrap every kernel entry to record its calls, in order."""
    calls = []
    for module, prefix in ENTRIES.items():
        for name in dir(module):
            fn = getattr(module, name)
            if name.startswith(prefix) and callable(fn):
                def wrapped(*args, _fn=fn, _key=(module.__name__, name), **kwargs):
                    calls.append(_key)
                    return _fn(*args, **kwargs)
                monkeypatch.setattr(module, name, wrapped)
    return calls


def _interrupted_fit(calls, kind, solver, layout, dtype):
    """Fit with a cancelled token bound to this thread: KeyboardInterrupt at the first
    kernel call, the estimator left unfitted. Returns the estimator."""
    X, y = _data(kind, layout, dtype)
    est = ESTIMATORS[kind](solver)
    token = _interrupt.CancelToken()
    token.cancel()
    previous = _interrupt.bind_token(token)
    try:
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    finally:
        _interrupt.bind_token(previous)
    assert previous is None
    assert len(calls) == 1, f"kernel calls after the cancelled entry: {calls}"
    assert not hasattr(est, "coef_")
    return est, X, y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, solver, layout", CASES)
def test_cancelled_thread_stops_at_the_first_kernel_entry(counted, kind, solver,
                                                           layout, dtype):
    est, X, y = _interrupted_fit(counted, kind, solver, layout, dtype)
    entry = counted[0]
    # without the token the same fit runs to its end, through the same entry
    counted.clear()
    est.fit(X, y)
    assert entry in counted
    assert np.all(np.isfinite(est.coef_))


def test_the_cases_reach_every_kernel_entry(counted):
    """Together the cases reach every kernel entry the extension modules define."""
    reached = set()
    for kind, solver, layout in CASES:
        for dtype in (np.float64, np.float32):
            counted.clear()
            _interrupted_fit(counted, kind, solver, layout, dtype)
            reached.update(counted)
    assert reached == _entry_names()
