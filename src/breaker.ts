// Circuit breaker per origin. After `failures` consecutive failures (a network error, a timeout of
// an attempt, an HTTP 5xx) the circuit opens: calls fail at once with CircuitOpenError, with no
// traffic, for `cooldown` ms. Then it is half-open: `probes` trial requests go through; if they all
// succeed it closes, if one fails it opens again.

import {now} from './deadlines.js';
import {CircuitOpenError, isFetchError} from './errors.js';
import {emit, type BreakerState, type Listeners} from './events.js';
import {originOf} from './limits.js';
import type {BreakerOptions} from './options.js';
import type {Operation} from './operation.js';

interface Circuit {
	state: BreakerState;
	failures: number;
	openedAt: number;
	probesInFlight: number;
	probeSuccesses: number;
}

/** What a dispatched attempt carries back to `record`. */
export interface BreakerTicket {
	circuit: Circuit;
	origin: string;
	probe: boolean;
	listeners: Listeners | undefined;
}

const attemptPhases = new Set(['connect', 'headers', 'idle', 'attempt']);

/** Does this outcome count against the origin? `undefined`: it says nothing either way. */
function verdict(outcome: unknown): boolean | undefined {
	if (outcome === undefined) return true; // success
	if (outcome === null) return undefined; // nothing learned (a hedge that lost)
	if (typeof outcome === 'number') return outcome < 500;
	if (!isFetchError(outcome)) return undefined;
	if (outcome.kind === 'network') return false;
	if (outcome.kind === 'timeout') return attemptPhases.has(outcome.phase) ? false : undefined;
	if (outcome.kind === 'http') return outcome.status < 500;
	return undefined;
}

export class Breakers {
	private readonly circuits = new Map<string, Circuit>();
	private readonly failures: number;
	private readonly cooldown: number;
	private readonly probes: number;

	constructor(options: BreakerOptions) {
		this.failures = options.failures ?? 5;
		this.cooldown = options.cooldown ?? 30_000;
		this.probes = options.probes ?? 1;
	}

	state(origin: string): BreakerState {
		return this.circuits.get(origin)?.state ?? 'closed';
	}

	/** Before dispatch: throws CircuitOpenError when the origin's circuit refuses the attempt. */
	check(op: Operation, url: string): BreakerTicket {
		const origin = originOf(url);
		let circuit = this.circuits.get(origin);
		if (!circuit) {
			circuit = {state: 'closed', failures: 0, openedAt: 0, probesInFlight: 0, probeSuccesses: 0};
			this.circuits.set(origin, circuit);
		}
		const listeners = op.client.listeners;
		if (circuit.state === 'open') {
			const waited = now() - circuit.openedAt;
			if (waited < this.cooldown) throw this.refuse(op, origin, this.cooldown - waited);
			this.move(circuit, origin, 'half-open', listeners);
		}
		if (circuit.state === 'half-open') {
			if (circuit.probesInFlight >= this.probes - circuit.probeSuccesses) throw this.refuse(op, origin, 0);
			circuit.probesInFlight++;
			return {circuit, origin, probe: true, listeners};
		}
		return {circuit, origin, probe: false, listeners};
	}

	/** After an attempt: its outcome (undefined = success, null = nothing learned, a 5xx status, or the failure). */
	record(ticket: BreakerTicket, outcome: unknown): void {
		const {circuit, origin, probe, listeners} = ticket;
		const ok = verdict(outcome);
		if (probe && circuit.probesInFlight > 0) circuit.probesInFlight--;
		if (ok === undefined) return;
		if (circuit.state === 'half-open') {
			if (!probe) return;
			if (!ok) {
				circuit.openedAt = now();
				this.move(circuit, origin, 'open', listeners);
			} else if (++circuit.probeSuccesses >= this.probes) {
				circuit.failures = 0;
				this.move(circuit, origin, 'closed', listeners);
			}
			return;
		}
		if (circuit.state !== 'closed') return;
		if (ok) {
			circuit.failures = 0;
			return;
		}
		if (++circuit.failures >= this.failures) {
			circuit.openedAt = now();
			this.move(circuit, origin, 'open', listeners);
		}
	}

	private move(circuit: Circuit, origin: string, state: BreakerState, listeners: Listeners | undefined): void {
		const previous = circuit.state;
		circuit.state = state;
		circuit.probesInFlight = 0;
		circuit.probeSuccesses = 0;
		if (listeners?.breaker) emit(listeners.breaker, {origin, state, previous, failures: circuit.failures});
	}

	private refuse(op: Operation, origin: string, retryAfter: number): CircuitOpenError {
		return new CircuitOpenError({...op.context(), origin, retryAfter: Math.max(0, retryAfter)});
	}
}
