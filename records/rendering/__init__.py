"""How clinical records are drawn: vitals charts (charts.py), trends across a course (trends.py)
and printable PDFs (pdf.py). They show what was entered and never compute a clinical value."""
