"""Team workflow: contributors' posts wait for approval, comments, the audit trail,
guardrails (the guidelines, enforced) and the weekly champions."""
