"""Pure analytics for the dashboard: rates and intervals, question clusters, SVG charts."""
