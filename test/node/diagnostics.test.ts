// Node's diagnostics_channel: the tracing channel `surefetch:request` and the channels
// `surefetch:retry` and `surefetch:breaker`, with redacted requests.
import diagnostics from 'node:diagnostics_channel';
import {describe, expect, it} from 'vitest';
import {breaker, createClient, isFetchError} from '../../src/index.js';
import {at, uid} from '../support/fault.js';

describe('diagnostics channels', () => {
	it('surefetch:request traces each call: start, end, asyncStart, asyncEnd (or error), with attempts, timings and status', async () => {
		const seen: Array<[string, Record<string, unknown>]> = [];
		const handlers = Object.fromEntries(['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((name) => [name, (message: unknown) => {
			const m = message as Record<string, unknown>;
			seen.push([name, {url: (m.request as {url: string}).url, attempts: m.attempts, status: m.status, error: m.error, result: m.result, timings: m.timings}]);
		}]));
		const channel = diagnostics.tracingChannel('surefetch:request');
		channel.subscribe(handlers as never);
		try {
			const api = createClient({retry: {limit: 1, delay: () => 10}});
			const id = uid('dc');
			await api.get(at(`/flaky?id=${id}&fail=1&status=503&token=S3CR3T`)).json();
			await api.get(at('/status/404')).catch(() => {});
		} finally {
			channel.unsubscribe(handlers as never);
		}
		expect(seen.map(([name]) => name)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end', 'error', 'asyncStart', 'asyncEnd']);
		const done = seen[3]![1];
		expect(done.url).toContain('token=***');
		expect(JSON.stringify(seen.map(([, m]) => m.url))).not.toContain('S3CR3T');
		expect(done).toMatchObject({attempts: 2, status: 200});
		expect(done.result).toBeInstanceOf(Response);
		expect((done.timings as {total: number}).total).toBeGreaterThan(0);
		const failed = seen[6]![1];
		expect(isFetchError(failed.error)).toBe(true);
		expect(failed.error).toMatchObject({kind: 'http', status: 404});
	});

	it('surefetch:retry and surefetch:breaker publish each retry and each breaker change', async () => {
		const retries: unknown[] = [];
		const changes: unknown[] = [];
		const onRetry = (message: unknown) => retries.push(message);
		const onBreaker = (message: unknown) => changes.push(message);
		diagnostics.subscribe('surefetch:retry', onRetry);
		diagnostics.subscribe('surefetch:breaker', onBreaker);
		try {
			const api = createClient({retry: {limit: 1, delay: () => 10}, use: [breaker({failures: 2, cooldown: 10_000})]});
			await api.get(at('/status/503?sig=S1GN4')).catch(() => {});
		} finally {
			diagnostics.unsubscribe('surefetch:retry', onRetry);
			diagnostics.unsubscribe('surefetch:breaker', onBreaker);
		}
		expect(retries).toHaveLength(1);
		expect(retries[0]).toMatchObject({attempt: 1, delay: 10, error: {kind: 'http', status: 503}});
		expect((retries[0] as {request: {url: string}}).request.url).toContain('sig=***');
		expect(changes).toEqual([expect.objectContaining({state: 'open', previous: 'closed', failures: 2})]);
	});
});
