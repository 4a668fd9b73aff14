/**
 * Text PostgreSQL cannot store: a NUL character (refused in text and jsonb) or half of a UTF-16
 * surrogate pair (refused in jsonb). Users' clients do send both; left in, the row is refused and
 * the channel redelivers the message forever.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNSTORABLE_TEST = new RegExp(UNSTORABLE.source);

/** Whether `text` holds a NUL or a lone surrogate. */
export function hasUnstorableText(text: string): boolean {
  return UNSTORABLE_TEST.test(text);
}

/**
 * A copy of `value` with every string in it (object keys too) made storable: each NUL and lone
 * surrogate becomes U+FFFD. Dates and other non-plain objects are kept as they are.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return (hasUnstorableText(value) ? value.replace(UNSTORABLE, '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => storable(item)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storable(key), storable(item)])) as T;
  }
  return value;
}
