/** A one-type availability view for projection tests: `available` of 100 seats, the rest held. */
import type { AvailabilityJson } from '../../src/inventory/availabilityView.js';

export const availabilityView = (eventId: string, version: number, available = 100 - version): AvailabilityJson => ({
  event_id: eventId,
  version,
  event_locked: false,
  ticket_types: [
    {
      ticket_type_id: 'tt',
      name: 'GA',
      available,
      capacity: 100,
      sold: 0,
      held: 100 - available,
      locked: false,
      price: { currency: 'USD', amount_minor: 100, display: '$1.00' },
      price_valid_until: null,
      status: 'on_sale',
    },
  ],
});
