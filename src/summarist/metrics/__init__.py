"""Metrics: ROUGE with rouge-score parity (offline, fast, bootstrap CIs) and diagnostics.

No torch here, so `summarist evaluate` starts fast.
"""

from summarist.metrics.bootstrap import bootstrap_ci, paired_bootstrap
from summarist.metrics.diagnostics import compute_diagnostics
from summarist.metrics.rouge import (
    MULTI_REF_RULES,
    ROUGE_TYPES,
    RougeResult,
    compute_rouge,
    score_examples,
)
from summarist.metrics.sentences import SPLITTERS, split_sentences, to_lsum_text
from summarist.metrics.tokenizers import (
    TOKENIZERS,
    detect_tokenizer,
    tokenize_rouge_score,
    tokenize_unicode,
)

__all__ = [
    "MULTI_REF_RULES",
    "ROUGE_TYPES",
    "SPLITTERS",
    "TOKENIZERS",
    "RougeResult",
    "bootstrap_ci",
    "compute_diagnostics",
    "compute_rouge",
    "detect_tokenizer",
    "paired_bootstrap",
    "score_examples",
    "split_sentences",
    "to_lsum_text",
    "tokenize_rouge_score",
    "tokenize_unicode",
]
