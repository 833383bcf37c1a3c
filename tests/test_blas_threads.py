"""The kernels' BLAS thread budget (_blas_threads): while a kernel runs, the BLAS
libraries use at most its n_threads and never more than the process had (a user's
limit holds); the count the process had comes back afterwards, also after kernels ran
in worker threads (CV folds); kernels too small for a threaded level-3 call leave the
count alone; without threadpoolctl the fits still run."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import fastlasso
from fastlasso import _blas_threads, _cd
from fastlasso._blas_threads import kernel_blas_threads
from fastlasso._cancel import map_threads


def blas_threads():
    """The thread counts of the process's BLAS libraries."""
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads():
    """BLAS on 2 threads during the test (the count the kernels must lower)."""
    with threadpool_limits(limits=2, user_api="blas"):
        if not blas_threads() or set(blas_threads()) != {2}:
            pytest.skip("this BLAS cannot be set to 2 threads")
        yield


@pytest.fixture
def kernel_calls(monkeypatch):
    """The BLAS thread counts seen inside every call of the dense kernel."""
    seen = []
    real = _cd.enet_cd_dense

    def observed(*args, **kwargs):
        seen.append(blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(_cd, "enet_cd_dense", observed)
    return seen


def dense_problem(n=200, p=50, seed=0):
    """n * p^2 = 500,000: above _blas_threads.SMALL_LEVEL3 (so is a CV fold of 160)."""
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = X[:, :4] @ np.array([1.0, -2.0, 0.5, 1.5]) + 0.1 * rng.standard_normal(n)
    return X, y


def test_kernel_runs_on_its_thread_budget_and_the_count_comes_back(two_blas_threads,
                                                                   kernel_calls):
    X, y = dense_problem()
    fastlasso.lasso_path(X, y - y.mean(), alphas=[0.1, 0.05, 0.01])
    assert kernel_calls and all(counts == [1] * len(counts) for counts in kernel_calls)
    assert set(blas_threads()) == {2}


def test_cv_folds_in_threads_restore_the_count(two_blas_threads, kernel_calls):
    X, y = dense_problem(n=240)
    fastlasso.LassoCV(cv=3, n_jobs=2, alphas=8).fit(X, y)
    assert kernel_calls and all(set(counts) == {1} for counts in kernel_calls)
    assert set(blas_threads()) == {2}


def test_jobs_in_worker_threads_run_on_one_blas_thread(two_blas_threads):
    """map_threads sets the budget from the calling thread; the jobs see it, and a
    kernel block inside a job (a worker thread) leaves the count alone."""
    def job(k):
        with kernel_blas_threads(2):
            return blas_threads()

    for counts in map_threads(job, range(4), 2):
        assert set(counts) == {1}
    assert set(blas_threads()) == {2}


def test_the_largest_budget_of_the_running_kernels_holds(two_blas_threads):
    with kernel_blas_threads(1):
        assert set(blas_threads()) == {1}
        with kernel_blas_threads(2):
            assert set(blas_threads()) == {2}
        assert set(blas_threads()) == {1}
    assert set(blas_threads()) == {2}


def test_a_lower_count_of_the_user_holds(two_blas_threads, kernel_calls):
    """Lasso(n_jobs=4) runs its kernel on 4 threads, but its BLAS on no more than the 2
    the user allowed."""
    X, y = dense_problem()
    fastlasso.Lasso(alpha=0.05, n_jobs=4).fit(X, y)
    assert kernel_calls and all(set(counts) == {2} for counts in kernel_calls)
    assert set(blas_threads()) == {2}


def test_small_kernels_leave_the_count_alone(two_blas_threads, kernel_calls):
    X, y = dense_problem(n=60, p=40)  # n * p^2 = 96,000 < SMALL_LEVEL3
    fastlasso.Lasso(alpha=0.05).fit(X, y)
    assert kernel_calls and all(set(counts) == {2} for counts in kernel_calls)


def test_fits_run_without_threadpoolctl(monkeypatch, two_blas_threads, kernel_calls):
    """threadpoolctl missing (or failing to inspect the process): no limit, same fit."""
    X, y = dense_problem()
    expected = fastlasso.Lasso(alpha=0.05).fit(X, y).coef_
    monkeypatch.setattr(_blas_threads, "ThreadpoolController", None)
    monkeypatch.setitem(_blas_threads._state, "libraries", None)
    kernel_calls.clear()
    coef = fastlasso.Lasso(alpha=0.05).fit(X, y).coef_
    assert kernel_calls and all(set(counts) == {2} for counts in kernel_calls)
    np.testing.assert_allclose(coef, expected, rtol=1e-8, atol=1e-10)


def test_the_multitask_polish_runs_on_the_thread_budget(monkeypatch, two_blas_threads):
    """The multi-task polish (numpy/LAPACK on the support's normal matrix) runs on the
    kernels' budget too: a single-threaded fit never wakes the BLAS threads."""
    from fastlasso import _mt_polish

    seen = []
    real = _mt_polish.polish_mt

    def observed(*args, **kwargs):
        seen.append(blas_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(_mt_polish, "polish_mt", observed)
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((200, 60)))
    Y = X[:, :40] @ rng.standard_normal((40, 3)) + 0.1 * rng.standard_normal((200, 3))
    fastlasso.MultiTaskLasso(alpha=0.01, tol=1e-8).fit(X, Y)
    assert seen and all(counts == [1] * len(counts) for counts in seen)
    assert set(blas_threads()) == {2}


def test_a_block_within_the_budget_already_does_nothing(monkeypatch):
    """BLAS on one thread already (the user's or the environment's limit) and no block
    open: a kernel block neither sets a count nor registers itself (no bookkeeping)."""
    calls = []
    with threadpool_limits(limits=1, user_api="blas"):
        if not blas_threads() or set(blas_threads()) != {1}:
            pytest.skip("this BLAS cannot be set to 1 thread")
        for lib in _blas_threads._libraries():
            monkeypatch.setattr(lib, "set_num_threads",
                                lambda n, lib=lib: calls.append((lib, n)))
        with kernel_blas_threads(1):
            assert not _blas_threads._running
            assert set(blas_threads()) == {1}
        with kernel_blas_threads(2):  # a larger budget never raises the count
            assert not _blas_threads._running
            assert set(blas_threads()) == {1}
    assert calls == []
