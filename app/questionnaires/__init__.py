"""Questionnaires from a link: one-time links to a wellbeing instrument, sent to the person."""
