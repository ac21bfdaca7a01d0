// Retry timing is read exactly as ky 2.1 reads it (the cases of ky's own tests), always as GMT:
// every case runs under time zones far ahead of and far behind UTC.
import {afterAll, describe, expect, it} from 'vitest';
import {createClient, type RetryEvent} from '../../src/index.js';
import {retryTimingDelay, retryTimingHeader} from '../../src/retry.js';
import {httpDate} from '../fault-server/server.js';
import {at, stats, uid} from '../support/fault.js';

const zones = ['Pacific/Kiritimati', 'America/Adak', 'UTC']; // UTC+14, UTC-10 (UTC-9 in summer)
const original = process.env.TZ;
afterAll(() => {
	if (original === undefined) delete process.env.TZ;
	else process.env.TZ = original;
});

const near = (value: number | undefined, expected: number, within = 1500) => {
	expect(value).toBeDefined();
	expect(Math.abs(value! - expected), `${value} vs ${expected}`).toBeLessThan(within);
};

describe.each(zones)('retry timing under TZ=%s', (zone) => {
	it('the zone is in effect', () => {
		process.env.TZ = zone;
		const offset = new Date(Date.UTC(2026, 0, 15)).getTimezoneOffset();
		expect(zone === 'UTC' ? offset === 0 : offset !== 0).toBe(true);
	});

	it('Retry-After: delay seconds, and the three HTTP-date formats, all GMT', () => {
		process.env.TZ = zone;
		expect(retryTimingDelay('0', false)).toBe(0);
		expect(retryTimingDelay('120', false)).toBe(120_000);
		const inTenSeconds = new Date(Math.ceil((Date.now() + 10_000) / 1000) * 1000);
		for (const format of ['imf', 'rfc850', 'asctime'] as const) near(retryTimingDelay(httpDate(inTenSeconds, format), false), 10_000);
		// asctime pads a one-digit day with a space.
		const early = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 6, 8, 49, 37));
		expect(httpDate(early, 'asctime')).toMatch(/ Jan {2}6 08:49:37 /);
		near(retryTimingDelay(httpDate(early, 'asctime'), false), early.getTime() - Date.now());
		// A past date is now.
		expect(retryTimingDelay('Sun, 06 Nov 1994 08:49:37 GMT', false)).toBe(0);
	});

	it('malformed values are undefined (the retry keeps its own backoff)', () => {
		process.env.TZ = zone;
		for (const value of ['0x10', '1e3', '', ' 5', 'not-a-valid-value', 'Sun Nov 06 1994 08:49:37 GMT', 'Sun, 32 Dec 2030 25:99:99 GMT', 'Sun, 30 Feb 2031 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 PST']) {
			expect(retryTimingDelay(value, false), value).toBeUndefined();
		}
	});

	it('a leap second (60) is one second after :59', () => {
		process.env.TZ = zone;
		const inOneMinute = new Date(Math.ceil((Date.now() + 60_000) / 60_000) * 60_000 - 1000); // hh:mm:59
		const text = httpDate(inOneMinute, 'imf').replace(/:59 GMT$/, ':60 GMT');
		near(retryTimingDelay(text, false), inOneMinute.getTime() + 1000 - Date.now());
	});

	it('RFC 850 two-digit years: the latest century not more than 50 years ahead', () => {
		process.env.TZ = zone;
		const in10Years = new Date(Date.now() + 10 * 365 * 86_400_000);
		near(retryTimingDelay(httpDate(in10Years, 'rfc850'), false), in10Years.getTime() - Date.now(), 2000);
		const in60Years = new Date(Date.now() + 60 * 365 * 86_400_000);
		expect(retryTimingDelay(httpDate(in60Years, 'rfc850'), false)).toBe(0); // 100 years earlier: the past
	});

	it('reset headers may be epoch seconds; Retry-After numbers are always delays', () => {
		process.env.TZ = zone;
		const epoch = String(Math.ceil(Date.now() / 1000) + 3);
		near(retryTimingDelay(epoch, true), 3000);
		expect(retryTimingDelay(epoch, false)).toBe(Number(epoch) * 1000);
		expect(retryTimingDelay('5', true)).toBe(5000); // small numbers are delays either way
	});
});

describe('which header', () => {
	const h = (init: Record<string, string>) => retryTimingHeader(new Headers(init));
	it('Retry-After first, then RateLimit-Reset, X-RateLimit-Retry-After, X-RateLimit-Reset, X-Rate-Limit-Reset', () => {
		expect(h({'retry-after': '1', 'ratelimit-reset': '9'})).toEqual(['1', false]);
		expect(h({'ratelimit-reset': '9', 'x-ratelimit-retry-after': '8'})).toEqual(['9', true]);
		expect(h({'x-ratelimit-retry-after': '8', 'x-ratelimit-reset': '7'})).toEqual(['8', false]);
		expect(h({'x-ratelimit-reset': '7', 'x-rate-limit-reset': '6'})).toEqual(['7', true]);
		expect(h({'x-rate-limit-reset': '6'})).toEqual(['6', true]);
		expect(h({})).toBeUndefined();
	});

	it('a present but empty or invalid Retry-After does not fall back to the others', () => {
		expect(h({'retry-after': '', 'ratelimit-reset': '9'})).toEqual(['', false]);
		expect(h({'retry-after': '1e3', 'ratelimit-reset': '9'})).toEqual(['1e3', false]);
	});
});

describe('end to end, under a zone 14 hours ahead', () => {
	it('an asctime Retry-After two seconds ahead is waited for, neither skipped nor ignored', async () => {
		process.env.TZ = 'Pacific/Kiritimati';
		for (const format of ['asctime', 'rfc850', 'imf']) {
			const id = uid(format);
			const delays: number[] = [];
			const api = createClient({retry: {limit: 1}, on: {retry: (e: RetryEvent) => delays.push(e.delay)}});
			const started = performance.now();
			await api.get(at(`/flaky?id=${id}&fail=1&status=429&retryAfter=2&retryAfterDate=${format}`)).json();
			expect(performance.now() - started, format).toBeGreaterThanOrEqual(900);
			expect(delays[0], format).toBeGreaterThan(900);
			expect(delays[0], format).toBeLessThanOrEqual(3000);
			expect((await stats(id)).hits).toBe(2);
		}
	});

	it('RateLimit-Reset as epoch seconds', async () => {
		const id = uid('epoch');
		const delays: number[] = [];
		const api = createClient({retry: {limit: 1}, on: {retry: (e: RetryEvent) => delays.push(e.delay)}});
		const epoch = Math.ceil(Date.now() / 1000) + 2;
		await api.get(at(`/flaky?id=${id}&fail=1&status=503&retryAfter=${epoch}&retryHeader=RateLimit-Reset`)).json();
		expect(delays[0]).toBeGreaterThan(500);
		expect(delays[0]).toBeLessThanOrEqual(3000);
	});
});
