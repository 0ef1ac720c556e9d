"""Model building blocks: resolving names to checkpoints, family quirks, warm starts."""
