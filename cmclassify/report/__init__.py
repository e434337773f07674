"""Stage 8, reporting: charts of a corpus and one self-contained HTML report of an analysis.

``names`` says what things are called (Spanish and English), ``content`` prepares
what the report shows, ``charts`` draws the figures, ``html`` renders the page.
"""

from .charts import PLOTS, figure_svg, plot, plot_alchemist, plot_flags, plot_orientation, plot_rates_by, plot_top_duties
from .content import highlight, priority_order, top_duties
from .html import render_html
from .names import COLOURS, name

__all__ = ["plot", "plot_orientation", "plot_alchemist", "plot_flags", "plot_top_duties", "plot_rates_by",
           "top_duties", "render_html", "figure_svg", "highlight", "priority_order", "name", "COLOURS", "PLOTS"]
