// Whether and when to retry. ky schedules retries (its loop, limit count, beforeRetry hooks, the
// backoff sleep); surefetch decides them, because the decision needs what ky cannot see: the union
// (a body-phase failure, a timeout's phase), the Idempotency-Key rule, and the total deadline.
//
// Why surefetch also computes the delay, Retry-After included: ky computes the delay *after*
// `shouldRetry` and sleeps it without exposing it, so it cannot refuse a backoff that would sleep
// past the total deadline. So the delay is computed here with ky's rules (statusCodes,
// afterStatusCodes, maxRetryAfter, backoffLimit, jitter) and slept inside `shouldRetry` on the
// operation's signal (operation.ts); ky's own delay is 0.

import type {FetchFailure} from './errors.js';
import type {ResolvedRetry} from './options.js';

export type RetryVerdict = {retry: false} | {retry: true; delay: number};

const no: RetryVerdict = {retry: false};

/** Timeouts of these phases belong to one attempt: another attempt may well succeed. */
const retriedTimeouts = new Set(['headers', 'idle', 'attempt', 'connect']);

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
	const {error} = input;
	if (!isRetryableMethod(retry, input.method, input.idempotencyKey)) return no;
	let delay: number | undefined;
	if (retry.shouldRetry) {
		const answer = await retry.shouldRetry({error, attempt: input.attempt});
		if (answer === false) return no;
		if (answer === true) delay = backoff(retry, input.attempt);
	}
	if (delay === undefined) {
		const byDefault = defaultDelay(retry, input);
		if (byDefault === undefined) return no;
		delay = byDefault;
	}
	// Never sleep past the total deadline: give up now with the error we have.
	if (delay >= input.remaining) return no;
	return {retry: true, delay};
}

function defaultDelay(retry: ResolvedRetry, {error, attempt}: RetryInput): number | undefined {
	switch (error.kind) {
		case 'timeout':
			return retriedTimeouts.has(error.phase) ? backoff(retry, attempt) : undefined;
		case 'network':
			return error.code === 'tls' ? undefined : backoff(retry, attempt);
		case 'http': {
			if (!retry.statusCodes.has(error.status)) return undefined;
			if (retry.afterStatusCodes.has(error.status)) {
				const header = error.headers.get('retry-after');
				const after = header === null ? undefined : parseRetryAfter(header);
				if (after !== undefined) return Math.min(retry.maxRetryAfter, after);
			}
			if (error.status === 413) return undefined; // too large stays too large, unless the server said when
			return backoff(retry, attempt);
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

/** `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 10.2.3). Undefined when malformed. */
export function parseRetryAfter(value: string): number | undefined {
	const text = value.trim();
	if (/^\d+$/.test(text)) return Number(text) * 1000;
	const at = Date.parse(text);
	return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
