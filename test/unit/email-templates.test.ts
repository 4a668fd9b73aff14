import { describe, expect, it } from 'vitest';
import { emailCategories, type EmailCategory, type EmailEvent } from '../../src/email/ports.js';
import { applySuppressionChange, isTransactional, mayReceive, suppressionFromEvent, type Suppression } from '../../src/email/suppression.js';
import { escapeHtml, html } from '../../src/email/templates/html.js';
import { renderEmail, type RenderedEmail, type TemplateData } from '../../src/email/templates/render-email.js';

const brand = { productName: 'Coachbot', supportEmail: 'help@coachbot.example' };
const EVIL = '<script>alert("x")</script> & "Co" \'s';

/** Data for every template with hostile text wherever a person or an end user supplies it. */
const samples: { [C in EmailCategory]: TemplateData<C> } = {
  'verify-email': { name: EVIL, verifyUrl: 'https://app.example/verify?token=a&b=1', expiresInHours: 24 },
  'password-reset': { name: EVIL, resetUrl: 'https://app.example/reset?token=abc', expiresInMinutes: 30 },
  'document-ingestion-failed': {
    name: EVIL,
    botName: `Bot ${EVIL}`,
    documentTitle: `Guide ${EVIL}`,
    reason: `The PDF is password-protected ${EVIL}`,
    documentsUrl: 'https://app.example/bots/1/documents',
  },
  'payment-failed': {
    name: EVIL,
    planName: 'Pro',
    amountDue: { amount: 1500, currency: 'usd' },
    accessUntil: new Date('2024-06-01T00:00:00Z'),
    nextAttempt: new Date('2024-05-04T00:00:00Z'),
    updatePaymentUrl: 'https://billing.stripe.com/p/session/test_1',
    fallbackPlanName: 'Free',
  },
  'subscription-ended': {
    name: EVIL,
    planName: 'Pro',
    endedAt: new Date('2024-06-01T00:00:00Z'),
    fallbackPlanName: 'Free',
    fallbackLimits: ['1 bot', '20 documents', '500 replies a month'],
    resubscribeUrl: 'https://app.example/billing',
  },
  'weekly-digest': {
    name: EVIL,
    periodStart: new Date('2024-05-06T00:00:00Z'),
    periodEnd: new Date('2024-05-13T00:00:00Z'),
    bots: [
      { name: `Sleep coach ${EVIL}`, conversations: 42, activeContacts: 17, unansweredQuestions: [`How do I <b>nap</b>? ${EVIL}`, 'Is coffee ok after 4pm?'] },
      { name: 'Running coach', conversations: 1, activeContacts: 1, unansweredQuestions: [] },
    ],
    dashboardUrl: 'https://app.example/dashboard',
    unsubscribeUrl: 'https://app.example/unsubscribe?t=xyz',
  },
  'human-requested': {
    name: EVIL,
    botName: `Sleep coach ${EVIL}`,
    contactName: `Ana ${EVIL}`,
    channel: 'telegram',
    message: `/human I need help ${EVIL}`,
    inboxUrl: 'https://app.example/app/inbox',
  },
};

function render<C extends EmailCategory>(category: C): RenderedEmail {
  return renderEmail(category, samples[category], brand);
}

describe('email templates', () => {
  it.each(emailCategories)('%s renders a subject, a text part and an HTML part', (category) => {
    const email = render(category);
    expect(email.category).toBe(category);
    expect(email.subject.length).toBeGreaterThan(5);
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.text).toContain('Hi ');
    expect(email.text).toContain('Coachbot');
    expect(email.html).toMatch(/^<!doctype html>/);
    expect(email.html).toContain('</html>');
    // Plain text is for people who do not read HTML; no markup leaks into it.
    expect(email.text).not.toMatch(/<(p|a|table|strong)[ >]/);
  });

  it.each(emailCategories)('%s keeps an injected <script> in a creator-supplied value escaped', (category) => {
    const email = render(category);
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<b>nap</b>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot; &#39;s');
    // The text part shows the name exactly as typed.
    expect(email.text).toContain(EVIL);
  });

  it('puts each link in the HTML with its query string escaped, and in the text as-is', () => {
    const email = render('verify-email');
    expect(email.html).toContain('href="https://app.example/verify?token=a&amp;b=1"');
    expect(email.text).toContain('https://app.example/verify?token=a&b=1');
  });

  it('refuses to link to javascript: URLs', () => {
    expect(() => renderEmail('password-reset', { ...samples['password-reset'], resetUrl: 'javascript:alert(1)' }, brand)).toThrow(/javascript:/);
  });

  it('states money, dates and counts the way a reader expects', () => {
    const failed = render('payment-failed');
    expect(failed.text).toContain('We could not charge $15.00 for your Pro plan. We will try again on May 4, 2024.');
    expect(failed.text).toContain('stays active until June 1, 2024');
    expect(renderEmail('payment-failed', { ...samples['payment-failed'], amountDue: { amount: 500, currency: 'jpy' } }, brand).text).toContain('¥500');

    const digest = render('weekly-digest');
    expect(digest.subject).toBe('Your week with Coachbot: 43 conversations');
    expect(digest.text).toContain('from May 6, 2024 – May 12, 2024: 43 conversations with 18 people; 2 questions your material did not answer.');
    expect(digest.text).toContain('Is coffee ok after 4pm?');
  });

  it('puts the unsubscribe link only on the digest, the one non-transactional email', () => {
    for (const category of emailCategories) {
      const email = render(category);
      if (category === 'weekly-digest') {
        expect(email.unsubscribeUrl).toBe('https://app.example/unsubscribe?t=xyz');
        expect(email.text).toContain('Unsubscribe: https://app.example/unsubscribe?t=xyz');
        expect(email.html).toContain('href="https://app.example/unsubscribe?t=xyz"');
      } else {
        expect(email.unsubscribeUrl).toBeUndefined();
        expect(email.html).not.toContain('Unsubscribe');
      }
      expect(isTransactional(category)).toBe(category !== 'weekly-digest');
    }
  });

  it('keeps a subject on one line even when a document title contains line breaks', () => {
    const email = renderEmail('document-ingestion-failed', { ...samples['document-ingestion-failed'], documentTitle: 'Notes\r\nBcc: victim@example.com' }, brand);
    expect(email.subject).toBe('“Notes Bcc: victim@example.com” could not be added to Bot <script>alert("x")</script> & "Co" \'s');
  });

  it('shows a few unanswered questions per bot and counts the rest', () => {
    const many = Array.from({ length: 8 }, (_, i) => `Question number ${i + 1}?`);
    const email = renderEmail('weekly-digest', { ...samples['weekly-digest'], bots: [{ name: 'Bot', conversations: 8, activeContacts: 3, unansweredQuestions: many }] }, brand);
    expect(email.text).toContain('Question number 5?');
    expect(email.text).not.toContain('Question number 6?');
    expect(email.text).toContain('…and 3 more.');
    expect(email.html).toContain('…and 3 more.');
  });

  it('escapes inside the html builder, nested lists included', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const items = ['<i>', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe('<ul><li>&lt;i&gt;</li><li>b</li></ul>');
  });
});

function event(type: EmailEvent['type'], patch: Partial<EmailEvent> = {}): EmailEvent {
  return {
    id: 'ev1',
    type,
    providerType: type,
    email: 'Creator@Example.com ',
    timestamp: 1_700_000_000,
    providerMessageId: null,
    categories: ['weekly-digest'],
    reason: null,
    idempotencyKey: null,
    groupId: null,
    ...patch,
  };
}

describe('suppression', () => {
  function listFrom(...events: EmailEvent[]): Suppression[] {
    return events.reduce<Suppression[]>((list, e) => {
      const change = suppressionFromEvent(e);
      return change ? applySuppressionChange(list, change) : list;
    }, []);
  }

  it('stops all mail to a hard-bounced address, compared case-insensitively', () => {
    const list = listFrom(event('bounce'));
    expect(mayReceive('creator@example.com', 'password-reset', list)).toEqual({ allowed: false, reason: 'bounce' });
    expect(mayReceive('CREATOR@example.com', 'weekly-digest', list)).toEqual({ allowed: false, reason: 'bounce' });
    expect(mayReceive('someone.else@example.com', 'weekly-digest', list)).toEqual({ allowed: true });
  });

  it('lets transactional mail through after a spam report or unsubscribe, but not the digest', () => {
    for (const type of ['spamreport', 'unsubscribe'] as const) {
      const list = listFrom(event(type));
      expect(mayReceive('creator@example.com', 'weekly-digest', list)).toEqual({ allowed: false, reason: type });
      expect(mayReceive('creator@example.com', 'payment-failed', list)).toEqual({ allowed: true });
    }
  });

  it('mirrors SendGrid drops of already-suppressed addresses, and ignores temporary blocks', () => {
    expect(listFrom(event('dropped', { reason: 'Bounced Address' }))[0]?.reason).toBe('bounce');
    expect(listFrom(event('dropped', { reason: 'Spam Reporting Address' }))[0]?.reason).toBe('spamreport');
    expect(listFrom(event('dropped', { reason: 'Unsubscribed Address' }))[0]?.reason).toBe('unsubscribe');
    expect(listFrom(event('blocked', { reason: '421 try again later' }), event('delivered'), event('deferred'))).toEqual([]);
  });

  it('applies a group unsubscribe to its categories, and a resubscribe lifts it', () => {
    const list = listFrom(event('group_unsubscribe', { categories: ['weekly-digest'], groupId: 10 }));
    expect(mayReceive('creator@example.com', 'weekly-digest', list)).toEqual({ allowed: false, reason: 'group_unsubscribe' });
    expect(mayReceive('creator@example.com', 'verify-email', list)).toEqual({ allowed: true });
    const back = applySuppressionChange(list, suppressionFromEvent(event('group_resubscribe', { categories: ['weekly-digest'] }))!);
    expect(mayReceive('creator@example.com', 'weekly-digest', back)).toEqual({ allowed: true });
  });

  it('keeps one entry per address and reason, from the earliest report', () => {
    const list = listFrom(event('spamreport', { timestamp: 200 }), event('spamreport', { timestamp: 100 }), event('spamreport', { timestamp: 300 }));
    expect(list).toEqual([{ email: 'creator@example.com', reason: 'spamreport', categories: null, since: 100 }]);
  });
});
