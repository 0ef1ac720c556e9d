"""Longest common subsequence, bit-parallel, with rouge-score's exact backtracking.

rouge-score fills an m×n Python table per pair. Here each table row is one integer bit vector
(Allison–Dix / Crochemore et al. 2001): bit j of row i is 0 where the row value steps up, so
`t[i][j] = j - popcount(row_i & (2**j - 1))`. The length costs O(m) big-int operations; when
rougeLsum needs the subsequence itself, the rows are kept and read back along rouge-score's own
backtracking path (`_backtrack_norec`), so ties break the same way and scores match exactly.
"""

from __future__ import annotations

from collections.abc import Sequence


def _masks(can: Sequence[str]) -> dict[str, int]:
    masks: dict[str, int] = {}
    for j, tok in enumerate(can):
        masks[tok] = masks.get(tok, 0) | (1 << j)
    return masks


def lcs_length(ref: Sequence[str], can: Sequence[str], masks: dict[str, int] | None = None) -> int:
    """Length of the longest common subsequence of two token lists (`masks`: `masks_of(can)`)."""
    if not ref or not can:
        return 0
    if masks is None:
        masks = _masks(can)
    full = (1 << len(can)) - 1
    row = full
    for tok in ref:
        m = masks.get(tok)
        if m:
            u = row & m
            row = ((row + u) | (row - u)) & full
    return len(can) - row.bit_count()


def masks_of(can: Sequence[str]) -> dict[str, int]:
    """Each token of `can` → the bit vector of its positions (what `lcs_indices` takes)."""
    return _masks(can)


def lcs_indices(
    ref: Sequence[str], can: Sequence[str], masks: dict[str, int] | None = None
) -> list[int]:
    """Indices into `ref` of one LCS: the one `rouge_score.rouge_scorer.lcs_ind` returns.

    `masks` is `masks_of(can)`, when the caller has it (rougeLsum pairs a prediction sentence
    with every reference sentence)."""
    if not ref or not can:
        return []
    if masks is None:
        masks = _masks(can)
    # A ref token absent from `can` leaves its table row equal to the one above, and
    # rouge-score's backtracking always moves up through such a row (no match, and
    # t[i][j-1] <= t[i-1][j]): only the ref positions whose token is in `can` need a row.
    kept = [(i, masks[tok]) for i, tok in enumerate(ref) if tok in masks]
    if not kept:
        return []
    full = (1 << len(can)) - 1
    rows = [full]
    row = full
    for _, m in kept:
        u = row & m
        row = ((row + u) | (row - u)) & full
        rows.append(row)
    i, j = len(kept), len(can)
    cur = j - rows[i].bit_count()  # t[i][j], kept up to date along the path
    out: list[int] = []
    while i > 0 and j > 0:
        if (kept[i - 1][1] >> (j - 1)) & 1:  # ref token i-1 equals can[j-1]
            out.append(kept[i - 1][0])
            i -= 1
            j -= 1
            cur -= 1
            continue
        # rouge-score moves left iff t[i][j-1] > t[i-1][j]. Both are cur or cur - 1, and
        # t[i][j-1] == cur exactly when bit j-1 of row i is 1 (no step up at column j).
        up = j - (rows[i - 1] & ((1 << j) - 1)).bit_count()
        if (rows[i] >> (j - 1)) & 1 and up < cur:
            j -= 1
        else:
            i -= 1
            cur = up
    out.reverse()
    return out
