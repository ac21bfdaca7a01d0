// Listeners for observability. A listener sees redacted data only, and whatever it does (throw,
// return a rejected promise) never changes a request's outcome. With no listener set, nothing here
// runs: callers check `listeners?.x` before building an event.

import type {FetchFailure, RequestInfo} from './errors.js';

export interface Timings {
	/** ms waited for a concurrency or rate slot. */
	queue: number;
	/** ms from dispatch until response headers. */
	headers: number;
	/** ms from headers until the body ended (0 while the body is still open). */
	body: number;
	/** ms since the call. */
	total: number;
}

export interface RequestEvent {
	request: RequestInfo;
	attempt: number;
}

export interface ResponseEvent extends RequestEvent {
	status: number;
	timings: Timings;
}

export interface RetryEvent extends RequestEvent {
	error: FetchFailure;
	/** ms of backoff before the next attempt. */
	delay: number;
}

export interface ErrorEvent extends RequestEvent {
	error: FetchFailure;
	timings: Timings;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerEvent {
	origin: string;
	state: BreakerState;
	previous: BreakerState;
	/** Consecutive failures counted when the state changed. */
	failures: number;
}

export interface Listeners {
	request?: (event: RequestEvent) => void;
	response?: (event: ResponseEvent) => void;
	retry?: (event: RetryEvent) => void;
	error?: (event: ErrorEvent) => void;
	breaker?: (event: BreakerEvent) => void;
}

/** Calls a listener, isolating the request from anything it throws. */
export function emit<E>(listener: ((event: E) => void) | undefined, event: E): void {
	if (!listener) return;
	try {
		const result = listener(event) as unknown;
		if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, report);
	} catch (error) {
		report(error);
	}
}

// Surface the listener's bug without touching the request: a Node process warning, or the browser
// console (not reportError: a page's global error handlers would treat it as an uncaught crash).
function report(error: unknown): void {
	const g = globalThis as {process?: {emitWarning?: (w: string) => void}};
	if (typeof g.process?.emitWarning === 'function') g.process.emitWarning(`surefetch: a listener threw: ${error instanceof Error ? error.message : String(error)}`);
	else console.error('surefetch: a listener threw', error);
}

/** Merges two listener sets (extend): both run, parent first. */
export function mergeListeners(a: Listeners | undefined, b: Listeners | undefined): Listeners | undefined {
	if (!a) return b;
	if (!b) return a;
	const out: Listeners = {...a};
	for (const key of Object.keys(b) as Array<keyof Listeners>) {
		const first = a[key] as ((e: unknown) => void) | undefined;
		const second = b[key] as ((e: unknown) => void) | undefined;
		(out as Record<string, unknown>)[key] = first && second ? (e: unknown) => {
			emit(first, e);
			emit(second, e);
		} : second ?? first;
	}
	return out;
}
