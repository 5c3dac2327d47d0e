"""Presentation shared by every surface: units to text (:mod:`.format`) and how a drill-down adds
up to its KPI (:mod:`.captions`). No surface formats numbers on its own."""
