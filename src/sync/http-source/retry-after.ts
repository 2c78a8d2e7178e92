/**
 * The longest wait a `Retry-After` may ask and still be read: a server asking for more than a day
 * is broken, not busy, and its value is ignored rather than capped. The wait actually taken is
 * capped far lower, at the source's `maxReconnectDelay`.
 */
export const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * What a refusal's `Retry-After` says: `absent` (no header), `invalid` (a value that is not a
 * delta-seconds or an HTTP-date, or one past {@link MAX_RETRY_AFTER_MS}), or the wait in
 * milliseconds from now (0 for a date already past).
 */
export type RetryAfter = 'absent' | 'invalid' | number;

const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// The three forms of RFC 9110, section 5.6.7, which a recipient must all accept; case-sensitive.
// `Sun, 06 Nov 1994 08:49:37 GMT`
const IMF_FIXDATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`,
);
// `Sunday, 06-Nov-94 08:49:37 GMT`
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
);
// `Sun Nov  6 08:49:37 1994`
const ASCTIME_DATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`,
);
const DELTA_SECONDS = /^\d+$/;
// Longer than any date form or any delta-seconds worth reading: not worth a regular expression.
const MAX_VALUE_LENGTH = 40;

function utc(
  year: number,
  month: string,
  day: string,
  hours: string,
  minutes: string,
  seconds: string,
): number | null {
  const m = MONTHS.indexOf(month);
  const d = Number(day);
  const h = Number(hours);
  const min = Number(minutes);
  // 60: a leap second, which IMF-fixdate allows.
  const s = Number(seconds);
  if (h > 23 || min > 59 || s > 60) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, m, d);
  // 31 Feb rolls over into March: not a date.
  if (date.getUTCMonth() !== m || date.getUTCDate() !== d) return null;
  return date.getTime() + ((h * 60 + min) * 60 + s) * 1000;
}

/**
 * An HTTP-date (RFC 9110, section 5.6.7) in milliseconds since the epoch, or null for anything
 * else. The day name is not checked against the date (a recipient loses nothing by it); a
 * two-digit rfc850 year more than 50 years ahead of `nowMs` is taken for the century before, as
 * the RFC asks.
 */
export function parseHttpDate(value: string, nowMs: number): number | null {
  if (value.length > MAX_VALUE_LENGTH) return null;
  let match = IMF_FIXDATE.exec(value);
  if (match !== null) {
    const [, day, month, year, h, m, s] = match as unknown as string[];
    return utc(Number(year), month!, day!, h!, m!, s!);
  }
  match = RFC850_DATE.exec(value);
  if (match !== null) {
    const [, day, month, yy, h, m, s] = match as unknown as string[];
    const thisYear = new Date(nowMs).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utc(year, month!, day!, h!, m!, s!);
  }
  match = ASCTIME_DATE.exec(value);
  if (match !== null) {
    const [, month, day, h, m, s, year] = match as unknown as string[];
    return utc(Number(year), month!, day!.trim(), h!, m!, s!);
  }
  return null;
}

/**
 * Reads a `Retry-After` (RFC 9110, section 10.2.3): delta-seconds (digits only), or an HTTP-date.
 * A date is measured against the answer's own `Date` when it has a valid one, so that a server
 * whose clock is off from this one's still gets the wait it meant (both stamps come from its
 * clock), else against `nowMs`. Anything else (a negative or fractional number, text, a list of
 * values, an impossible date), and any wait past {@link MAX_RETRY_AFTER_MS}, is `invalid`: the
 * caller then keeps its own back-off. The value itself is never returned, so nothing of the
 * header reaches a message.
 */
export function readRetryAfter(
  value: string | null,
  dateHeader: string | null,
  nowMs: number,
): RetryAfter {
  if (value === null) return 'absent';
  const text = value.trim();
  if (text.length > MAX_VALUE_LENGTH) return 'invalid';
  let ms: number;
  if (DELTA_SECONDS.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const at = parseHttpDate(text, nowMs);
    if (at === null) return 'invalid';
    const reference = dateHeader === null ? null : parseHttpDate(dateHeader.trim(), nowMs);
    ms = Math.max(0, at - (reference ?? nowMs));
  }
  return ms <= MAX_RETRY_AFTER_MS ? ms : 'invalid';
}
