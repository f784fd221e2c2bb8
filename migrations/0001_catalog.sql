-- 0001: catalog — venues, events, ticket types, pricing rules, promo codes.
-- Append-only: never edit a shipped migration; add a new numbered file instead.
-- Money is integer minor units (cents) with an ISO 4217 currency code.
-- Timestamps are timestamptz(3): millisecond precision, exactly what a JS Date and a
-- pagination cursor carry, so keyset comparisons on them are exact.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE venues (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         varchar(255) NOT NULL,
    address      text NOT NULL,
    city         varchar(100) NOT NULL,
    state        varchar(100),
    country      varchar(100) NOT NULL,
    postal_code  varchar(20),
    latitude     numeric(10, 8) CHECK (latitude BETWEEN -90 AND 90),
    longitude    numeric(11, 8) CHECK (longitude BETWEEN -180 AND 180),
    capacity     integer CHECK (capacity >= 0),
    amenities    jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at   timestamptz(3) NOT NULL DEFAULT now(),
    updated_at   timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX venues_city_idx ON venues (lower(city), id);
CREATE INDEX venues_created_idx ON venues (created_at, id);

CREATE TABLE events (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            varchar(255) NOT NULL,
    description      text,
    category         varchar(100) NOT NULL,
    venue_id         uuid REFERENCES venues(id) ON DELETE RESTRICT,
    start_date       timestamptz(3) NOT NULL,
    end_date         timestamptz(3) NOT NULL,
    status           varchar(20) NOT NULL DEFAULT 'active'
                     CHECK (status IN ('draft', 'active', 'cancelled', 'completed')),
    featured         boolean NOT NULL DEFAULT false,
    image_url        varchar(500),
    max_capacity     integer CHECK (max_capacity >= 0),
    current_capacity integer NOT NULL DEFAULT 0 CHECK (current_capacity >= 0),
    -- created_by is the subject of the admin token; the auth service owns users, so no FK.
    created_by       varchar(255),
    cancelled_at     timestamptz(3),
    search_vector    tsvector GENERATED ALWAYS AS (
                         setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
                         setweight(to_tsvector('simple', coalesce(category, '')), 'B') ||
                         setweight(to_tsvector('simple', coalesce(description, '')), 'C')
                     ) STORED,
    created_at       timestamptz(3) NOT NULL DEFAULT now(),
    updated_at       timestamptz(3) NOT NULL DEFAULT now(),
    CHECK (end_date >= start_date)
);
-- Listing is ordered by (start_date, id); filters combine with it.
CREATE INDEX events_start_idx ON events (start_date, id);
CREATE INDEX events_category_start_idx ON events (lower(category), start_date, id);
CREATE INDEX events_venue_idx ON events (venue_id);
CREATE INDEX events_featured_start_idx ON events (start_date, id) WHERE featured;
CREATE INDEX events_status_idx ON events (status);
CREATE INDEX events_search_idx ON events USING gin (search_vector);
CREATE INDEX events_title_trgm_idx ON events USING gin (title gin_trgm_ops);

CREATE TABLE ticket_types (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id           uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    name               varchar(100) NOT NULL,
    description        text,
    price_minor        bigint NOT NULL CHECK (price_minor >= 0),
    currency           char(3) NOT NULL DEFAULT 'USD',
    quantity           integer NOT NULL CHECK (quantity >= 0),
    available_quantity integer NOT NULL CHECK (available_quantity >= 0),
    sold_quantity      integer NOT NULL DEFAULT 0 CHECK (sold_quantity >= 0),
    max_per_purchase   integer NOT NULL DEFAULT 10 CHECK (max_per_purchase >= 1),
    min_per_purchase   integer NOT NULL DEFAULT 1 CHECK (min_per_purchase >= 1),
    valid_from         timestamptz(3),
    valid_until        timestamptz(3),
    status             varchar(20) NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'locked', 'hidden', 'deleted')),
    created_at         timestamptz(3) NOT NULL DEFAULT now(),
    updated_at         timestamptz(3) NOT NULL DEFAULT now(),
    CHECK (min_per_purchase <= max_per_purchase),
    CHECK (available_quantity <= quantity),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from),
    UNIQUE (event_id, name)
);
CREATE INDEX ticket_types_event_idx ON ticket_types (event_id, price_minor, id);
CREATE INDEX ticket_types_list_idx ON ticket_types (created_at, id);

CREATE TABLE pricing_rules (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    ticket_type_id  uuid REFERENCES ticket_types(id) ON DELETE CASCADE,
    name            varchar(100) NOT NULL,
    -- 'demand': price rises with the sold share; 'time': price changes as the event nears.
    kind            varchar(20) NOT NULL CHECK (kind IN ('demand', 'time')),
    -- kind demand: threshold = sold share in basis points (0..10000);
    -- kind time:   threshold = seconds before the event starts.
    threshold       integer NOT NULL CHECK (threshold >= 0),
    -- Price adjustment in basis points of the base price (+2500 = +25%, -1000 = -10%).
    adjustment_bps  integer NOT NULL CHECK (adjustment_bps BETWEEN -10000 AND 100000),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    updated_at      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX pricing_rules_event_idx ON pricing_rules (event_id, created_at, id);

CREATE TABLE promo_codes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    code            varchar(64) NOT NULL,
    -- Exactly one of percent_off_bps / amount_off_minor is set.
    percent_off_bps integer CHECK (percent_off_bps BETWEEN 1 AND 10000),
    amount_off_minor bigint CHECK (amount_off_minor > 0),
    currency        char(3),
    max_uses        integer CHECK (max_uses > 0),
    used_count      integer NOT NULL DEFAULT 0 CHECK (used_count >= 0),
    valid_from      timestamptz(3),
    valid_until     timestamptz(3),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    updated_at      timestamptz(3) NOT NULL DEFAULT now(),
    CHECK ((percent_off_bps IS NULL) <> (amount_off_minor IS NULL)),
    CHECK (amount_off_minor IS NULL OR currency IS NOT NULL),
    CHECK (max_uses IS NULL OR used_count <= max_uses)
);
-- Codes are case-insensitive and unique per event.
CREATE UNIQUE INDEX promo_codes_event_code_idx ON promo_codes (event_id, upper(code));
CREATE INDEX promo_codes_event_list_idx ON promo_codes (event_id, created_at, id);
