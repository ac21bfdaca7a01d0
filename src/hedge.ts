// Hedged requests: when no headers came after `delay` ms, start another attempt (up to `max` extra).
// The first response wins; the others are aborted and their bodies cancelled. A hedge never waits
// for a slot (it would only add load behind the request it hedges), never starts after the total
// deadline, and counts in `attempts`. Only for retryable methods (or an Idempotency-Key).

import {cancelBody} from './body.js';
import {startTimer} from './deadlines.js';
import type {Attempt} from './attempt.js';
import type {BreakerTicket} from './breaker.js';
import type {HedgeOptions} from './options.js';
import type {Operation} from './operation.js';

export interface Dispatched {
	attempt: Attempt;
	response: Response;
	ticket: BreakerTicket | undefined;
}

/** Why a losing attempt was aborted. Never surfaces: the winner's outcome is the result. */
export class Superseded {}

type Dispatch = (request: Request, mode: 'wait' | 'now') => Promise<Dispatched | undefined>;

export function race(op: Operation, request: Request, hedge: Required<HedgeOptions>, dispatch: Dispatch): Promise<Dispatched> {
	return new Promise<Dispatched>((resolve, reject) => {
		const running = new Set<Promise<Dispatched | undefined>>();
		let settled = false;
		let extra = 0;
		let firstError: unknown;
		let failed = false;
		let timer: ReturnType<typeof setTimeout> | undefined;
		// A request with a body can be sent once: every attempt but the last gets a clone.
		const hasBody = request.body !== null;
		const source = request;

		const finish = () => {
			settled = true;
			if (timer !== undefined) clearTimeout(timer);
			timer = undefined;
		};
		const lose = (attempt: Attempt) => {
			attempt.superseded = true;
			attempt.node.abort(new Superseded());
		};

		const launch = (mode: 'wait' | 'now') => {
			const req = hasBody ? source.clone() : source;
			const started = dispatch(req, mode);
			running.add(started);
			started.then((won) => {
				running.delete(started);
				if (!won) return settleIfDone();
				if (settled) {
					// Headers after the race was decided: this body is not handed on.
					won.attempt.superseded = true;
					cancelBody(won.response.body);
					won.attempt.finish();
					if (won.ticket) op.client.shared.breakers?.record(won.ticket, null);
					return;
				}
				finish();
				for (const other of [...op.live ?? []]) if (other !== won.attempt) lose(other);
				resolve(won);
			}, (error: unknown) => {
				running.delete(started);
				if (!failed) {
					failed = true;
					firstError = error;
				}
				settleIfDone();
			});
		};

		// When every attempt has failed and no hedge is left to start, the first failure is the result.
		const settleIfDone = () => {
			if (settled || running.size > 0) return;
			if (extra < hedge.max && !op.node.aborted && op.remaining() > 0 && !failed) return;
			finish();
			reject(failed ? firstError : op.abortFailure());
		};

		const schedule = () => {
			if (extra >= hedge.max || op.remaining() <= hedge.delay) return;
			timer = startTimer(() => {
				timer = undefined;
				if (settled || op.node.aborted) return;
				extra++;
				launch('now');
				schedule();
			}, hedge.delay);
		};

		launch('wait');
		schedule();
	});
}
