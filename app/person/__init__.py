"""Pages and routes for the person themselves: self-referral at ``/refer`` (DESIGN.md 13)."""
