import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingRepository } from '../../src/db/billing.repository.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let db: TestDatabase;
let checkouts: BillingRepository;

beforeAll(async () => {
  db = await createTestDatabase();
  checkouts = new BillingRepository(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

async function newCreator(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO creators (email, name, password_hash) VALUES ('c' || gen_random_uuid() || '@example.com', 'C', 'x') RETURNING id`,
  );
  return rows[0]!.id;
}

const session = (id: string, planId = 'pro') => ({
  sessionId: id,
  url: `https://checkout.stripe.com/c/pay/${id}`,
  planId,
  priceId: `price_${planId}`,
  expiresAt: new Date('2030-01-02T00:00:00Z'),
});

describe("a creator's last checkout", () => {
  it('keeps one session per creator, the latest, open until Stripe ends it', async () => {
    const creator = await newCreator();
    expect(await checkouts.lastCheckout(creator)).toBeNull();
    await checkouts.saveCheckout(creator, session('cs_test_a'));
    await checkouts.saveCheckout(creator, session('cs_test_b', 'team'));
    expect(await checkouts.lastCheckout(creator)).toEqual({ ...session('cs_test_b', 'team'), ended: false });
    // An event about the session it replaced changes nothing.
    await checkouts.endCheckout('cs_test_a');
    expect((await checkouts.lastCheckout(creator))?.ended).toBe(false);
    await checkouts.endCheckout('cs_test_b');
    expect((await checkouts.lastCheckout(creator))?.ended).toBe(true);
  });

  it('stays ended when a click that raced the completion saves the same session again', async () => {
    const creator = await newCreator();
    await checkouts.saveCheckout(creator, session('cs_test_paid'));
    await checkouts.endCheckout('cs_test_paid');
    // Stripe replayed the session for the click's idempotency key; it was paid meanwhile.
    await checkouts.saveCheckout(creator, session('cs_test_paid'));
    expect((await checkouts.lastCheckout(creator))?.ended).toBe(true);
    // A different session starts open.
    await checkouts.saveCheckout(creator, session('cs_test_next'));
    expect(await checkouts.lastCheckout(creator)).toMatchObject({ sessionId: 'cs_test_next', ended: false });
  });
});
