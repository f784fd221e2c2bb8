-- 0004: the journal sequence number that the ticket_types counters were projected from,
-- so a late counter write from a pod that no longer owns the event (a shard move) never
-- overwrites newer figures written by the new owner.

ALTER TABLE ticket_types ADD COLUMN inventory_seq bigint NOT NULL DEFAULT 0;
