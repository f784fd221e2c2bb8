-- 0007: the gates a ticket type admits at (empty = any gate). The inventory actor holds
-- them with the other catalog facts, so a check-in at another gate is refused (WRONG_GATE)
-- without I/O; offline scanners get them in the signed check-in bundle.

ALTER TABLE ticket_types ADD COLUMN gates text[] NOT NULL DEFAULT '{}';
