import { describe, expect, it } from 'vitest';
import { verifySubscription, verifyWhatsAppSignature } from '../../channels/whatsapp/whatsapp.webhook.js';
import { payloadBytes, signWhatsAppBody, whatsappFixtureBytes } from '../support/whatsapp-payloads.js';

const secret = 'app-secret-0123456789abcdef';

describe('verifyWhatsAppSignature', () => {
  // The fixture file is pretty-printed: exactly the kind of bytes a re-serialisation would change.
  const raw = whatsappFixtureBytes('text');

  it('accepts a signature computed over the exact bytes received', () => {
    expect(verifyWhatsAppSignature(raw, signWhatsAppBody(raw, secret), secret)).toBe(true);
  });

  it('accepts non-ASCII bodies signed as bytes', () => {
    const body = payloadBytes({ object: 'whatsapp_business_account', entry: [], note: 'שלום 👋 ünïcødé' });
    expect(verifyWhatsAppSignature(body, signWhatsAppBody(body, secret), secret)).toBe(true);
  });

  it('rejects a signature over re-serialised JSON: same data, different bytes', () => {
    const reserialised = JSON.stringify(JSON.parse(raw.toString('utf8')));
    expect(reserialised).not.toBe(raw.toString('utf8'));
    const header = signWhatsAppBody(reserialised, secret);
    expect(verifyWhatsAppSignature(raw, header, secret)).toBe(false);
  });

  it('rejects a body changed by a single byte', () => {
    const tampered = Buffer.from(raw);
    tampered[tampered.indexOf('Body Text')] = 'N'.charCodeAt(0);
    expect(verifyWhatsAppSignature(tampered, signWhatsAppBody(raw, secret), secret)).toBe(false);
  });

  it('rejects a signature made with another app secret, and an empty secret', () => {
    expect(verifyWhatsAppSignature(raw, signWhatsAppBody(raw, 'someone-else'), secret)).toBe(false);
    expect(verifyWhatsAppSignature(raw, signWhatsAppBody(raw, ''), '')).toBe(false);
  });

  it('rejects a missing or malformed header', () => {
    const hex = signWhatsAppBody(raw, secret).slice('sha256='.length);
    for (const header of [undefined, '', 'sha256=', hex, `sha1=${hex}`, `sha256=${hex.slice(2)}`, `sha256=${hex}00`, `sha256=${'z'.repeat(64)}`, `sha256=${hex},sha256=${hex}`]) {
      expect(verifyWhatsAppSignature(raw, header, secret), String(header)).toBe(false);
    }
  });
});

describe('verifySubscription', () => {
  const query = (overrides: Record<string, unknown> = {}) => ({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444', ...overrides });

  it('echoes the challenge when the verify token matches', () => {
    expect(verifySubscription(query(), 'verify-me')).toBe('1158201444');
  });

  it('matches any one of several bots’ verify tokens', () => {
    expect(verifySubscription(query(), ['other', 'verify-me'])).toBe('1158201444');
    expect(verifySubscription(query(), [])).toBeNull();
  });

  it('refuses a wrong, missing or empty verify token', () => {
    expect(verifySubscription(query({ 'hub.verify_token': 'verify-you' }), 'verify-me')).toBeNull();
    expect(verifySubscription(query({ 'hub.verify_token': undefined }), 'verify-me')).toBeNull();
    expect(verifySubscription(query({ 'hub.verify_token': '' }), '')).toBeNull();
  });

  it('refuses another mode or a missing challenge', () => {
    expect(verifySubscription(query({ 'hub.mode': 'unsubscribe' }), 'verify-me')).toBeNull();
    expect(verifySubscription(query({ 'hub.challenge': undefined }), 'verify-me')).toBeNull();
    expect(verifySubscription(query({ 'hub.verify_token': ['verify-me'] }), 'verify-me')).toBeNull();
  });
});
