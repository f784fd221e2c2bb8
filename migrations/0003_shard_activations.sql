-- 0003: a record of every actor activation (shard, pod, epoch), so tests and operators
-- can check that no two pods ever served one shard under one epoch; and the catalog
-- guard that a ticket type never claims more sold than it has.

CREATE TABLE actor_activations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shard_id     integer NOT NULL,
    event_id     uuid NOT NULL,
    pod          varchar(255) NOT NULL,
    epoch        bigint NOT NULL,
    activated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX actor_activations_shard_epoch_idx ON actor_activations (shard_id, epoch);

ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_sold_within_quantity CHECK (sold_quantity <= quantity);
