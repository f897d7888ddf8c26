"""scikit-learn's own estimator checks, for every output mode, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from btvqvae import BarlowTwinsVQVAETransformer, VQVAETransformer

TINY = dict(hidden_dim=4, n_res_blocks=1, codebook_size=4, max_epochs=2, batch_size=16)


def _estimators():
    for output in ("embedding", "tokens", "histogram", "latent", "pooled", "bag"):
        yield VQVAETransformer(output=output, random_state=0, **TINY)
        yield BarlowTwinsVQVAETransformer(output=output, projector_dims=(8, 8), random_state=0,
                                          **TINY)
    for output in ("embedding", "tokens"):  # the shipped tokenizer, zero-fit and fine-tuned
        yield VQVAETransformer(init="pretrained", max_steps=0, output=output)
        yield VQVAETransformer(init="pretrained", max_steps=1, batch_size=16, output=output,
                               random_state=0)


@parametrize_with_checks(list(_estimators()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
