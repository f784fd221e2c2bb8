-- 0009: the search outbox, and venue coordinates indexed for "near a place".
--
-- Every catalog write that changes what an event's search document holds (the event,
-- its venue, its ticket types' names and prices) upserts the event's row in
-- search_outbox in the same transaction, through the triggers below, so no write path
-- can forget it and no change is lost when a pod dies after committing.
--
-- One row per event, coalescing: `version` is the document version (a global sequence,
-- taken after the row lock, so for one event later commits get larger versions) and
-- `indexed_version` the last version the search indexer wrote to Elasticsearch. The
-- event is pending while version > indexed_version. The table never holds more rows
-- than there are (and were) events, and is written whatever the search backend is.
-- `writer_xid` is the transaction that last changed the document: a reindex that read
-- the catalog in one snapshot catches up on exactly the rows that snapshot did not see.

CREATE SEQUENCE search_version_seq;

CREATE TABLE search_outbox (
    event_id        uuid PRIMARY KEY,
    version         bigint NOT NULL,
    indexed_version bigint NOT NULL DEFAULT 0,
    changed_at      timestamptz(3) NOT NULL DEFAULT now(),
    writer_xid      xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX search_outbox_pending_idx ON search_outbox (changed_at, event_id) WHERE version > indexed_version;

CREATE FUNCTION search_outbox_touch(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO search_outbox AS o (event_id, version)
    SELECT id, nextval('search_version_seq') FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id) ORDER BY id) d
    ON CONFLICT (event_id) DO UPDATE
        SET version = nextval('search_version_seq'), changed_at = now(), writer_xid = pg_current_xact_id();
    SELECT pg_notify('search_outbox', '');
$$;

CREATE FUNCTION search_outbox_event_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM search_outbox_touch(ARRAY[OLD.id]);
    ELSE
        PERFORM search_outbox_touch(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER events_search_outbox_insert_delete AFTER INSERT OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION search_outbox_event_trigger();
CREATE TRIGGER events_search_outbox_update AFTER UPDATE ON events
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION search_outbox_event_trigger();

CREATE FUNCTION search_outbox_venue_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_outbox_touch(ARRAY(SELECT id FROM events WHERE venue_id = NEW.id));
    RETURN NULL;
END $$;

CREATE TRIGGER venues_search_outbox AFTER UPDATE ON venues
    FOR EACH ROW WHEN ((OLD.name, OLD.city, OLD.latitude, OLD.longitude)
                       IS DISTINCT FROM (NEW.name, NEW.city, NEW.latitude, NEW.longitude))
    EXECUTE FUNCTION search_outbox_venue_trigger();

CREATE FUNCTION search_outbox_ticket_type_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM search_outbox_touch(ARRAY[OLD.event_id]);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM search_outbox_touch(ARRAY[NEW.event_id]);
    ELSE
        PERFORM search_outbox_touch(ARRAY[OLD.event_id, NEW.event_id]);
    END IF;
    RETURN NULL;
END $$;

-- Only what the document holds (the price a search result shows); the inventory
-- projection's counter and lock updates do not touch the outbox.
CREATE TRIGGER ticket_types_search_outbox_insert_delete AFTER INSERT OR DELETE ON ticket_types
    FOR EACH ROW EXECUTE FUNCTION search_outbox_ticket_type_trigger();
CREATE TRIGGER ticket_types_search_outbox_update AFTER UPDATE ON ticket_types
    FOR EACH ROW WHEN ((OLD.event_id, OLD.name, OLD.price_minor, OLD.currency, OLD.status IN ('hidden', 'deleted'))
                       IS DISTINCT FROM (NEW.event_id, NEW.name, NEW.price_minor, NEW.currency, NEW.status IN ('hidden', 'deleted')))
    EXECUTE FUNCTION search_outbox_ticket_type_trigger();

-- Every existing event starts pending (a reindex writes them all anyway).
INSERT INTO search_outbox (event_id, version) SELECT id, nextval('search_version_seq') FROM events ORDER BY id;

-- Near a place: a bounding box on the venue's coordinates narrows the candidates before
-- the exact (haversine) distance; venues without coordinates are never near anything.
CREATE INDEX venues_location_idx ON venues (latitude, longitude) WHERE latitude IS NOT NULL AND longitude IS NOT NULL;
