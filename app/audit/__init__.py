"""The audit trail: who read or changed whose data, when, and with what outcome."""
