"""Bookings: places on community activities, taken atomically; attendance."""
