"""summarist: fine-tune, evaluate and serve summarization models with one reliable command.

Heavy pieces (torch, transformers) are imported lazily by the modules that need them, so
`import summarist` and the data, metrics and baseline layers stay fast.
"""

from summarist.errors import SummaristError

__version__ = "0.1.0"

__all__ = ["SummaristError", "__version__"]
