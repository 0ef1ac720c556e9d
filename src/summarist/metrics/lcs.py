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


def lcs_length(ref: Sequence[str], can: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    if not ref or not can:
        return 0
    masks = _masks(can)
    full = (1 << len(can)) - 1
    row = full
    for tok in ref:
        m = masks.get(tok)
        if m:
            u = row & m
            row = ((row + u) | (row - u)) & full
    return len(can) - row.bit_count()


def lcs_indices(ref: Sequence[str], can: Sequence[str]) -> list[int]:
    """Indices into `ref` of one LCS: the one `rouge_score.rouge_scorer.lcs_ind` returns."""
    if not ref or not can:
        return []
    masks = _masks(can)
    full = (1 << len(can)) - 1
    rows = [full]
    row = full
    for tok in ref:
        m = masks.get(tok)
        if m:
            u = row & m
            row = ((row + u) | (row - u)) & full
        rows.append(row)
    i, j = len(ref), len(can)
    cur = j - rows[i].bit_count()  # t[i][j], kept up to date along the path
    out: list[int] = []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
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
