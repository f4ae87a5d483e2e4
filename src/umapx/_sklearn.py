"""scikit-learn's estimator tags for the umapx estimators, built only when scikit-learn asks for them
(``__sklearn_tags__``): importing ``sklearn.base`` on every fit would cost 0.4 s."""

from __future__ import annotations

#: Checks of ``check_estimator`` that umapx's estimators fail on purpose, with the reason: UMAP and
#: DensMAP pass every check; ParametricUMAP (with its classifier head) fails one.
EXPECTED_FAILED_CHECKS = {
    "ParametricUMAP": {
        "check_estimators_unfitted": "umapx.NotFittedError is a ValueError and AttributeError, as scikit-learn's "
        "is, but not its subclass: importing sklearn.exceptions would cost every fit 0.4 s",
    },
}


def tags(estimator):
    from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

    return Tags(
        estimator_type=None,
        target_tags=TargetTags(required=False),
        transformer_tags=TransformerTags(preserves_dtype=["float32"]),
        input_tags=InputTags(
            sparse=estimator._sparse_input, pairwise=estimator.metric == "precomputed", allow_nan=False
        ),
        non_deterministic=estimator.random_state is None,
    )
