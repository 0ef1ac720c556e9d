"""Bootstrap intervals and the paired bootstrap test."""

from __future__ import annotations

import numpy as np
import pytest

from summarist.metrics import bootstrap_ci, paired_bootstrap


def naive_ci(values: np.ndarray, n: int, confidence: float, seed: int) -> np.ndarray:
    """The textbook loop with the same random draws (chunks of 50 rows of indices)."""
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, n, 50):
        idx = rng.integers(0, len(values), size=(min(50, n - start), len(values)))
        means.extend(values[row].mean(axis=0) for row in idx)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.array(means), [alpha, 1 - alpha], axis=0)
    return np.stack([low, values.mean(axis=0), high])


def test_vectorised_bootstrap_equals_the_naive_loop() -> None:
    values = np.random.default_rng(0).random((300, 3)) * 100
    fast = bootstrap_ci(values, 120, 0.9, seed=7)
    assert np.allclose(fast, naive_ci(values, 120, 0.9, 7))


def test_interval_is_seeded_and_brackets_the_mean() -> None:
    values = np.random.default_rng(1).normal(40, 10, size=(500, 1))
    a = bootstrap_ci(values, 500, seed=3)
    assert np.array_equal(a, bootstrap_ci(values, 500, seed=3))
    assert not np.array_equal(a, bootstrap_ci(values, 500, seed=4))
    low, mid, high = a[:, 0]
    assert low < mid < high
    assert mid == pytest.approx(values.mean())
    # ~1.96 standard errors each side.
    se = values.std() / np.sqrt(len(values))
    assert (high - low) / (2 * se) == pytest.approx(1.96, rel=0.15)


def test_interval_narrows_with_more_examples() -> None:
    rng = np.random.default_rng(2)
    small = bootstrap_ci(rng.random((50, 1)), 400)
    large = bootstrap_ci(rng.random((5000, 1)), 400)
    assert (large[2] - large[0])[0] < (small[2] - small[0])[0] / 5


def test_degenerate_inputs() -> None:
    assert np.array_equal(bootstrap_ci(np.array([[5.0]]), 100), [[5.0], [5.0], [5.0]])
    assert np.array_equal(bootstrap_ci(np.array([[1.0], [3.0]]), 0), [[2.0], [2.0], [2.0]])


def test_paired_bootstrap_detects_a_real_difference_and_not_a_fake_one() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(30, 10, size=400)
    better = base + rng.normal(2.0, 3.0, size=400)
    res = paired_bootstrap(better, base, 1000, seed=0)
    assert res["diff"][0] == pytest.approx((better - base).mean())
    assert res["low"][0] > 0 and res["p_value"][0] < 0.01
    jitter = rng.normal(0.0, 3.0, size=400)
    noise = base + jitter - jitter.mean() + 0.05  # a true difference of 0.05, se ~0.15
    res = paired_bootstrap(noise, base, 1000, seed=0)
    assert res["low"][0] < 0 < res["high"][0] and res["p_value"][0] > 0.05
    same = paired_bootstrap(base, base, 200)
    assert same["diff"][0] == 0 and same["p_value"][0] == 1.0


def test_paired_bootstrap_requires_the_same_examples() -> None:
    with pytest.raises(ValueError, match="equal shapes"):
        paired_bootstrap(np.zeros(3), np.zeros(4))


def test_paired_p_value_is_twice_the_share_of_sign_flips() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(10, 4, size=(60, 2)), rng.normal(10, 4, size=(60, 2))
    a[:, 1] += 1.5  # one column with a real difference, one without
    res = paired_bootstrap(a, b, 400, seed=2)
    draws = np.random.default_rng(2)  # the same draws as the vectorised resampler
    means = np.concatenate(
        [(a - b)[draws.integers(0, 60, size=(50, 60))].mean(axis=1) for _ in range(8)]
    )
    observed = (a - b).mean(axis=0)
    flips = (np.sign(means) != np.sign(observed)).mean(axis=0)
    assert res["p_value"] == pytest.approx(np.minimum(1.0, 2 * flips))
    assert 0 < res["p_value"][1] < res["p_value"][0] < 1  # neither capped nor zero


def test_resampling_runs_blas_on_one_thread_and_restores_it() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from summarist.metrics.bootstrap import one_blas_thread

    def blas_threads() -> list[int]:
        return [
            i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
        ]

    before = blas_threads()
    with threadpoolctl.threadpool_limits(2, user_api="blas"), one_blas_thread():
        assert blas_threads() and set(blas_threads()) == {1}
    assert blas_threads() == before


def test_bootstrap_ci_equals_one_bincount_over_all_resamples() -> None:
    # The per-resample bincount must give the same counts (hence the same floats) as counting
    # all b * n picks at once, the way intervals were computed before.
    from summarist.metrics.bootstrap import one_blas_thread

    values = np.random.default_rng(3).random((997, 5))
    rng = np.random.default_rng(11)
    means = []
    with one_blas_thread():  # as bootstrap_ci sums (the floats may depend on BLAS's threads)
        for start in range(0, 120, 50):
            b = min(50, 120 - start)
            idx = rng.integers(0, 997, size=(b, 997))
            counts = np.bincount((idx + np.arange(b)[:, None] * 997).ravel(), minlength=b * 997)
            means.append(counts.reshape(b, 997) @ values / 997)
    low, high = np.quantile(np.concatenate(means), [0.05, 0.95], axis=0)
    ci = bootstrap_ci(values, n_resamples=120, confidence=0.9, seed=11)
    assert np.array_equal(ci[0], low) and np.array_equal(ci[2], high)


def test_bootstrap_cis_equal_each_ci_alone() -> None:
    from summarist.metrics.bootstrap import bootstrap_cis

    rng = np.random.default_rng(5)
    values = [rng.random((300, 12)), rng.random(300), rng.random((300, 3))]
    together = bootstrap_cis(values, n_resamples=130, confidence=0.9, seed=2)
    for v, ci in zip(values, together, strict=True):
        assert np.array_equal(ci, bootstrap_ci(v, n_resamples=130, confidence=0.9, seed=2))
    with pytest.raises(ValueError, match="equal row counts"):
        bootstrap_cis([values[0], rng.random(5)])
