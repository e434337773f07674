"""Stage 8, reporting: charts of a corpus and one self-contained HTML report of an analysis.

``names`` says what things are called (Spanish and English), ``content`` prepares
what the report shows, ``charts`` draws the figures, ``html`` renders the page.
The names below load on first use, so that reviewing one ad does not import matplotlib.
"""

from __future__ import annotations

from ..lazy import lazy_names

_EXPORTS = {
    "PLOTS": "charts", "figure_svg": "charts", "plot": "charts", "plot_alchemist": "charts", "plot_flags": "charts",
    "plot_orientation": "charts", "plot_rates_by": "charts", "plot_top_duties": "charts",
    "highlight": "content", "priority_order": "content", "top_duties": "content",
    "render_html": "html", "COLOURS": "names", "name": "names",
}

__all__ = ["plot", "plot_orientation", "plot_alchemist", "plot_flags", "plot_top_duties", "plot_rates_by",
           "top_duties", "render_html", "figure_svg", "highlight", "priority_order", "name", "COLOURS", "PLOTS"]

__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, __all__)
