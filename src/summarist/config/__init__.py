"""Every typed config in one place: generation, data, training."""
