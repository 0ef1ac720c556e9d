"""HTML reports built from run directories only (no torch, no model): `write_report`."""

from summarist.reports.build import render_report, write_report

__all__ = ["render_report", "write_report"]
