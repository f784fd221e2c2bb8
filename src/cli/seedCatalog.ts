/**
 * Static ingredients for the demo catalog `ticketctl seed` writes: venues (fictional
 * names at plausible addresses), categories and the word lists titles are built from.
 */

export interface VenueTemplate {
  readonly name: string;
  readonly address: string;
  readonly city: string;
  readonly state: string | null;
  readonly country: string;
  readonly postal_code: string | null;
  /** Decimal degrees as text: the columns are numeric, never floats on the wire. */
  readonly latitude: string;
  readonly longitude: string;
  readonly capacity: number;
  readonly amenities: readonly string[];
  /** ISO 4217 currency the venue's ticket types are priced in. */
  readonly currency: 'USD' | 'EUR' | 'GBP';
}

export const VENUES: readonly VenueTemplate[] = [
  { name: 'Hudson Yards Arena', address: '401 West 33rd Street', city: 'New York', state: 'NY', country: 'United States', postal_code: '10001', latitude: '40.752600', longitude: '-73.998100', capacity: 18000, amenities: ['parking', 'wheelchair_access', 'food_court', 'bar', 'coat_check'], currency: 'USD' },
  { name: 'The Bowery Ballroom Stage', address: '6 Delancey Street', city: 'New York', state: 'NY', country: 'United States', postal_code: '10002', latitude: '40.720400', longitude: '-73.993600', capacity: 650, amenities: ['bar', 'standing_room', 'coat_check'], currency: 'USD' },
  { name: 'Sunset Grove Amphitheatre', address: '2301 North Highland Avenue', city: 'Los Angeles', state: 'CA', country: 'United States', postal_code: '90068', latitude: '34.112200', longitude: '-118.338900', capacity: 17500, amenities: ['parking', 'wheelchair_access', 'food_trucks', 'bar', 'picnic_area'], currency: 'USD' },
  { name: 'Figueroa Convention Center', address: '1201 South Figueroa Street', city: 'Los Angeles', state: 'CA', country: 'United States', postal_code: '90015', latitude: '34.040300', longitude: '-118.269600', capacity: 6000, amenities: ['wifi', 'parking', 'wheelchair_access', 'cafe', 'cloakroom'], currency: 'USD' },
  { name: 'Lakeshore Theatre', address: '175 East Chestnut Street', city: 'Chicago', state: 'IL', country: 'United States', postal_code: '60611', latitude: '41.898300', longitude: '-87.623100', capacity: 1800, amenities: ['wheelchair_access', 'bar', 'assisted_listening', 'coat_check'], currency: 'USD' },
  { name: 'Congress Avenue Music Hall', address: '310 Congress Avenue', city: 'Austin', state: 'TX', country: 'United States', postal_code: '78701', latitude: '30.265700', longitude: '-97.743600', capacity: 2750, amenities: ['bar', 'food_court', 'standing_room', 'wheelchair_access'], currency: 'USD' },
  { name: 'Cumberland River Pavilion', address: '100 1st Avenue North', city: 'Nashville', state: 'TN', country: 'United States', postal_code: '37201', latitude: '36.163200', longitude: '-86.775800', capacity: 6800, amenities: ['parking', 'bar', 'lawn_seating', 'wheelchair_access'], currency: 'USD' },
  { name: 'Southbank Concert Hall', address: 'Belvedere Road', city: 'London', state: null, country: 'United Kingdom', postal_code: 'SE1 8XX', latitude: '51.505700', longitude: '-0.116700', capacity: 2900, amenities: ['wheelchair_access', 'bar', 'restaurant', 'cloakroom', 'hearing_loop'], currency: 'GBP' },
  { name: 'Camden Roundhouse Studio', address: 'Chalk Farm Road', city: 'London', state: null, country: 'United Kingdom', postal_code: 'NW1 8EH', latitude: '51.543200', longitude: '-0.151900', capacity: 1700, amenities: ['bar', 'standing_room', 'cloakroom'], currency: 'GBP' },
  { name: 'Spreeufer Arena', address: 'Mercedes-Platz 1', city: 'Berlin', state: null, country: 'Germany', postal_code: '10243', latitude: '52.505000', longitude: '13.443500', capacity: 17000, amenities: ['parking', 'wheelchair_access', 'food_court', 'bar', 'cloakroom'], currency: 'EUR' },
  { name: 'Kreuzberg Kulturhaus', address: 'Oranienstraße 190', city: 'Berlin', state: null, country: 'Germany', postal_code: '10999', latitude: '52.501300', longitude: '13.418900', capacity: 900, amenities: ['bar', 'standing_room', 'wifi'], currency: 'EUR' },
  { name: 'IJ Harbour Hall', address: 'Piet Heinkade 1', city: 'Amsterdam', state: null, country: 'Netherlands', postal_code: '1019 BR', latitude: '52.377900', longitude: '4.913200', capacity: 1500, amenities: ['wifi', 'cafe', 'wheelchair_access', 'cloakroom'], currency: 'EUR' },
];

export const CATEGORIES = [
  'concerts',
  'theatre',
  'sports',
  'comedy',
  'festivals',
  'conferences',
  'family',
  'dance',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Start hour (UTC) and duration in hours, by category. */
export const SCHEDULE: Readonly<Record<Category, { readonly hours: readonly number[]; readonly durationHours: readonly number[] }>> = {
  concerts: { hours: [19, 20], durationHours: [3] },
  theatre: { hours: [14, 19], durationHours: [2, 3] },
  sports: { hours: [13, 18], durationHours: [2, 3] },
  comedy: { hours: [20, 21], durationHours: [2] },
  festivals: { hours: [11, 12], durationHours: [10, 34, 58] },
  conferences: { hours: [8, 9], durationHours: [9, 33] },
  family: { hours: [10, 14], durationHours: [2] },
  dance: { hours: [19], durationHours: [2, 3] },
};

export const WORDS = {
  adjectives: ['Velvet', 'Neon', 'Silver', 'Midnight', 'Golden', 'Electric', 'Crimson', 'Wild', 'Paper', 'Northern'],
  nouns: ['Foxes', 'Harbor', 'Lanterns', 'Echoes', 'Sparrows', 'Tides', 'Comets', 'Orchard', 'Rivers', 'Parade'],
  people: ['Maya Ortiz', 'Sam Okafor', 'Lena Fischer', 'Jonah Price', 'Priya Raman', 'Theo Laurent', 'Ada Nakamura', 'Ruth Cole'],
  plays: ['Hamlet', 'A Midsummer Night’s Dream', 'The Importance of Being Earnest', 'Much Ado About Nothing', 'The Cherry Orchard', 'Twelfth Night', 'A Doll’s House', 'Macbeth'],
  teams: ['City Foxes', 'Harbor United', 'Northside Rangers', 'River Hawks', 'Metro Titans', 'Lakeside Wolves', 'Valley Comets', 'Capital Stars'],
  topics: ['Cloud Native', 'Data Engineering', 'Product Design', 'Open Source', 'Security', 'Frontend', 'Machine Learning', 'Developer Experience'],
  festivals: ['Jazz', 'Food & Wine', 'Indie Music', 'Film', 'Street Art', 'Electronic', 'Folk', 'Lights'],
  family: ['Dinosaur Discovery Live', 'Circus of Wonders', 'Puppet Kingdom', 'Science Show Spectacular', 'Ice Princess Gala', 'Magic for Minis'],
  dance: ['Swan Lake', 'The Nutcracker', 'Giselle', 'Contemporary Nights', 'Flamenco Fuego', 'Rhythm & Tap'],
  tours: ['Afterglow', 'Long Way Home', 'Static Bloom', 'Night Drive', 'Open Skies', 'Heartland'],
} as const;

/** Ticket type names, cheapest-first multiplier of the event's base price (in basis points). */
export const TICKET_TIERS: readonly { readonly name: string; readonly multiplierBps: number; readonly share: number; readonly description: string }[] = [
  { name: 'Early Bird', multiplierBps: 8000, share: 0.1, description: 'Limited early-purchase price.' },
  { name: 'Balcony', multiplierBps: 8500, share: 0.2, description: 'Upper-level seating.' },
  { name: 'Premium Seating', multiplierBps: 15000, share: 0.1, description: 'Best seats in the house.' },
  { name: 'VIP', multiplierBps: 25000, share: 0.05, description: 'Priority entry, lounge access and a souvenir.' },
];
