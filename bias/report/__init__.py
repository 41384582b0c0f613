"""HTML reports and figures: one model (``vitbias audit``) and a whole study (``vitbias report``).

Import the renderers from their modules (``bias.report.model.render_model_report``,
``bias.report.study.render_study_report``) so that importing this package stays cheap.
"""
