"""Fits in parallel threads on shared read-only data.

The kernels run without the GIL, so fits in threads really overlap. Each fit owns all
its working memory: the results must be bit-identical to the same fits run one after
the other, the shared inputs unchanged, and no process-wide state (numpy error
state and global random state, scikit-learn config, BLAS/OpenMP thread limits,
warning filters, signal handlers, module-level settings) modified by a fit.

Paths, cross-validation (itself running folds in threads) and the proximal solvers
are run the same way. To cover a new estimator, add a factory to ESTIMATORS; a new
entry point, a job to _other_jobs.
"""

import signal
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

import fastlasso

from helpers import entry_point

# every job passes l1_ratio (the Lasso drops it)
ESTIMATORS = {name: entry_point(name) for name in ("Lasso", "ElasticNet")}


def _read_only(a):
    a.flags.writeable = False
    return a


@pytest.fixture(scope="module")
def shared():
    """Read-only inputs in every layout, shared by all threads."""
    rng = np.random.default_rng(0)
    n, p = 300, 120
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.3)
    y = X[:, :10] @ rng.standard_normal(10) + 0.1 * rng.standard_normal(n)
    tall = rng.standard_normal((2000, 40))
    y_tall = tall[:, :5] @ rng.standard_normal(5) + rng.standard_normal(2000)
    csc, csr = sp.csc_matrix(X), sp.csr_matrix(X)
    for m in (csc, csr):
        for a in (m.data, m.indices, m.indptr):
            _read_only(a)
    return {
        "dense_F": (_read_only(np.asfortranarray(X)), _read_only(y)),
        "dense_C32": (_read_only(X.astype(np.float32)), _read_only(y)),
        "csc": (csc, y),
        "csr": (csr, y),
        "tall_F": (_read_only(np.asfortranarray(tall)), _read_only(y_tall)),
        "weights": _read_only(rng.uniform(0.5, 2.0, n)),
    }


def _jobs():
    """A mix of fits touching every kernel path: dense data / lazy Gram / full Gram,
    CSC, float32, weights, random selection, multi-threaded sweeps."""
    jobs = []
    for k, (layout, frac) in enumerate(
        [
            (lay, f)
            for lay in ("dense_F", "dense_C32", "csc", "csr", "tall_F")
            for f in (0.3, 0.05, 0.01)
        ]
    ):
        for name in sorted(ESTIMATORS):
            jobs.append(
                {
                    "name": name,
                    "layout": layout,
                    "weighted": k % 2 == 0,
                    "params": {
                        "alpha": frac,
                        "l1_ratio": 0.5,
                        "tol": 1e-5 if layout == "dense_C32" else 1e-8,
                        "max_iter": 10_000,
                        "precompute": [False, True, "auto"][k % 3]
                        if layout.startswith("dense_F") or layout == "tall_F"
                        else "auto",
                        "selection": "random" if k % 4 == 1 else "cyclic",
                        "random_state": k,
                        "n_jobs": 2 if k % 5 == 0 else None,
                    },
                }
            )
    return jobs


def _run(job, shared):
    X, y = shared[job["layout"]]
    sw = shared["weights"] if job["weighted"] and X.shape[0] == 300 else None
    est = ESTIMATORS[job["name"]](**job["params"]).fit(X, y, sample_weight=sw)
    return est.coef_.copy(), est.intercept_, est.dual_gap_, est.n_iter_


def _global_state():
    return {
        "np.geterr": np.geterr(),
        "np.random": np.random.get_state(legacy=False),  # noqa: NPY002 (global stream)
        "sklearn": sklearn.get_config(),
        "threadpools": [
            (i["internal_api"], i["num_threads"]) for i in threadpool_info()
        ],
        "warnings": list(warnings.filters),
        "SIGINT": signal.getsignal(signal.SIGINT),
        "switchinterval": sys.getswitchinterval(),
        "modules": {
            mod: {
                k: repr(v)
                for k, v in vars(sys.modules[mod]).items()
                if not k.startswith("__")
                and not callable(v)
                and not isinstance(v, type(sys))
                # the one deliberate global: a memo of parameter sets that passed
                # scikit-learn's (pure) validation, which only skips re-checks
                and (mod, k) != ("fastlasso._param_check", "_passed")
            }
            for mod in sorted(sys.modules)
            if mod.startswith("fastlasso")
        },
    }


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key in before:
        if key == "np.random":
            assert before[key]["bit_generator"] == after[key]["bit_generator"]
            assert_array_equal(before[key]["state"]["key"], after[key]["state"]["key"])
            assert before[key]["state"]["pos"] == after[key]["state"]["pos"]
        else:
            assert before[key] == after[key], key


def _snapshot_inputs(shared):
    out = {}
    for key, value in shared.items():
        arrays = value if isinstance(value, tuple) else (value,)
        for i, a in enumerate(arrays):
            parts = (a.data, a.indices, a.indptr) if sp.issparse(a) else (a,)
            out[key, i] = [np.array(part, copy=True) for part in parts]
    return out


def test_parallel_fits_are_bit_identical_to_serial(shared):
    jobs = _jobs()
    inputs = _snapshot_inputs(shared)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every job must converge: no hidden warning
        state = _global_state()
        serial = [_run(job, shared) for job in jobs]
        _assert_same_state(state, _global_state())
        with ThreadPoolExecutor(max_workers=8) as pool:
            parallel = list(pool.map(lambda job: _run(job, shared), jobs))
            # the same jobs again, in reverse order, to vary which fits overlap
            reverse = list(pool.map(lambda job: _run(job, shared), jobs[::-1]))[::-1]
        _assert_same_state(state, _global_state())
    for job, s, p, r in zip(jobs, serial, parallel, reverse, strict=True):
        for other in (p, r):
            assert_array_equal(other[0], s[0], err_msg=str(job))
            assert other[1:] == s[1:], job
    assert _snapshot_inputs(shared).keys() == inputs.keys()
    for key, parts in _snapshot_inputs(shared).items():
        for a, b in zip(parts, inputs[key], strict=True):
            assert_array_equal(a, b, strict=True)


def test_threads_do_not_share_estimator_state(shared):
    """One estimator per thread, same parameters, different data: each gets the
    answer of its own data (nothing cached on the class or module)."""
    X, y = shared["dense_F"]
    targets = [np.roll(y, k) for k in range(12)]
    expected = [fastlasso.Lasso(alpha=0.05, tol=1e-8).fit(X, t).coef_ for t in targets]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(
            pool.map(
                lambda t: fastlasso.Lasso(alpha=0.05, tol=1e-8).fit(X, t).coef_, targets
            )
        )
    for e, g in zip(expected, got, strict=True):
        assert_array_equal(g, e)


def _path_job(path, X, y, **params):
    def run():
        out = getattr(fastlasso, path)(X, y, random_state=0, **params)
        return out[:3]

    return run


def _estimator_job(make, X, y, sample_weight=None):
    def run():
        est = make().fit(X, y, sample_weight=sample_weight)
        arrays = (est.coef_.copy(), np.array(est.intercept_), np.array(est.n_iter_))
        if hasattr(est, "mse_path_"):
            arrays += (est.mse_path_, np.array([est.alpha_, est.alpha_1se_]))
        return arrays

    return run


def _other_jobs(shared):
    """(description, callable returning arrays) for paths, CV and proximal solvers
    over every layout, with weights, Gram modes, several threads each."""
    sw = shared["weights"]
    grid = {"eps": 1e-2, "tol": 1e-6}
    jobs = []
    for layout in ("dense_F", "dense_C32", "csc", "csr", "tall_F"):
        X, y = shared[layout]
        w = sw if X.shape[0] == 300 else None
        for pre in (False, True, "auto") if layout.endswith("F") else ("auto",):
            jobs.append(
                (
                    f"lasso_path {layout} {pre}",
                    _path_job(
                        "lasso_path", X, y, alphas=15, precompute=pre, n_jobs=2, **grid
                    ),
                )
            )
        jobs.append(
            (
                f"enet_path {layout}",
                _path_job(
                    "enet_path",
                    X,
                    y,
                    l1_ratio=0.7,
                    alphas=10,
                    fit_intercept=True,
                    sample_weight=w,
                    **grid,
                ),
            )
        )
        cv = partial(
            fastlasso.LassoCV, cv=3, alphas=8, n_jobs=2, random_state=0, **grid
        )
        jobs.append((f"LassoCV {layout}", _estimator_job(cv, X, y, w)))
        for solver in ("fista", "ista", "subgradient"):
            make = partial(
                fastlasso.ElasticNet,
                alpha=0.05,
                l1_ratio=0.8,
                tol=1e-5,
                solver=solver,
                max_iter=300,
                n_jobs=2 if solver == "ista" else None,
            )
            jobs.append((f"{solver} {layout}", _estimator_job(make, X, y)))
    X, y = shared["dense_F"]
    make = partial(
        fastlasso.ElasticNetCV,
        l1_ratio=[0.5, 0.9],
        cv=3,
        alphas=8,
        n_jobs=3,
        selection="random",
        random_state=0,
        **grid,
    )
    jobs.append(("ElasticNetCV l1 list", _estimator_job(make, X, y, sw)))
    return jobs


def test_parallel_paths_cv_and_prox_fits_are_bit_identical_to_serial(shared):
    jobs = _other_jobs(shared)
    inputs = _snapshot_inputs(shared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # capped prox iterations
        state = _global_state()
        serial = [job() for _, job in jobs]
        with ThreadPoolExecutor(max_workers=6) as pool:
            parallel = list(pool.map(lambda job: job[1](), jobs))
            reverse = list(pool.map(lambda job: job[1](), jobs[::-1]))[::-1]
        _assert_same_state(state, _global_state())
    for (what, _), s, p, r in zip(jobs, serial, parallel, reverse, strict=True):
        for other in (p, r):
            assert len(other) == len(s)
            for a, b in zip(other, s, strict=True):
                assert_array_equal(a, b, err_msg=what, strict=True)
    for key, parts in _snapshot_inputs(shared).items():
        for a, b in zip(parts, inputs[key], strict=True):
            assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize(
    "fit",
    [
        lambda X, y: fastlasso.Lasso(alpha=0.05).fit(X, y),
        lambda X, y: fastlasso.lasso_path(X, y, alphas=5),
        lambda X, y: fastlasso.LassoCV(cv=3, alphas=5).fit(X, y),
    ],
    ids=["Lasso", "lasso_path", "LassoCV"],
)
def test_default_cyclic_fit_leaves_the_global_random_state_alone(shared, fit):
    X, y = shared["dense_F"]
    before = np.random.get_state(legacy=False)  # noqa: NPY002 (the global stream)
    fit(X, y)
    after = np.random.get_state(legacy=False)  # noqa: NPY002
    assert_array_equal(after["state"]["key"], before["state"]["key"])
    assert after["state"]["pos"] == before["state"]["pos"]
