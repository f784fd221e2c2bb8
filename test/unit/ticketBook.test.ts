/**
 * The ticket book (columns) against a plain model, one `Ticket` object per id: random
 * issues, check-ins and voids read back the same through `get`, `has`, `currencyOf`,
 * `voidedIds`, `size` and `ids`, and survive a round trip through its columns.
 */
import test from 'ava';
import fc from 'fast-check';
import type { Ticket } from '../../actors/inventory/model.js';
import { TicketBook } from '../../actors/inventory/ticketBook.js';

type Op =
  | { k: 'issue'; reservation: number; currency: string; tickets: { id: number; type: string; price: number }[] }
  | { k: 'checkIn'; id: number; at: number; gate: string }
  | { k: 'void'; id: number }
  | { k: 'voidAll' };

const ticketId = (n: number) => `ticket-${n}`;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('issue' as const),
      reservation: fc.nat(50),
      currency: fc.constantFrom('EUR', 'USD', 'GBP'),
      tickets: fc.uniqueArray(fc.record({ id: fc.nat(300), type: fc.constantFrom('type-a', 'type-b', 'type-c'), price: fc.integer({ min: 0, max: 1e9 }) }), { selector: (t) => t.id, maxLength: 6 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('checkIn' as const), id: fc.nat(300), at: fc.integer({ min: 0, max: 2e12 }), gate: fc.constantFrom('North', 'South', 'East', '') }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('void' as const), id: fc.nat(300) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'voidAll' as const }) },
);

class Model {
  readonly tickets = new Map<string, Ticket>();
  readonly currency = new Map<string, string>();

  apply(op: Op): void {
    if (op.k === 'issue') {
      for (const t of op.tickets) {
        const id = ticketId(t.id);
        this.tickets.set(id, { id, ticketTypeId: t.type, reservationId: `reservation-${op.reservation}`, priceMinor: t.price, status: 'VALID', checkedInAt: null, gate: null });
        this.currency.set(id, op.currency);
      }
    } else if (op.k === 'checkIn') {
      const t = this.tickets.get(ticketId(op.id));
      if (t) this.tickets.set(t.id, { ...t, status: 'USED', checkedInAt: op.at, gate: op.gate });
    } else if (op.k === 'void') {
      const t = this.tickets.get(ticketId(op.id));
      if (t) this.tickets.set(t.id, { ...t, status: 'VOID' });
    } else {
      for (const t of this.tickets.values()) this.tickets.set(t.id, { ...t, status: 'VOID' });
    }
  }
}

function applyTo(book: TicketBook, op: Op): void {
  if (op.k === 'issue') {
    book.issue(`reservation-${op.reservation}`, op.currency, op.tickets.map((t) => ({ id: ticketId(t.id), ticketTypeId: t.type, priceMinor: t.price })));
  } else if (op.k === 'checkIn') book.checkIn(ticketId(op.id), op.at, op.gate);
  else if (op.k === 'void') book.void(ticketId(op.id));
  else book.voidAll();
}

function same(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; is: (a: unknown, b: unknown, m?: string) => void }, book: TicketBook, model: Model): void {
  t.is(book.size, model.tickets.size);
  t.deepEqual([...book.ids()], [...model.tickets.keys()], 'ids in issue order');
  for (let n = 0; n <= 300; n++) {
    const id = ticketId(n);
    t.deepEqual(book.get(id), model.tickets.get(id), id);
    t.is(book.has(id), model.tickets.has(id));
    t.is(book.currencyOf(id), model.currency.get(id));
  }
  t.deepEqual(book.voidedIds(), [...model.tickets.values()].filter((x) => x.status === 'VOID').map((x) => x.id));
  t.deepEqual(book.toJSON(), Object.fromEntries(model.tickets));
}

test('the ticket book reads back what a plain map of tickets holds, also after a round trip through its columns', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const book = new TicketBook();
      const model = new Model();
      for (const op of ops) {
        applyTo(book, op);
        model.apply(op);
      }
      same(t, book, model);
      const copy = TicketBook.fromColumns(book.columns());
      same(t, copy, model);
      // The copy keeps working: later changes land in it only.
      const more: Op = { k: 'issue', reservation: 99, currency: 'EUR', tickets: [{ id: 301, type: 'type-a', price: 1 }] };
      applyTo(copy, more);
      t.true(copy.has(ticketId(301)) && !book.has(ticketId(301)));
    }),
    { numRuns: 200 },
  );
});

test('columns of unequal length are refused', (t) => {
  const book = new TicketBook();
  book.issue('r', 'EUR', [{ id: 'a', ticketTypeId: 'x', priceMinor: 1 }]);
  const c = book.columns();
  t.throws(() => TicketBook.fromColumns({ ...c, priceMinor: new Float64Array(2) }), { message: /unequal length/ });
});
