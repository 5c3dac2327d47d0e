"""Reports: Plotly figures shared with the dashboard (:mod:`.charts`) and the executive HTML/PDF
report (:mod:`.executive`)."""
