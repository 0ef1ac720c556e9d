"""The pure parts of running on many ranks: shards, batch shares, launcher, checks."""

from __future__ import annotations

import pytest

from summarist.distributed import Ranks, launcher_name, shard_bounds
from summarist.training.collate import length_grouped_batches, rank_share


@pytest.mark.parametrize("n", [0, 1, 5, 8, 200])
@pytest.mark.parametrize("world", [1, 2, 3, 8])
def test_shards_are_contiguous_near_equal_and_cover_the_input_once(n: int, world: int) -> None:
    bounds = [shard_bounds(n, r, world) for r in range(world)]
    joined = [i for start, end in bounds for i in range(start, end)]
    assert joined == list(range(n))  # in order, nothing twice, nothing padded
    sizes = [end - start for start, end in bounds]
    # the first n % world ranks take one more: sizes differ by at most one
    assert sizes == [n // world + (1 if r < n % world else 0) for r in range(world)]


def test_rank_shares_of_a_global_batch_make_it_whole_and_balance_lengths() -> None:
    lengths = [(i * 37) % 101 + 1 for i in range(64)]
    for batch in length_grouped_batches(lengths, 8, seed=1, epoch=0):
        shares = [rank_share(batch, r, 2) for r in range(2)]
        assert sorted(shares[0] + shares[1]) == sorted(batch)
        assert shares == [batch[0::2], batch[1::2]]  # taking turns, from rank 0
        # Taking turns down a longest-first batch: the ranks' token totals differ by at most
        # the batch's spread (a contiguous cut would give rank 0 all the long ones).
        total = [sum(lengths[i] for i in share) for share in shares]
        spread = max(lengths[i] for i in batch) - min(lengths[i] for i in batch)
        assert 0 <= total[0] - total[1] <= spread or len(batch) % 2
    assert rank_share([7], 1, 2) == []  # the loop gives such a rank a zero-weight stand-in


def test_launcher_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("TORCHELASTIC_RUN_ID", "WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    import os

    for key in [k for k in os.environ if k.startswith("ACCELERATE_")]:
        monkeypatch.delenv(key)
    assert launcher_name() == "none"
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert launcher_name() == "env"
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    assert launcher_name() == "torchrun"
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    assert launcher_name() == "accelerate"


def test_one_process_collectives_are_the_identity() -> None:
    ranks = Ranks()
    assert ranks.is_main and ranks.world == 1
    assert ranks.gather(["a", "b"]) == ["a", "b"]
    assert ranks.sum([1, 2.5]) == [1.0, 2.5]
    assert ranks.any(True) and not ranks.any(False)


def test_ranks_on_one_machine_share_its_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from summarist.training import runtime

    monkeypatch.delenv(runtime.THREADS_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (7.5, 7.5, 7.5))  # busy: no longer matters
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert runtime.default_threads() == 4
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    assert runtime.default_threads() == 2  # 8 // 3
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "16")
    assert runtime.default_threads() == 1
    monkeypatch.setenv(runtime.THREADS_ENV, "3")  # per process, not divided between ranks
    assert runtime.default_threads() == 3


def test_resume_on_another_world_size_is_refused_in_one_line() -> None:
    from summarist.training.checkpoint import CheckpointError, check_world_size

    check_world_size({"extra": {}}, 1)  # checkpoints from before ranks: one process
    check_world_size({"extra": {"world_size": 2}}, 2)
    with pytest.raises(CheckpointError, match=r"written by 2 process\(es\), this run has 4") as err:
        check_world_size({"extra": {"world_size": 2}}, 4)
    assert "torchrun --nproc_per_node 2" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match="plain `summarist train`"):
        check_world_size({"extra": {}}, 2)
