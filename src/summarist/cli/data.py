"""`summarist data stats`: what is in a corpus, before any training; `summarist data cache`:
the data cache corpora are read and tokenized into."""

from __future__ import annotations

from summarist.cli.options import Flags, options
from summarist.cli.root import JSON_REASON, JsonOpt, data_app, show
from summarist.config.cache import CacheConfig
from summarist.config.data import DataStatsConfig


@data_app.command("stats")
@options(DataStatsConfig, command_only={"as_json": JSON_REASON})
def data_stats(flags: Flags, as_json: JsonOpt = False) -> None:
    """Row counts, length percentiles, compression, truncation, empty/duplicate/leaked counts."""
    from summarist.data.stats import render_stats, run_data_stats

    cfg: DataStatsConfig = flags.build()
    tokenizer = None
    if cfg.model:
        from summarist.models.pretrained import load_tokenizer

        tokenizer = load_tokenizer(cfg.model)
    stats = run_data_stats(
        cfg.data,
        tokenizer=tokenizer,
        model=cfg.model,
        max_source_length=cfg.max_source_length,
        max_target_length=cfg.max_target_length,
        plot=cfg.plot,
    )
    show(stats if as_json else render_stats(stats), as_json)
    if cfg.plot and not as_json:
        print(f"length histograms: {cfg.plot}")


@data_app.command("cache")
@options(CacheConfig, command_only={"as_json": JSON_REASON}, preset=False)
def data_cache(flags: Flags, as_json: JsonOpt = False) -> None:
    """The data cache: where it is, its entries and their sizes; --clear removes them."""
    from summarist.data.cache import cache_report, render_cache

    result = cache_report(flags.build())
    show(result if as_json else render_cache(result), as_json)
