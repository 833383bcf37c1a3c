"""fastlasso: fast Lasso and Elastic Net for dense and sparse data.

Drop-in replacements for scikit-learn's Lasso and ElasticNet, fitted by Cython
coordinate descent with working sets, Gap Safe screening, Anderson acceleration and
Gram-matrix updates; every fit reports its duality gap.
"""

from fastlasso._enet_path import enet_path, lasso_path
from fastlasso._estimators import ElasticNet, Lasso
from fastlasso._estimators_cv import ElasticNetCV, LassoCV
from fastlasso.plotting import plot_cv, plot_path
from fastlasso.sklearn_patch import patch_sklearn, sklearn_patched, unpatch_sklearn

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "enet_path",
    "lasso_path",
    "patch_sklearn",
    "plot_cv",
    "plot_path",
    "sklearn_patched",
    "unpatch_sklearn",
]
__version__ = "0.1.0"
