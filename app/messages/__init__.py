"""Messages to the person through GOV.UK Notify: the outbox, reminders and delivery receipts."""
