"""
Elastic Net against Lasso on correlated features
================================================

When several features are near-copies of each other, the Lasso tends to pick one of
them and set the others to zero, and which one it picks can change with a small
change of the data. The Elastic Net's L2 term makes the problem strictly convex and
gives near-copies near-equal weights: it keeps or drops them as a group (the
*grouping effect*, Zou and Hastie 2005).

The data are built on the spot: three hidden factors, each measured by five noisy
copies (correlation about 0.99 within a group), and 35 unrelated features. The
target depends on the first two factors only.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import KFold

from fastlasso import ElasticNetCV, LassoCV, enet_path, lasso_path

rng = np.random.default_rng(0)
n, copies = 200, 5
factors = rng.standard_normal((n, 3))
groups = [factors[:, [g]] + 0.1 * rng.standard_normal((n, copies)) for g in range(3)]
X = np.hstack(groups + [rng.standard_normal((n, 35))])
y = 3 * factors[:, 0] - 2 * factors[:, 1] + rng.standard_normal(n)
group_of = np.r_[np.repeat([0, 1, 2], copies), np.full(35, 3)]
print(f"X: {X.shape}; corr within group 1: "
      f"{np.corrcoef(groups[0], rowvar=False)[np.triu_indices(copies, 1)].mean():.3f}")

# %%
# Cross-validated choices of alpha for both (the Elastic Net also searches
# ``l1_ratio``), and the weights each gives the five copies of factor 1 and of
# factor 2. The Lasso concentrates each factor on a few copies; the Elastic Net
# spreads it nearly evenly over all five.
folds = KFold(5, shuffle=True, random_state=0)
lasso = LassoCV(cv=folds).fit(X, y)
enet = ElasticNetCV(l1_ratio=[0.1, 0.3, 0.5, 0.7, 0.9], cv=folds).fit(X, y)
np.set_printoptions(precision=2, suppress=True)
enet_name = f"ElasticNet (l1_ratio={enet.l1_ratio_})"
for name, model in [("Lasso", lasso), (enet_name, enet)]:
    print(f"{name}: alpha_ = {model.alpha_:.3g}, "
          f"{np.count_nonzero(model.coef_)} nonzero weights")
    for g in (0, 1):
        print(f"  factor {g + 1} copies: {model.coef_[group_of == g]}")
    print(f"  unrelated features with a nonzero weight: "
          f"{np.count_nonzero(model.coef_[group_of == 3])}")

# %%
# The paths show the same thing along the whole range of alpha: coloured by group,
# the Lasso's copies of a factor take turns and cross; the Elastic Net's move
# together.
colors = ["tab:blue", "tab:orange", "tab:green", "lightgrey"]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
paths = [("Lasso", lasso_path(X, y, fit_intercept=True)),
         (f"Elastic Net, l1_ratio = {enet.l1_ratio_}",
          enet_path(X, y, l1_ratio=enet.l1_ratio_, fit_intercept=True))]
for ax, (title, (alphas, coefs, _)) in zip(axes, paths, strict=True):
    for j in np.argsort(-group_of):  # unrelated features drawn first, underneath
        ax.plot(np.log10(alphas), coefs[j], color=colors[group_of[j]], lw=1.2)
    ax.invert_xaxis()
    ax.set_xlabel("log10(alpha)")
    ax.set_title(title)
axes[0].set_ylabel("coefficient")
handles = [plt.Line2D([], [], color=c) for c in colors]
axes[1].legend(handles, ["factor 1 (5 copies)", "factor 2 (5 copies)",
                         "factor 3 (5 copies, no effect)", "35 unrelated"],
               loc="upper left", fontsize="small")
fig.tight_layout()
plt.show()
