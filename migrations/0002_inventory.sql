-- 0002: write side of inventory — shard owners (fencing epochs), the per-event journal,
-- snapshots, and the projections the actor writes after commit: reservations and tickets.

-- One row per shard. Taking a shard bumps epoch; every actor commit reads this row
-- FOR SHARE and aborts if the epoch is not its own (the fencing token).
CREATE TABLE shard_owners (
    shard_id    integer PRIMARY KEY CHECK (shard_id >= 0),
    owner_pod   varchar(255),
    epoch       bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    acquired_at timestamptz(3),
    updated_at  timestamptz(3) NOT NULL DEFAULT now()
);

-- Append-only journal of inventory decisions, one sequence per event. Two writers for
-- one event collide on the primary key even without the epoch check.
CREATE TABLE inventory_journal (
    event_id    uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    seq         bigint NOT NULL CHECK (seq > 0),
    epoch       bigint NOT NULL,
    kind        varchar(40) NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, seq)
);

-- Periodic snapshots of an actor's state; recovery = latest snapshot + later journal rows.
CREATE TABLE inventory_snapshots (
    event_id    uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    seq         bigint NOT NULL CHECK (seq >= 0),
    state       bytea NOT NULL,
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, seq)
);

CREATE TABLE reservations (
    id              uuid PRIMARY KEY,
    event_id        uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    customer_id     varchar(255),
    status          varchar(20) NOT NULL
                    CHECK (status IN ('HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    -- [{ticket_type_id, quantity, unit_price_minor}]: prices locked at reserve time.
    items           jsonb NOT NULL,
    currency        char(3) NOT NULL,
    total_minor     bigint NOT NULL CHECK (total_minor >= 0),
    discount_minor  bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
    promo_code      varchar(64),
    payment_reference varchar(255),
    expires_at      timestamptz(3),
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    updated_at      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX reservations_event_status_idx ON reservations (event_id, status);
CREATE INDEX reservations_customer_idx ON reservations (customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE tickets (
    id              uuid PRIMARY KEY,
    event_id        uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    ticket_type_id  uuid NOT NULL REFERENCES ticket_types(id) ON DELETE RESTRICT,
    reservation_id  uuid NOT NULL REFERENCES reservations(id) ON DELETE RESTRICT,
    -- The signed code the QR holds (unique: a code names exactly one ticket).
    code            text NOT NULL UNIQUE,
    status          varchar(10) NOT NULL DEFAULT 'VALID' CHECK (status IN ('VALID', 'USED', 'VOID')),
    price_minor     bigint NOT NULL CHECK (price_minor >= 0),
    currency        char(3) NOT NULL,
    checked_in_at   timestamptz(3),
    checked_in_gate varchar(100),
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    updated_at      timestamptz(3) NOT NULL DEFAULT now(),
    CHECK (status <> 'USED' OR checked_in_at IS NOT NULL)
);
CREATE INDEX tickets_event_type_idx ON tickets (event_id, ticket_type_id);
CREATE INDEX tickets_reservation_idx ON tickets (reservation_id);
