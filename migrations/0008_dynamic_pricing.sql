-- 0008: dynamic pricing. Velocity rules (tickets sold within a window), disclosed price
-- bounds per ticket type, and release tiers that open when another ticket type sells out.

ALTER TABLE pricing_rules DROP CONSTRAINT pricing_rules_kind_check;
-- 'velocity': threshold = tickets sold within window_seconds.
ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_kind_check CHECK (kind IN ('demand', 'time', 'velocity'));
ALTER TABLE pricing_rules ADD COLUMN window_seconds integer CHECK (window_seconds BETWEEN 60 AND 86400);
ALTER TABLE pricing_rules ADD CONSTRAINT pricing_rules_window_kind_check
    CHECK ((kind = 'velocity') = (window_seconds IS NOT NULL));

-- The dynamic price is clamped to [price_floor_minor, price_cap_minor] (the ticket type's
-- currency); with neither set, to [50 %, 300 %] of the base price.
ALTER TABLE ticket_types ADD COLUMN price_floor_minor bigint CHECK (price_floor_minor >= 0);
ALTER TABLE ticket_types ADD COLUMN price_cap_minor bigint CHECK (price_cap_minor >= 0);
ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_price_bounds_check
    CHECK (price_floor_minor IS NULL OR price_cap_minor IS NULL OR price_floor_minor <= price_cap_minor);
-- A release tier: not on sale until that ticket type (same event) sells out.
ALTER TABLE ticket_types ADD COLUMN opens_after_sold_out uuid REFERENCES ticket_types(id) ON DELETE SET NULL;
ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_tier_not_self_check CHECK (opens_after_sold_out <> id);
