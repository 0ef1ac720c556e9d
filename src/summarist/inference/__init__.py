"""The inference core: `Summarizer`, batching, long-document map-reduce, backends."""
