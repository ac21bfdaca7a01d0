// Content-Type parsing held to an oracle: Node's util.MIMEType implements WHATWG "parse a MIME
// type"; surefetch's parser must agree with it on every header a generator can think of.
import {MIMEType} from 'node:util';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {parseContentType, parseMimeType} from '../../src/charset.js';

const pieces = ['text', 'application', 'json', 'plain', '/', ';', '=', '"', '\\', ' ', '\t', ',', 'charset', 'CharSet', 'gbk', 'utf-8', 'x', '+', '-', '*', 'é', '\u0100', '\r', '\n'];
const header = fc.array(fc.constantFrom(...pieces), {maxLength: 14}).map((parts) => parts.join(''));
const plausible = fc.tuple(
	fc.constantFrom('text/plain', 'application/json', 'TEXT/Html', ' application/problem+json ', 'a/b'),
	fc.array(fc.tuple(fc.constantFrom('charset', 'Charset', 'foo', 'q', 'charset '), fc.constantFrom('=', ' =', '= '), fc.constantFrom('gbk', '"utf-8"', '"x;charset=utf-8;"', '', '"a\\"b"', 'shift_jis', '"gbk'), fc.constantFrom(';', '; ', ' ;')), {maxLength: 4}),
).map(([type, params]) => type + params.map(([name, eq, value, sep]) => `${sep}${name}${eq}${value}`).join(''));

function oracle(value: string): {essence: string; charset: string | undefined} | undefined {
	try {
		const type = new MIMEType(value);
		return {essence: type.essence, charset: type.params.get('charset') ?? undefined};
	} catch {
		return undefined;
	}
}

describe('Content-Type parsing (WHATWG MIME type)', () => {
	it('agrees with util.MIMEType on generated headers', () => {
		fc.assert(fc.property(fc.oneof(header, plausible), (value) => {
			const ours = parseMimeType(value);
			const theirs = oracle(value);
			expect(ours && {essence: ours.essence, charset: ours.params.get('charset')}, JSON.stringify(value)).toEqual(theirs);
		}), {numRuns: 2000, seed: 20261128});
	});

	it('a quoted value does not count, and of several values the last valid one wins', () => {
		expect(parseContentType('text/plain; foo="x;charset=utf-8;"; charset=gbk')).toEqual({essence: 'text/plain', charset: 'gbk'});
		expect(parseContentType('application/json; charset=utf-8, application/json; charset=gbk')).toEqual({essence: 'application/json', charset: 'gbk'});
		// The same essence again without a charset keeps the one before; another essence starts over.
		expect(parseContentType('text/plain; charset=gbk, text/plain')).toEqual({essence: 'text/plain', charset: 'gbk'});
		expect(parseContentType('text/plain; charset=gbk, text/html')).toEqual({essence: 'text/html', charset: undefined});
		// Invalid values and */* are skipped.
		expect(parseContentType('text/html; charset=gbk, nonsense, */*')).toEqual({essence: 'text/html', charset: 'gbk'});
		expect(parseContentType('text/plain; charset="shift_jis"')).toEqual({essence: 'text/plain', charset: 'shift_jis'});
		expect(parseContentType('text/plain; charset="a,b", text/plain')).toEqual({essence: 'text/plain', charset: 'a,b'});
		expect(parseContentType('')).toEqual({essence: '', charset: undefined});
	});
});
