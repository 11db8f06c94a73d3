"""The office's back-office in the browser, served under /office/ (docs/office.md).

An adapter like bot/ and sms/: it turns HTTP requests into calls of core.services and the
results into HTML, PDF and spreadsheets. Every rule (roles, four eyes, lock-out, the
municipality an operator may see) lives in core.services; this package only asks.
"""
