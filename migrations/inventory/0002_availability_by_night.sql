-- The dated catalog search asks which accommodations have rooms free over a range of nights,
-- across every accommodation at once: that reads by night, which the primary key (led by the
-- accommodation) cannot serve. Holds and bookings change only the counters, never `night`,
-- so their updates stay heap-only despite this index.
CREATE INDEX accommodation_availability_night_idx ON accommodation_availability (night);
