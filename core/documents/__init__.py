"""Documents the service prints or sends (no database), and the checks they pass first."""
