// Readers decode in the charset the server used: decode.encoding, then a BOM, then the
// Content-Type charset, then UTF-8. The same for .json(), .text() and HttpError.body.
import {describe, expect, it} from 'vitest';
import {createClient, isFetchError, type DecodeError} from '../../src/index.js';
import {CHARSET_NAMES, charsets} from '../fault-server/charsets.js';
import {at} from '../support/fault.js';

const api = createClient({retry: 0, timeout: 5000});

async function decodeFailure(promise: Promise<unknown>): Promise<DecodeError> {
	const error = await promise.then(() => undefined, (e: unknown) => e);
	expect(isFetchError(error), String(error)).toBe(true);
	expect((error as DecodeError).kind).toBe('decode');
	return error as DecodeError;
}

describe('charset: .json() and .text() decode what the server sent', () => {
	for (const name of CHARSET_NAMES) {
		const fixture = charsets[name];
		if (fixture.expect === 'ok') {
			it(`${name}: .json() and .text()`, async () => {
				expect(await api.get(at(`/charset/${name}?as=json`)).json()).toEqual(fixture.json);
				expect(await api.get(at(`/charset/${name}?as=text`)).text()).toBe(fixture.text);
			});
		}
	}

	it('a BOM alone names the encoding when the header has no charset', async () => {
		for (const name of ['utf-16le-bom', 'utf-16be-bom', 'utf-8-bom'] as const) {
			expect(await api.get(at(`/charset/${name}?as=json&header=none`)).json()).toEqual(charsets[name].json);
			expect(await api.get(at(`/charset/${name}?as=text&header=none`)).text()).toBe(charsets[name].text);
		}
	});

	it('a BOM wins over the header charset', async () => {
		expect(charsets['header-vs-bom'].label).toBe('gbk');
		expect(await api.get(at('/charset/header-vs-bom?as=json')).json()).toEqual(charsets['header-vs-bom'].json);
	});

	it('invalid bytes: .json() fails (fatal by default), .text() gives U+FFFD (lenient by default)', async () => {
		const failure = await decodeFailure(api.get(at('/charset/invalid-utf-8?as=json')).json());
		expect(failure).toMatchObject({reason: 'charset', charset: 'utf-8'});
		expect(failure.snippet).toContain('bad bytes');
		expect(await api.get(at('/charset/invalid-utf-8?as=text')).text()).toBe(charsets['invalid-utf-8'].text);
	});

	it('decode.fatal overrides both defaults', async () => {
		await decodeFailure(api.get(at('/charset/invalid-utf-8?as=text'), {decode: {fatal: true}}).text());
		const lenient = await api.get(at('/charset/invalid-utf-8?as=json'), {decode: {fatal: false}}).json<{greeting: string}>();
		expect(lenient.greeting).toContain('\uFFFD');
	});

	it('an unknown charset label is a DecodeError naming it', async () => {
		const failure = await decodeFailure(api.get(at('/charset/wrong-label?as=text')).text());
		expect(failure.reason).toBe('charset');
		expect(failure.charset).toBe('x-klingon');
		expect(failure.message).toContain('x-klingon');
	});

	it('decode.encoding forces a charset over the header', async () => {
		// The wrong-label body is ASCII: any ASCII-compatible encoding reads it.
		const text = await api.get(at('/charset/wrong-label?as=text'), {decode: {encoding: 'utf-8'}}).text();
		expect(text).toBe(charsets['wrong-label'].text);
		// GBK bytes forced through windows-1252 are mojibake, not Chinese: the option really applies.
		const forced = await api.get(at('/charset/gbk?as=text'), {decode: {encoding: 'windows-1252'}}).text();
		expect(forced).not.toBe(charsets.gbk.text);
		expect(forced.length).toBeGreaterThan(charsets.gbk.text.length);
	});

	it('an unknown decode.encoding is refused when the client is made', () => {
		expect(() => createClient({decode: {encoding: 'x-klingon'}})).toThrow(RangeError);
		expect(() => createClient({decode: {encoding: 'x-klingon'}})).toThrow(/decode\.encoding \("x-klingon"\)/);
	});

	it('the charset is found by the WHATWG rules: a quoted value does not count, the last valid line wins', async () => {
		const api = createClient();
		const quoted = encodeURIComponent('text/plain; foo="x;charset=utf-8;"; charset=gbk');
		expect(await api.get(at(`/charset/gbk?as=text&ct=${quoted}`)).text()).toBe(charsets.gbk.text);
		const lines = ['application/json; charset=utf-8', 'application/json; charset=gbk'].map((line) => `ct=${encodeURIComponent(line)}`).join('&');
		expect(await api.get(at(`/charset/gbk?as=json&${lines}`)).json()).toEqual(charsets.gbk.json);
		const inherit = ['text/plain; charset=gbk', 'text/plain'].map((line) => `ct=${encodeURIComponent(line)}`).join('&');
		expect(await api.get(at(`/charset/gbk?as=text&${inherit}`)).text()).toBe(charsets.gbk.text);
	});

	it('.bytes(), .arrayBuffer() and .blob() give the raw body', async () => {
		const fixture = charsets.gbk;
		expect(await api.get(at('/charset/gbk?as=text')).bytes()).toEqual(fixture.bytes.text);
		expect(new Uint8Array(await api.get(at('/charset/gbk?as=text')).arrayBuffer())).toEqual(fixture.bytes.text);
		const blob = await api.get(at('/charset/gbk?as=text')).blob();
		expect(blob.type).toContain('charset=gbk');
		expect(new Uint8Array(await blob.arrayBuffer())).toEqual(fixture.bytes.text);
	});

	it('a late reader (after the response arrived) decodes the same way', async () => {
		const promise = api.get(at('/charset/shift_jis?as=json'));
		await promise;
		expect(await promise.json()).toEqual(charsets.shift_jis.json);
	});
});

describe('charset: HttpError.body', () => {
	for (const name of ['gbk', 'shift_jis', 'utf-16le-bom'] as const) {
		it(`is decoded in the server charset (${name}) and parsed when JSON`, async () => {
			const error = await api.get(at(`/charset/${name}?as=json&status=500`)).json().catch((e: unknown) => e);
			expect(isFetchError(error)).toBe(true);
			expect(error).toMatchObject({kind: 'http', status: 500, body: charsets[name].json});
			const text = await api.get(at(`/charset/${name}?as=text&status=404`)).text().catch((e: unknown) => e);
			expect(text).toMatchObject({kind: 'http', status: 404, body: charsets[name].text});
		});
	}

	it('is undefined when the error body is over maxBodyBytes', async () => {
		const error = await api.get(at('/charset/gbk?as=json&status=500'), {maxBodyBytes: 8}).json().catch((e: unknown) => e);
		expect(error).toMatchObject({kind: 'http', status: 500, body: undefined});
	});
});

describe('whole bodies', () => {
	it('a big body reads the same with a Content-Length, chunked, and gzip-encoded (where Content-Length is not the body size)', async () => {
		const api = createClient({retry: 0});
		const size = 3 * 1024 * 1024 + 17;
		const counted = await api.get(at(`/bytes?n=${size}`)).bytes();
		expect(counted.byteLength).toBe(size);
		expect([counted[0], counted[255], counted[256], counted[size - 1]]).toEqual([0, 255, 0, (size - 1) % 256]);
		const chunked = await api.get(at(`/big?n=${size}&cl=0`)).text();
		const withLength = await api.get(at(`/big?n=${size}`)).text();
		expect(chunked).toHaveLength(size);
		expect(withLength).toBe(chunked);
		const inflated = await api.get(at('/gzip-bomb?mb=1')).json<{data: string}>();
		expect(inflated.data).toHaveLength(1024 * 1024 - '{"data":""}'.length);
	});
});

describe('big bodies decode like TextDecoder', () => {
	it('invalid UTF-8 over the fast-path size: .text() gives the same U+FFFD text, .json() a DecodeError charset', async () => {
		const api = createClient({retry: 0});
		const n = 64 * 1024 + 3;
		const expected = new Uint8Array(n).map((_, i) => i % 256);
		expect(await api.get(at(`/bytes?n=${n}`)).text()).toBe(new TextDecoder().decode(expected));
		const error = await api.get(at(`/bytes?n=${n}`)).json().catch((e: unknown) => e) as DecodeError;
		expect(isFetchError(error)).toBe(true);
		expect(error).toMatchObject({kind: 'decode', reason: 'charset'});
	});
});
