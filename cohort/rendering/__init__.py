"""Presentation of the evaluation report: charts, HTML, PDF, and background rendering.

Entry points for the edges (CLI, web):
- `report.render_report_html(engine, cohort_id, language, compare, web=True, extra=...)`
- `report.render_report_pdf(engine, cohort_id, language, compare, progress=...)`
- `jobs.start_report_job(app, cohort_id, ...)`, `jobs.report_job(...)`, `jobs.report_job_pdf(...)`
"""
