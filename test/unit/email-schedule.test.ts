import { describe, expect, it } from 'vitest';
import { UnsubscribeTokens } from '../../src/email/unsubscribe-token.js';
import { digestPeriod } from '../../src/email/weekly-digest.service.js';

const mondayAt8 = { weekday: 1, hour: 8 };

describe('weekly digest period', () => {
  it('covers the seven days before the latest scheduled time', () => {
    // Wednesday 15 May 2024: the latest Monday 08:00 UTC is the 13th.
    expect(digestPeriod(new Date('2024-05-15T12:00:00Z'), mondayAt8)).toEqual({
      start: new Date('2024-05-06T08:00:00Z'),
      end: new Date('2024-05-13T08:00:00Z'),
      key: '2024-05-13',
    });
  });

  it('turns over exactly at the scheduled hour', () => {
    expect(digestPeriod(new Date('2024-05-13T07:59:59Z'), mondayAt8).key).toBe('2024-05-06');
    expect(digestPeriod(new Date('2024-05-13T08:00:00Z'), mondayAt8).key).toBe('2024-05-13');
  });

  it('works across month and year ends and for any weekday', () => {
    expect(digestPeriod(new Date('2025-01-01T00:30:00Z'), { weekday: 0, hour: 18 })).toMatchObject({
      end: new Date('2024-12-29T18:00:00Z'),
      start: new Date('2024-12-22T18:00:00Z'),
    });
  });
});

describe('unsubscribe links', () => {
  const tokens = new UnsubscribeTokens('a-long-installation-secret-of-32-chars!');

  it('name the creator and category they were made for', () => {
    const token = tokens.create('5f0c2b4e-9d1a-4c55-8a2b-3c4d5e6f7a8b', 'weekly-digest');
    expect(tokens.read(token)).toEqual({ creatorId: '5f0c2b4e-9d1a-4c55-8a2b-3c4d5e6f7a8b', category: 'weekly-digest' });
  });

  it('cannot be pointed at someone else or made by another installation', () => {
    const token = tokens.create('5f0c2b4e-9d1a-4c55-8a2b-3c4d5e6f7a8b', 'weekly-digest');
    const [, category, mac] = token.split('.');
    expect(tokens.read(`00000000-0000-4000-8000-000000000000.${category}.${mac}`)).toBeNull();
    expect(tokens.read(token.replace('weekly-digest', 'payment-failed'))).toBeNull();
    expect(new UnsubscribeTokens('another-installation-secret-32-chars!!').read(token)).toBeNull();
    expect(tokens.read('garbage')).toBeNull();
  });
});
