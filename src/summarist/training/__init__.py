"""Fine-tuning: `TrainConfig` (typed, YAML presets) and `train(config) -> run directory`."""

from summarist.config.train import TrainConfig, load_train_config

__all__ = ["TrainConfig", "load_train_config", "train"]


def train(config: TrainConfig) -> object:
    """Fine-tune as `config` says and return the run directory (see `training.loop.train`)."""
    from summarist.training.loop import train as _train

    return _train(config)
