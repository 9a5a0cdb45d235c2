"""The dashboard's widgets: each shows one thing from values it is given, and never reaches
into a sibling; the dashboard screen hands them what to show."""
