"""The staff console: the web app for handoffs, lead cards, insights and privacy
administration."""
