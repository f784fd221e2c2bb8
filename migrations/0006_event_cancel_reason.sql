-- 0006: why an event was cancelled. The catalog write that cancels an event is final and
-- comes first; the event's inventory actor applies the cancellation (with this reason)
-- when it is told, or itself when it loads an event the catalog says is cancelled.

ALTER TABLE events ADD COLUMN cancel_reason text;
