// `breaker({failures, cooldown, probes})`, per origin: after `failures` consecutive failures (a
// network error, a timeout of an attempt, an HTTP 5xx) the circuit opens and attempts fail at once
// with CircuitOpenError, with no traffic, for `cooldown` ms. Then it is half-open: `probes` trial
// attempts go through; if they all succeed it closes, if one fails it opens again.

import {CircuitOpenError, type TimeoutPhase} from '../errors.js';
import type {BreakerState} from '../events.js';
import {checkPolicyOptions, duration, integer} from '../options.js';
import {stage, type Admission, type AttemptContext, type Outcome, type Policy} from '../policy.js';

export interface BreakerOptions {
	/** Consecutive failures that open the circuit. Default 5. */
	failures?: number;
	/** ms the circuit stays open before probes are allowed. Default 30000. */
	cooldown?: number;
	/** Trial attempts that decide between closed and open. Default 1. */
	probes?: number;
}

interface Circuit {
	state: BreakerState;
	failures: number;
	openedAt: number;
	probesInFlight: number;
	probeSuccesses: number;
}

const attemptPhases: TimeoutPhase[] = ['connect', 'headers', 'idle', 'attempt'];

/** Whether an outcome counts for (true) or against (false) the origin; undefined: it says nothing. */
function verdict({status, error}: Outcome): boolean | undefined {
	if (error) {
		if (error.kind === 'network') return false;
		if (error.kind === 'timeout') return attemptPhases.includes(error.phase) ? false : undefined;
		if (error.kind !== 'http') return undefined;
		status = error.status;
	}
	return status === undefined ? undefined : status < 500;
}

const positive = integer(1, 'a positive integer');

export function breaker(options: BreakerOptions = {}): Policy {
	checkPolicyOptions('breaker', options, {failures: positive, cooldown: duration(false), probes: positive});
	const failures = options.failures ?? 5;
	const cooldown = options.cooldown ?? 30_000;
	const probes = options.probes ?? 1;
	const circuits = new Map<string, Circuit>();

	const move = (attempt: AttemptContext, circuit: Circuit, state: BreakerState) => {
		const previous = circuit.state;
		circuit.state = state;
		circuit.probesInFlight = 0;
		circuit.probeSuccesses = 0;
		if (state === 'open') circuit.openedAt = performance.now();
		attempt.emit({type: 'breaker', origin: attempt.origin, state, previous, failures: circuit.failures});
	};

	return {
		name: 'breaker',
		[stage]: 3,
		admit(attempt): Admission {
			const {origin} = attempt;
			let circuit = circuits.get(origin);
			if (!circuit) circuits.set(origin, (circuit = {state: 'closed', failures: 0, openedAt: 0, probesInFlight: 0, probeSuccesses: 0}));
			if (circuit.state === 'open') {
				const waited = performance.now() - circuit.openedAt;
				if (waited < cooldown) throw new CircuitOpenError({...attempt.context(), origin, retryAfter: cooldown - waited});
				move(attempt, circuit, 'half-open');
			}
			const probe = circuit.state === 'half-open';
			if (probe) {
				if (circuit.probesInFlight >= probes - circuit.probeSuccesses) throw new CircuitOpenError({...attempt.context(), origin, retryAfter: 0});
				circuit.probesInFlight++;
			}
			const c = circuit;
			return (outcome) => {
				const ok = verdict(outcome);
				if (probe && c.probesInFlight > 0) c.probesInFlight--;
				if (ok === undefined) return;
				if (c.state === 'half-open') {
					if (!probe) return;
					if (!ok) move(attempt, c, 'open');
					else if (++c.probeSuccesses >= probes) {
						c.failures = 0;
						move(attempt, c, 'closed');
					}
				} else if (c.state === 'closed') {
					if (ok) c.failures = 0;
					else if (++c.failures >= failures) move(attempt, c, 'open');
				}
			};
		},
	} as Policy;
}
