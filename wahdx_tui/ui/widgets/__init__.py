"""The board's widgets: the table, summary, banner, footer and their parts."""
