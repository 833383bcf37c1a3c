"""The fitted Lasso minimises the textbook loss

    L(w, b) = 1/n sum_i (y_i - x_i w - b)^2 + lambda * sum_j |w_j|,  lambda = 2 alpha,

(L = 2 P), checked without the library's own objective code: by random and coordinate
perturbations, and against scipy.optimize on the smooth reformulation w = u - v,
u, v >= 0.
"""

import numpy as np
import pytest
import scipy.optimize

import fastlasso

from conftest import as_layout, make_regression_data

LAMBDA_FRACTION = 0.1  # lambda / lambda_max


def textbook_loss(X, y, w, b, lam):
    r = y - X @ w - b
    return np.mean(r * r) + lam * np.abs(w).sum()


def textbook_lambda(X, y, fit_intercept, fraction=LAMBDA_FRACTION):
    """fraction * lambda_max, lambda_max = 2 max_j |x~_j^T y~| / n: the point where the
    gradient of the MSE at w = 0 leaves [-lambda, lambda]."""
    Xc = X - X.mean(0) if fit_intercept else X
    yc = y - y.mean() if fit_intercept else y
    return fraction * 2 * np.abs(Xc.T @ yc).max() / X.shape[0]


def perturbations(p, fit_intercept, rng, n_random=200):
    """Directions in (w, b): every coordinate +-, and random dense/sparse ones."""
    k = p + 1 if fit_intercept else p
    dirs = [s * e for e in np.eye(k) for s in (1.0, -1.0)]
    for _ in range(n_random):
        d = rng.standard_normal(k)
        if rng.random() < 0.5:
            d *= rng.random(k) < 0.2
        dirs.append(d / max(np.linalg.norm(d), 1e-300))
    out = []
    for d in dirs:
        w_dir, b_dir = (d[:p], d[p]) if fit_intercept else (d, 0.0)
        out.append((w_dir, b_dir))
    return out


def lowest_perturbed_loss(X, y, w, b, lam, fit_intercept, seed=0):
    """min of L over (w, b) + eps * direction for eps in 1e-2 .. 1e-6."""
    rng = np.random.default_rng(seed)
    best = np.inf
    for w_dir, b_dir in perturbations(X.shape[1], fit_intercept, rng):
        for eps in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
            best = min(best, textbook_loss(X, y, w + eps * w_dir, b + eps * b_dir, lam))
    return best


@pytest.mark.parametrize("shape", [(40, 120), (300, 20)], ids=["wide", "tall"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_int"])
@pytest.mark.parametrize("layout", ["dense_F", "csc"])
def test_no_perturbation_lowers_textbook_loss(shape, fit_intercept, layout):
    """At Lasso(alpha = lambda / 2) no perturbation of (w, b) lowers L by more than the
    certified suboptimality 2 * tol * ||y - ybar||^2 / n."""
    X, y, _ = make_regression_data(*shape)
    lam = textbook_lambda(X, y, fit_intercept)
    tol = 1e-12
    est = fastlasso.Lasso(
        alpha=lam / 2, fit_intercept=fit_intercept, tol=tol, max_iter=100_000
    ).fit(as_layout(X, layout), y)
    w, b = est.coef_, est.intercept_
    L = textbook_loss(X, y, w, b, lam)
    yc = y - y.mean() if fit_intercept else y
    slack = 2 * tol * np.mean(yc * yc) + 1e-14 * L
    assert lowest_perturbed_loss(X, y, w, b, lam, fit_intercept) >= L - slack
    assert 0 < np.count_nonzero(w) < X.shape[1]  # the l1 term matters


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_int"])
def test_perturbation_check_detects_wrong_scaling(fit_intercept):
    """With alpha = lambda (instead of lambda / 2) the same check finds a lower loss:
    the check above can fail, and the factor 2 is not a matter of convention."""
    X, y, _ = make_regression_data(40, 120)
    lam = textbook_lambda(X, y, fit_intercept)
    est = fastlasso.Lasso(
        alpha=lam, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    w, b = est.coef_, est.intercept_
    L = textbook_loss(X, y, w, b, lam)
    assert lowest_perturbed_loss(X, y, w, b, lam, fit_intercept) < L - 1e-4 * L


def scipy_textbook_solution(X, y, lam, fit_intercept, positive):
    """argmin L by L-BFGS-B on z = (u, v, b): w = u - v, u, v >= 0 (v = 0 if positive),
    L = mean((y - X(u - v) - b)^2) + lambda sum(u + v), smooth in z."""
    n, p = X.shape

    def split(z):
        u, v = z[:p], z[p : 2 * p]
        return u, v, (z[2 * p] if fit_intercept else 0.0)

    def fun(z):
        u, v, b = split(z)
        r = y - X @ (u - v) - b
        g = -2 * X.T @ r / n
        grad = np.concatenate(
            [g + lam, -g + lam, [-2 * r.mean()] if fit_intercept else []]
        )
        return np.mean(r * r) + lam * (u.sum() + v.sum()), grad

    bounds = [(0, None)] * p + [(0, 0 if positive else None)] * p
    bounds += [(None, None)] if fit_intercept else []
    z0 = np.zeros(2 * p + fit_intercept)
    res = scipy.optimize.minimize(
        fun,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 20_000, "maxcor": 30},
    )
    u, v, b = split(res.x)
    return u - v, b


@pytest.mark.parametrize("shape", [(30, 8), (12, 25)], ids=["tall", "wide"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_int"])
@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
def test_agrees_with_scipy_on_smooth_reformulation(shape, fit_intercept, positive):
    X, y, _ = make_regression_data(*shape, n_informative=3, seed=1)
    lam = textbook_lambda(X, y, fit_intercept)
    w_ref, b_ref = scipy_textbook_solution(X, y, lam, fit_intercept, positive)
    est = fastlasso.Lasso(
        alpha=lam / 2,
        fit_intercept=fit_intercept,
        positive=positive,
        tol=1e-14,
        max_iter=100_000,
    ).fit(X, y)
    L_ref = textbook_loss(X, y, w_ref, b_ref, lam)
    L = textbook_loss(X, y, est.coef_, est.intercept_, lam)
    assert L <= L_ref + 1e-12 * L_ref  # at least as good as the generic solver
    assert L_ref - L <= 1e-8 * L_ref  # and the generic solver is close to optimal
    np.testing.assert_allclose(est.coef_, w_ref, atol=1e-6 * np.abs(w_ref).max())
    np.testing.assert_allclose(est.intercept_, b_ref, atol=1e-6 * max(1, abs(b_ref)))


def test_docstring_states_the_textbook_form():
    assert "lambda = 2 * alpha" in " ".join(fastlasso.Lasso.__doc__.split())
