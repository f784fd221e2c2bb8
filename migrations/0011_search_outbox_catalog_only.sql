-- 0011: sales no longer touch the search outbox.
--
-- The inventory projection writes each event's `current_capacity` (its sold tickets) every
-- projection interval while tickets sell. The event trigger of 0009 fired on any change of
-- the row, so every sale bumped the event's search version: an outbox upsert inside the
-- projection's statement, an Elasticsearch write and every cached search retired, over
-- and over during a sale. Search documents do not hold sold tickets: the event trigger now
-- fires only when a column a document holds changes.

DROP TRIGGER events_search_outbox_update ON events;
CREATE TRIGGER events_search_outbox_update AFTER UPDATE ON events
    FOR EACH ROW WHEN ((OLD.title, OLD.description, OLD.category, OLD.venue_id, OLD.start_date, OLD.end_date,
                        OLD.status, OLD.featured, OLD.image_url, OLD.max_capacity, OLD.cancelled_at,
                        OLD.created_at, OLD.updated_at)
                       IS DISTINCT FROM
                       (NEW.title, NEW.description, NEW.category, NEW.venue_id, NEW.start_date, NEW.end_date,
                        NEW.status, NEW.featured, NEW.image_url, NEW.max_capacity, NEW.cancelled_at,
                        NEW.created_at, NEW.updated_at))
    EXECUTE FUNCTION search_outbox_event_trigger();
