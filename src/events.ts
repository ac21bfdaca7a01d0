// Listeners for observability. A listener sees redacted data only, and whatever it does (throw,
// return a rejected promise) never changes a request's outcome. With no listener set nothing here
// runs: callers check `listeners?.x` before building an event.

import type {FetchFailure, RequestInfo} from './errors.js';

/** In Node: the tracing channel `surefetch:request` and the channels `surefetch:retry` and `surefetch:breaker`. */
export {channels} from '#platform';

export interface Timings {
	/** ms waited for a slot in a policy's queue. */
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
		if (typeof (result as Promise<unknown> | undefined)?.then === 'function') (result as Promise<unknown>).then(undefined, report);
	} catch (error) {
		report(error);
	}
}

// The listener's bug surfaces without touching the request: a process warning in Node, the console
// elsewhere (not reportError: a page's global handlers would take it for an uncaught crash).
function report(error: unknown): void {
	const message = `surefetch: a listener threw: ${error instanceof Error ? error.message : String(error)}`;
	const process = (globalThis as {process?: {emitWarning?: (w: string) => void}}).process;
	if (typeof process?.emitWarning === 'function') process.emitWarning(message);
	else console.error(message, error);
}

/** Two listener sets (extend): both run, parent first. */
export function mergeListeners(a: Listeners | undefined, b: Listeners | undefined): Listeners | undefined {
	if (!a || !b) return a ?? b;
	const out: Record<string, unknown> = {...a};
	for (const key of Object.keys(b) as Array<keyof Listeners>) {
		const first = a[key] as ((e: unknown) => void) | undefined;
		const second = b[key] as (e: unknown) => void;
		out[key] = first ? (e: unknown) => {
			emit(first, e);
			emit(second, e);
		} : second;
	}
	return out as Listeners;
}
