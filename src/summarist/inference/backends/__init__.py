"""Generation backends: plain torch (optionally int8-quantized) and CTranslate2.

A backend turns batches of source token ids into generated token ids; tokenizing, length
sorting, batching, decoding and restoring input order live once, in `summarist.inference.summarizer`.
"""

from summarist.inference.backends.base import Backend, count_new_tokens

__all__ = ["Backend", "count_new_tokens"]
