// Whether and when to retry. ky runs the loop (its limit count, `beforeRetry` hooks, `ky.retry()`);
// surefetch decides, because the decision needs what ky cannot see: the union (a body-phase failure,
// a timeout's phase), the Idempotency-Key rule and the total deadline. ky computes its delay after
// `shouldRetry` and sleeps it out of reach, so the delay is computed here with ky's rules and slept
// on the operation's node (operation.ts); ky's own delay is 0.

import type {FetchFailure} from './errors.js';
import type {ResolvedRetry} from './options.js';

export type RetryVerdict = {retry: false} | {retry: true; delay: number};

const no: RetryVerdict = {retry: false};

/** setTimeout's ceiling (as ky caps it): a longer delay would fire at once. */
export const maxDelay = 2_147_483_647;

/** Timeouts of these phases belong to one attempt: another attempt may well succeed. */
const attemptPhases = ['headers', 'idle', 'attempt', 'connect'];

export interface RetryInput {
	error: FetchFailure;
	/** The attempt that just failed, from 1. */
	attempt: number;
	method: string;
	idempotencyKey: boolean;
	/** ms left before the total deadline (Infinity when off). */
	remaining: number;
}

export function isRetryableMethod(retry: ResolvedRetry, method: string, idempotencyKey: boolean): boolean {
	return idempotencyKey || retry.methods.has(method.toLowerCase());
}

export async function decideRetry(retry: ResolvedRetry, input: RetryInput): Promise<RetryVerdict> {
	const {error, attempt} = input;
	if (!isRetryableMethod(retry, input.method, input.idempotencyKey)) return no;
	const answer = await retry.shouldRetry?.({error, attempt, retryCount: attempt});
	if (answer === false) return no;
	const delay = answer === true ? backoff(retry, attempt) : defaultDelay(retry, error, attempt);
	// Never sleep past the total deadline: give up now with the error we have.
	return delay === undefined || delay >= input.remaining ? no : {retry: true, delay: Math.min(delay, maxDelay)};
}

function defaultDelay(retry: ResolvedRetry, error: FetchFailure, attempt: number): number | undefined {
	switch (error.kind) {
		case 'timeout':
			return attemptPhases.includes(error.phase) ? backoff(retry, attempt) : undefined;
		case 'network':
			// A bad certificate or a server that breaks the protocol (a redirect loop, bad gzip) does not mend itself.
			return error.retryable ? backoff(retry, attempt) : undefined;
		case 'http': {
			if (!retry.statusCodes.has(error.status)) return undefined;
			const header = retryTimingHeader(error.headers);
			if (header && retry.afterStatusCodes.has(error.status)) {
				const after = retryTimingDelay(header[0], header[1]);
				// A malformed header loses the server's timing, not the retry (as in ky). No jitter on the server's timing.
				return after === undefined ? backoff(retry, attempt) : Math.min(retry.maxRetryAfter, after);
			}
			return error.status === 413 ? undefined : backoff(retry, attempt);
		}
		default:
			return undefined;
	}
}

export function backoff(retry: ResolvedRetry, attempt: number): number {
	const base = retry.delay(attempt);
	let delay = base;
	if (retry.jitter === true) delay = Math.random() * base;
	else if (typeof retry.jitter === 'function') {
		delay = retry.jitter(base);
		if (!Number.isFinite(delay) || delay < 0) delay = base;
	}
	return Math.max(0, Math.min(retry.backoffLimit, delay));
}

// ---------------------------------------------------------------------------------------------
// The server's retry timing, read exactly as ky 2.1 reads it (ky does not export this): Retry-After
// in seconds or as an HTTP-date (IMF-fixdate, RFC 850, asctime; always GMT, never the machine's
// time zone), and when it is absent the rate-limit headers, which may also be epoch seconds.

/** [value, epoch seconds allowed] of the first timing header present. */
export function retryTimingHeader(headers: Headers): [string, boolean] | undefined {
	const names: Array<[string, boolean]> = [['retry-after', false], ['ratelimit-reset', true], ['x-ratelimit-retry-after', false], ['x-ratelimit-reset', true], ['x-rate-limit-reset', true]];
	for (const [name, epoch] of names) {
		const value = headers.get(name);
		if (value !== null) return [value, epoch];
	}
	return undefined;
}

// Epoch seconds before this are indistinguishable from delays in seconds (ky's threshold).
const epochFrom = Date.UTC(2024, 0, 1);
const day3 = '(Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const month = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const time = '(\\d{2}):(\\d{2}):(\\d{2})';
const imfDate = new RegExp(`^${day3}, (\\d{2}) ${month} (\\d{4}) ${time} GMT$`);
const rfc850Date = new RegExp(`^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (\\d{2})-${month}-(\\d{2}) ${time} GMT$`);
const asctimeDate = new RegExp(`^${day3} ${month} (\\d{2}| \\d) ${time} (\\d{4})$`);
const months = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** ms from now until the header's time (>= 0), or undefined when malformed. */
export function retryTimingDelay(value: string, epoch: boolean): number | undefined {
	if (/^\d+$/.test(value)) {
		const delay = Number(value) * 1000;
		return Math.max(0, epoch && delay >= epochFrom ? delay - Date.now() : delay);
	}
	const at = httpDate(value);
	return at === undefined ? undefined : Math.max(0, at - Date.now());
}

function httpDate(value: string): number | undefined {
	let m = imfDate.exec(value);
	if (m) return utc(Number(m[4]), m[3]!, m[2]!, m[5]!, m[6]!, m[7]!);
	m = asctimeDate.exec(value);
	if (m) return utc(Number(m[7]), m[2]!, m[3]!.trim(), m[4]!, m[5]!, m[6]!);
	m = rfc850Date.exec(value);
	if (!m) return undefined;
	// RFC 9110: a two-digit year is the latest century that is not more than 50 years ahead.
	const nowDate = new Date();
	const century = Math.floor(nowDate.getUTCFullYear() / 100) * 100 + Number(m[3]);
	const limit = Date.UTC(nowDate.getUTCFullYear() + 50, nowDate.getUTCMonth(), nowDate.getUTCDate(), nowDate.getUTCHours(), nowDate.getUTCMinutes(), nowDate.getUTCSeconds(), nowDate.getUTCMilliseconds());
	let at: number | undefined;
	for (const year of [century - 100, century, century + 100]) {
		const candidate = utc(year, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
		if (candidate !== undefined && candidate <= limit) at = candidate;
	}
	return at;
}

/** A UTC time, or undefined when a field is out of range (Feb 30, 24:00, ...). Second 60 is a leap second. */
function utc(year: number, monthName: string, dayText: string, h: string, min: string, s: string): number | undefined {
	const monthIndex = months.indexOf(monthName) / 3;
	const [day, hours, minutes, seconds] = [dayText, h, min, s].map(Number) as [number, number, number, number];
	if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
	const date = new Date(Date.UTC(year, monthIndex, day, hours, minutes, Math.min(seconds, 59)));
	date.setUTCFullYear(year);
	if (date.getUTCFullYear() !== year || date.getUTCMonth() !== monthIndex || date.getUTCDate() !== day || date.getUTCHours() !== hours) return undefined;
	return date.getTime() + (seconds === 60 ? 1000 : 0);
}
