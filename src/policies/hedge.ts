// `hedge({delay, max})`: for requests that may be sent twice (their method, or an Idempotency-Key),
// when no headers came after `delay` ms, another attempt starts (up to `max` extra). The first
// response wins; the others are given up and their bodies cancelled. A hedge never waits for a
// slot (a `limit` declines it instead), never starts past the total deadline, and counts in
// `attempts`. When every attempt failed and no hedge is left to start, the first failure is the result.

import {checkPolicyOptions, duration, integer} from '../options.js';
import {stage, type Policy, type Send, type SendContext} from '../policy.js';

export interface HedgeOptions {
	/** ms without response headers before another attempt starts. */
	delay: number;
	/** Most extra attempts. Default 1. */
	max?: number;
}

export function hedge(options: HedgeOptions): Policy {
	checkPolicyOptions('hedge', options, {delay: duration(false), max: integer(1, 'a positive integer')});
	if (options?.delay === undefined) throw new TypeError('hedge.delay is required (ms without headers before another attempt starts)');
	const {delay, max = 1} = options;
	return {
		name: 'hedge',
		[stage]: 4,
		send(context: SendContext, next: Send): Promise<Response> {
			const {request} = context;
			if (!context.retryable) return next(request);
			const deadline = performance.now() + context.remaining;
			return new Promise<Response>((resolve, reject) => {
				const running = new Set<AbortController>();
				let settled = false;
				let extra = 0;
				let failure: {error: unknown} | undefined;
				let timer: ReturnType<typeof setTimeout> | undefined;
				const finish = () => {
					settled = true;
					clearTimeout(timer);
					for (const loser of running) loser.abort();
				};
				const settleIfDone = () => {
					if (settled || running.size > 0 || (!failure && extra < max)) return;
					finish();
					reject(failure!.error);
				};
				const launch = (isHedge: boolean) => {
					const controller = new AbortController();
					running.add(controller);
					// A body can be sent once: every attempt gets its own copy, the original is never sent.
					const copy = request.body === null ? request : request.clone();
					(isHedge ? next(copy, {hedge: true, signal: controller.signal}) : next(copy, {signal: controller.signal})).then((response) => {
						running.delete(controller);
						if (!response) return settleIfDone(); // declined: no room for a hedge now
						if (settled) return void response.body?.cancel().catch(() => {});
						finish();
						resolve(response);
					}, (error: unknown) => {
						running.delete(controller);
						failure ??= {error};
						settleIfDone();
					});
				};
				const schedule = () => {
					if (extra >= max || deadline - performance.now() <= delay) return;
					timer = setTimeout(() => {
						if (settled || context.signal.aborted) return;
						extra++;
						launch(true);
						schedule();
					}, delay);
					(timer as {unref?: () => void}).unref?.();
				};
				launch(false);
				schedule();
			});
		},
	} as Policy;
}
