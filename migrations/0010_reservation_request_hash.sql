-- 0010: the sha256 (hex) of each reservation's reserve-request fingerprint. The inventory
-- actor keeps closed reservations only for the idempotency window; a retry naming an older
-- one is compared with this column. Rows written before it existed hold NULL, which counts
-- as a match (such a retry is answered with the reservation as it is).
ALTER TABLE reservations ADD COLUMN request_hash text;
