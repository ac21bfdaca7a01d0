// Bad input and hostile servers: a gzip bomb stays bounded, prototypes stay untouched, header
// injection never reaches the wire.
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {createClient, isFetchError} from '../../src/index.js';
import {mergeOwn, splitOptions} from '../../src/options.js';
import {at} from '../support/fault.js';
import {runNodeChild} from '../support/child.js';

async function runChild(source: string): Promise<string> {
	const {code, stdout, stderr} = await runNodeChild(source, {limitMs: 110_000});
	if (code !== 0) throw new Error(`child exited ${code}: ${stderr}`);
	return stdout;
}

describe('security', () => {
	it('a gzip bomb (512 MiB inflated) ends as DecodeError too-large without the process growing past the cap', async () => {
		const dist = fileURLToPath(new URL('../../dist/node/index.js', import.meta.url));
		const out = await runChild(`
			import {createClient} from ${JSON.stringify(dist)};
			const api = createClient({retry: 0, maxBodyBytes: 8 * 1024 * 1024});
			const url = ${JSON.stringify(at('/gzip-bomb?mb=512'))};
			await api.get(${JSON.stringify(at('/ok'))}).json(); // warm up before the baseline
			const before = process.resourceUsage().maxRSS;
			const results = [];
			for (const read of ['json', 'text']) {
				const error = await api.get(url)[read]().catch((e) => e);
				results.push({kind: error.kind, reason: error.reason});
			}
			const grown = (process.resourceUsage().maxRSS - before) / 1024;
			console.log(JSON.stringify({results, grownMiB: grown}));
		`);
		const {results, grownMiB} = JSON.parse(out) as {results: unknown[]; grownMiB: number};
		expect(results).toEqual([{kind: 'decode', reason: 'too-large'}, {kind: 'decode', reason: 'too-large'}]);
		expect(grownMiB).toBeLessThan(96); // the cap is 8 MiB; the bomb would be 512 MiB
	}, 120_000);

	it('__proto__ and constructor keys in options or JSON change no prototype', async () => {
		const hostile = JSON.parse('{"__proto__": {"polluted": true, "throwHttpErrors": false}, "constructor": {"prototype": {"polluted": true}}, "retry": 0}') as Record<string, unknown>;
		const api = createClient(hostile);
		const error = await api.get(at('/status/404')).catch((e: unknown) => e);
		expect(isFetchError(error)).toBe(true); // throwHttpErrors did not leak in through __proto__
		const response = await api.get(at('/status/404'), JSON.parse('{"__proto__": {"throwHttpErrors": false}}')).catch((e: unknown) => e);
		expect(isFetchError(response)).toBe(true);
		const echo = await api.post(at('/echo'), {json: JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')}).json<{body: string}>();
		expect(echo.body).toContain('"__proto__"');
		const parsed = await api.post(at('/echo'), {body: '{"__proto__": {"polluted": true}}', headers: {'content-type': 'application/json'}}).json<{body: string}>();
		expect(JSON.parse(parsed.body)).toHaveProperty('__proto__');
		// The option objects surefetch builds keep a plain prototype whatever keys come in.
		const split = splitOptions(hostile);
		expect(Object.getPrototypeOf(split.ky)).toBe(Object.prototype);
		expect(Object.getPrototypeOf(split.own)).toBe(Object.prototype);
		expect(Object.getPrototypeOf(mergeOwn({}, JSON.parse('{"__proto__": {"timeout": 1}}')))).toBe(Object.prototype);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
	});

	it('CR/LF in a header name or value is refused before anything is sent', async () => {
		const api = createClient({retry: 0});
		for (const headers of [{'x-a': 'ok\r\nx-injected: 1'}, {'x-a\r\nx-b': 'v'}, {'x-a': 'a\nb'}, {'x-a': 'a\0b'}]) {
			const error = await api.get(at('/echo'), {headers}).catch((e: unknown) => e);
			expect(error).toMatchObject({kind: 'invalid', reason: 'header', attempts: 0});
		}
		const client = createClient({headers: {'x-a': 'ok\r\nx-injected: 1'}});
		expect(await client.get(at('/echo')).catch((e: unknown) => e)).toMatchObject({kind: 'invalid', reason: 'header'});
	});
});
