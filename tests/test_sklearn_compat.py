"""scikit-learn's observable contract where code written for it depends on details:
the exact texts of its errors and warnings, ``check_input=False``, the path functions'
``**params`` and deprecated spellings. (scikit-learn's own test suite checks these
with fastlasso patched in: see tests/sklearn_plugin.py.) Each expectation is
scikit-learn's: the reference objects are called side by side where they run."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn import linear_model
from sklearn.exceptions import ConvergenceWarning

import fastlasso

from conftest import gaussian_data

NOT_CONVERGED = (
    "Objective did not converge. You might want to increase the number of iterations, "
    "check the scale of the features or consider increasing regularisation."
)
PATHS = ["lasso_path", "enet_path"]


def _data(n=30, p=8, seed=0):
    return gaussian_data(n, p, seed=seed)


# ------------------------------------------------------------------ warnings and errors
@pytest.mark.parametrize("lib", [fastlasso, linear_model])
@pytest.mark.parametrize("layout", ["dense", "csc"])
@pytest.mark.parametrize("precompute", [False, True])
def test_convergence_warning_opens_with_sklearns_sentence(lib, layout, precompute):
    X, y = _data()
    Xl = sp.csc_matrix(X) if layout == "csc" else X
    est = lib.Lasso(alpha=1e-6, max_iter=1, tol=1e-14, precompute=precompute)
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(Xl, y)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert len(messages) == 1
    assert messages[0].startswith(NOT_CONVERGED + " Duality gap: ")


@pytest.mark.parametrize("lib", [fastlasso, linear_model])
def test_overflowing_data_raise_sklearns_non_finite_error(lib):
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.randint(0, 2, size=10)
    with (
        warnings.catch_warnings(),
        pytest.raises(ValueError, match="^Coordinate descent iterations resulted in "
                      "non-finite parameter values"),
    ):
        warnings.simplefilter("ignore")
        lib.ElasticNet(alpha=0.1).fit(X, y)


@pytest.mark.parametrize("lib", [fastlasso, linear_model])
def test_automatic_grid_for_l1_ratio_0_raises_sklearns_text(lib):
    X, y = _data()
    msg = (
        "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
        "supply a grid by providing your estimator with the appropriate `alphas=` "
        "argument."
    )
    with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
        lib.ElasticNetCV(l1_ratio=0, cv=3).fit(X, y)
    with pytest.raises(ValueError, match=msg.replace(".", r"\.")):
        lib.enet_path(X, y, l1_ratio=0, alphas=3)


@pytest.mark.parametrize("lib", [fastlasso, linear_model])
@pytest.mark.parametrize(
    "alphas, exc, match",
    [
        ((1, -1, -100), ValueError, r"^alphas\[1\] == -1, must be >= 0\.0\.$"),
        (
            (1, 1.0, "1"),
            TypeError,
            r"^alphas\[2\] must be an instance of float, not str",
        ),
    ],
)
def test_cv_alphas_are_checked_one_by_one_as_in_sklearn(lib, alphas, exc, match):
    X, y = _data()
    with pytest.raises(exc, match=match):
        lib.LassoCV(alphas=alphas, cv=3).fit(X, y)


# ------------------------------------------------------------------------- check_input
def test_check_input_false_requires_the_layout_sklearns_solver_reads():
    """check_input=False: a C-ordered X raises where scikit-learn's solver reads X
    directly (precompute False or the estimators' "auto", no sample_weight), as
    scikit-learn raises; a Fortran X gives the checked fit's result."""
    X, y = _data()
    Xc, Xf = np.ascontiguousarray(X), np.asfortranarray(X)
    for lib in (fastlasso, linear_model):
        with pytest.raises(ValueError):
            lib.ElasticNet(precompute=False).fit(Xc, y, check_input=False)
    with pytest.raises(ValueError, match="With check_input=False, X must be a "
                       "Fortran-contiguous .* got a 2-D C-ordered array"):
        fastlasso.ElasticNet().fit(Xc, y, check_input=False)
    with pytest.raises(ValueError, match="got a sparse csr matrix"):
        fastlasso.ElasticNet().fit(sp.csr_matrix(X), y, check_input=False)
    Xi = np.asfortranarray(X.astype(int))
    fortran_int = "got a 2-D Fortran-ordered array of dtype int"
    with pytest.raises(ValueError, match=fortran_int):
        fastlasso.ElasticNet().fit(Xi, y, check_input=False)
    ref = fastlasso.ElasticNet(alpha=0.05, tol=1e-12).fit(Xf, y)
    for X_in, params in [
        (Xf, {}),
        (sp.csc_matrix(X), {}),
        (Xc, {"sample_weight": np.ones(len(y))}),  # scikit-learn copies to weight X
        (Xc, {"precompute": True}),  # scikit-learn reads the Gram matrix only
    ]:
        pre = params.pop("precompute", "auto")
        est = fastlasso.ElasticNet(alpha=0.05, precompute=pre, tol=1e-12)
        est.fit(X_in, y, check_input=False, **params)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("path", PATHS)
def test_path_check_input_false_reads_the_gram_matrix_of_tall_c_ordered_X(path):
    """scikit-learn's paths with precompute="auto" use the Gram matrix when n > p, so a
    C-ordered tall X passes with check_input=False; precompute=False raises."""
    X, y = _data()
    Xc = np.ascontiguousarray(X)
    for lib in (fastlasso, linear_model):
        a, c, _ = getattr(lib, path)(Xc, y, alphas=3, check_input=False)
        assert c.shape == (X.shape[1], 3)
        with pytest.raises(ValueError):
            getattr(lib, path)(Xc, y, alphas=3, check_input=False, precompute=False)


# ------------------------------------------------------------------------ path params
@pytest.mark.parametrize("path", PATHS)
def test_unknown_path_parameter_raises_sklearns_error(path):
    X, y = _data()
    for lib in (fastlasso, linear_model):
        with pytest.raises(ValueError, match="Unexpected parameters in params"):
            getattr(lib, path)(X, y, normalize=True)
    with pytest.raises(ValueError, match="X_offset is not supported"):
        getattr(fastlasso, path)(sp.csc_matrix(X), y, X_offset=np.zeros(X.shape[1]))
    # scikit-learn's own names are parameters
    a, c, g = getattr(fastlasso, path)(X, y, alphas=3, X_offset=None, X_scale=None,
                                      do_screening=False, random_state=0)
    assert c.shape == (X.shape[1], 3)


@pytest.mark.parametrize("path", PATHS)
def test_deprecated_grid_spellings_warn_with_sklearns_texts(path):
    X, y = _data()
    fl, sk = getattr(fastlasso, path), getattr(linear_model, path)
    for kwargs, match in [
        (
            {"n_alphas": 5},
            "'n_alphas' was deprecated in 1.9 and will be removed in 1.11",
        ),
        ({"alphas": None}, "'alphas=None' is deprecated and will be removed in 1.11"),
    ]:
        with pytest.warns(FutureWarning, match=match):
            got = fl(X, y, **kwargs)
        with pytest.warns(FutureWarning, match=match):
            ref = sk(X, y, **kwargs)
        # the same grid (to rounding: alpha_max's X^T y is summed in another order
        # than scikit-learn's for C-ordered X, which is read in place)
        assert_allclose(got[0], ref[0], rtol=4 * np.finfo(np.float64).eps, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kwargs in ({}, {"alphas": 5}):
            fl(X, y, **kwargs)
    # both given: alphas wins, as in scikit-learn
    with pytest.warns(FutureWarning, match="n_alphas"):
        assert len(fl(X, y, n_alphas=5, alphas=3)[0]) == 3
