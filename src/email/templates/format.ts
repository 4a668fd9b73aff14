/** Formatting shared by templates. Emails go out in English, dates in UTC, until templates are localised. */

const dateFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });

/** "April 24, 2022". */
export function formatDate(date: Date): string {
  return dateFormat.format(date);
}

/** An amount in the currency's minor unit (as Stripe reports it), e.g. 1500 usd → "$15.00", 500 jpy → "¥500". */
export function formatMoney(minorAmount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorAmount / 10 ** digits);
}

/** "1 conversation", "3 conversations". */
export function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
