import { describe, expect, it } from 'vitest';
import { chooseDelivery, isWindowOpen, NO_TEMPLATE_MESSAGE, windowClosesAt } from '../../channels/whatsapp/service-window.js';

const HOUR = 60 * 60 * 1000;
const lastInboundAt = new Date('2025-03-01T12:00:00Z');
const after = (ms: number) => new Date(lastInboundAt.getTime() + ms);

describe('isWindowOpen', () => {
  it('is open for 24 hours after the user last wrote, and closed from then on', () => {
    expect(isWindowOpen(lastInboundAt, after(0))).toBe(true);
    expect(isWindowOpen(lastInboundAt, after(23 * HOUR + 59 * 60 * 1000))).toBe(true);
    expect(isWindowOpen(lastInboundAt, after(24 * HOUR - 1))).toBe(true);
    expect(isWindowOpen(lastInboundAt, after(24 * HOUR))).toBe(false);
    expect(isWindowOpen(lastInboundAt, after(72 * HOUR))).toBe(false);
    expect(windowClosesAt(lastInboundAt).toISOString()).toBe('2025-03-02T12:00:00.000Z');
  });

  it('is closed for someone who never wrote, or an unreadable date', () => {
    expect(isWindowOpen(undefined, after(0))).toBe(false);
    expect(isWindowOpen(new Date('nonsense'), after(0))).toBe(false);
  });

  it('stays open when our clock is a little behind the message time', () => {
    expect(isWindowOpen(lastInboundAt, after(-5_000))).toBe(true);
  });
});

describe('chooseDelivery', () => {
  it('sends free-form inside the window, whether or not a template exists', () => {
    expect(chooseDelivery({ lastInboundAt, now: after(HOUR), templateConfigured: true })).toBe('free-form');
    expect(chooseDelivery({ lastInboundAt, now: after(HOUR), templateConfigured: false })).toBe('free-form');
  });

  it('falls back to the template outside the window', () => {
    expect(chooseDelivery({ lastInboundAt, now: after(25 * HOUR), templateConfigured: true })).toBe('template');
    expect(chooseDelivery({ lastInboundAt: undefined, now: after(0), templateConfigured: true })).toBe('template');
  });

  it('fails with a clear reason outside the window when no template is configured', () => {
    expect(chooseDelivery({ lastInboundAt, now: after(25 * HOUR), templateConfigured: false })).toEqual({ fail: NO_TEMPLATE_MESSAGE });
    expect(NO_TEMPLATE_MESSAGE).toBe('Outside the 24-hour window and no approved template is configured');
  });

  it('treats the window as closed within the safety margin of its end', () => {
    const now = after(24 * HOUR - 30_000);
    expect(chooseDelivery({ lastInboundAt, now, templateConfigured: true })).toBe('free-form');
    expect(chooseDelivery({ lastInboundAt, now, templateConfigured: true, marginMs: 60_000 })).toBe('template');
  });
});
