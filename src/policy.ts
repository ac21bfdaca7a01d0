// The `Policy` interface: how limit, breaker, hedge, dedupe, otel (and your own) plug into a call.
// The core knows these three hooks and nothing of any particular policy, so a client without
// policies carries none of their code.
//
//   call   around the whole call (retries, hedges, the body a reader reads): tracing, caching
//   send   around each try (the first attempt, then each retry): send it once, several times
//          (hedge), share it (dedupe), or send it again (an auth refresh)
//   admit  before each attempt leaves (hedges and resends too): wait (a queue), refuse (throw),
//          and learn the attempt's outcome once it is over (its body read, cancelled or failed)
//
// Whatever their order in `use`, the built-ins act in this order: otel -> dedupe -> limit ->
// breaker -> hedge. Policies of your own come after the built-ins, in the order given.

import type {FailureContext, FetchFailure, RequestInfo} from './errors.js';

/** What happened during a call, for `CallContext.listen`. */
export type PolicyEvent =
	| {type: 'retry'; attempt: number; error: FetchFailure; delay: number}
	| {type: 'hedge'; attempt: number}
	| {type: 'breaker'; origin: string; state: 'closed' | 'open' | 'half-open'; previous: 'closed' | 'open' | 'half-open'; failures: number}
	| {type: 'end'; attempts: number; status?: number; error?: FetchFailure};

export interface CallContext {
	/** The method and the redacted URL, as best known (a hook may still change them before dispatch). */
	readonly request: RequestInfo;
	/** Aborted when the call is cut short: a deadline, the caller's signal, `close()`. */
	readonly signal: AbortSignal;
	/** Attempts dispatched so far. */
	readonly attempts: number;
	/** ms since the call started. */
	readonly elapsed: number;
	/** Called for each retry, hedge and breaker change of this call, and once at its end (body read or abandoned). */
	listen(listener: (event: PolicyEvent) => void): void;
}

export interface SendOptions {
	/** A hedge: it never waits for a slot; `send` resolves `undefined` when a policy declines it. */
	hedge?: boolean;
	/** Aborting it gives the attempt up (a lost race, no caller left); the attempt then says nothing about the server. */
	signal?: AbortSignal;
	/** The attempt is shared by several calls: this call's deadlines and signal do not cut it, only `signal` and `close()`. */
	shared?: boolean;
}

export interface Send {
	(request: Request, options: SendOptions & {hedge: true}): Promise<Response | undefined>;
	(request: Request, options?: SendOptions): Promise<Response>;
}

export interface SendContext {
	/** The Request ky built (after `beforeRequest` hooks). */
	readonly request: Request;
	/** Aborted when the call is cut short. */
	readonly signal: AbortSignal;
	/** Whether this request may be sent more than once (its method, or an Idempotency-Key). */
	readonly retryable: boolean;
	/** ms left before the total deadline (Infinity without one). */
	readonly remaining: number;
}

export interface AttemptContext {
	readonly request: Request;
	/** `scheme://host:port` of the request. */
	readonly origin: string;
	/** A hedge: it must not wait; return `false` when there is no room for it now. */
	readonly hedge: boolean;
	/** Aborted when the attempt is given up (a deadline, `timeout.queue` included, the caller, `close()`). */
	readonly signal: AbortSignal;
	/** The fields an error of this call starts from: `throw new CircuitOpenError({...attempt.context(), origin, retryAfter})`. */
	context(): FailureContext;
	/** Tells the client's `on.breaker` listeners and the call's `listen`ers. */
	emit(event: Extract<PolicyEvent, {type: 'breaker'}>): void;
}

/** How an attempt ended: its status once headers came, its failure if it failed; neither when it was given up. */
export interface Outcome {
	status?: number;
	error?: FetchFailure;
}

/** `false`: skip (a hedge only); a function: called once with the outcome when the attempt is over. */
export type Admission = void | false | ((outcome: Outcome) => void);

export interface Policy {
	/** For messages. */
	readonly name: string;
	call?(call: CallContext, next: () => Promise<Response>): Promise<Response>;
	send?(send: SendContext, next: Send): Promise<Response>;
	admit?(attempt: AttemptContext): Admission | Promise<Admission>;
}

/** The built-ins' fixed places (yours: after them). */
export const stage: unique symbol = Symbol.for('surefetch.stage');

/** Policies sorted into their stages, once per client. */
export interface Policies {
	call: Policy[];
	send: Policy[];
	admit: Policy[];
}

export function sortPolicies(list: readonly Policy[]): Policies | undefined {
	if (list.length === 0) return undefined;
	const rank = (p: Policy) => (p as {[stage]?: number})[stage] ?? 9;
	const sorted = [...new Set(list)].sort((a, b) => rank(a) - rank(b));
	return {
		call: sorted.filter((p) => p.call),
		send: sorted.filter((p) => p.send),
		admit: sorted.filter((p) => p.admit),
	};
}
