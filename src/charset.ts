// Bytes -> text in the charset the server used. The order is the SPEC's: a forced encoding, then a
// byte-order mark, then the Content-Type charset, then UTF-8. The charset is found as fetch's
// "extract a MIME type" finds it (WHATWG MIME Sniffing and Fetch): a quoted value does not count,
// and of several Content-Type values the last valid one wins. Decoding is the runtime's
// TextDecoder: no decoding tables are bundled.

import {utf8 as nodeUtf8} from '#platform';

export interface MediaType {
	/** `type/subtype`, lower-cased; '' when there is no valid Content-Type. */
	essence: string;
	/** The charset parameter, unquoted; undefined when absent. */
	charset: string | undefined;
}

const token = /^[!#$%&'*+\-.^_`|~\dA-Za-z]+$/;
const quotable = /^[\t\x20-\x7e\x80-\xff]*$/;
const isWhitespace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const trimEnd = (s: string) => s.replace(/[\t\n\r ]+$/, '');

/** "Collect an HTTP quoted string" from s[i] === '"': [the value (unescaped when `extract`), the next index]. */
function quoted(s: string, i: number, extract: boolean): [string, number] {
	const start = i++;
	let value = '';
	for (;;) {
		while (i < s.length && s[i] !== '"' && s[i] !== '\\') value += s[i++];
		if (i >= s.length) break;
		if (s[i++] === '"') break;
		value += i < s.length ? s[i++] : '\\';
	}
	return [extract ? value : s.slice(start, i), i];
}

/** WHATWG "parse a MIME type": undefined on failure. */
export function parseMimeType(input: string): {essence: string; params: Map<string, string>} | undefined {
	const s = trimEnd(input.replace(/^[\t\n\r ]+/, ''));
	const slash = s.indexOf('/');
	let i = s.indexOf(';', slash);
	if (i < 0) i = s.length;
	const type = s.slice(0, slash);
	const subtype = trimEnd(s.slice(slash + 1, i));
	if (slash < 0 || !token.test(type) || !token.test(subtype)) return undefined;
	const params = new Map<string, string>();
	while (i < s.length) {
		i++;
		while (isWhitespace(s[i])) i++;
		let j = i;
		while (j < s.length && s[j] !== ';' && s[j] !== '=') j++;
		const name = s.slice(i, j).toLowerCase();
		i = j;
		if (i < s.length) {
			if (s[i] === ';') continue;
			i++;
		}
		if (i >= s.length) break;
		let value: string;
		if (s[i] === '"') {
			[value, i] = quoted(s, i, true);
			while (i < s.length && s[i] !== ';') i++;
		} else {
			j = s.indexOf(';', i);
			if (j < 0) j = s.length;
			value = trimEnd(s.slice(i, j));
			i = j;
			if (!value) continue;
		}
		if (token.test(name) && quotable.test(value) && !params.has(name)) params.set(name, value);
	}
	return {essence: `${type}/${subtype}`.toLowerCase(), params};
}

/** A header value split on commas outside quoted strings ("getting, decoding, and splitting"). */
function split(s: string): string[] {
	const out: string[] = [];
	let part = '';
	for (let i = 0; ;) {
		while (i < s.length && s[i] !== '"' && s[i] !== ',') part += s[i++];
		if (s[i] === '"') {
			const [text, next] = quoted(s, i, false);
			part += text;
			i = next;
			if (i < s.length) continue;
		}
		out.push(part.replace(/^[\t ]+|[\t ]+$/g, ''));
		part = '';
		if (i++ >= s.length) return out;
	}
}

let last: [string, MediaType] | undefined;

/** Fetch's "extract a MIME type" of a Content-Type header value (several lines arrive joined by ", "). */
export function parseContentType(value: string | null | undefined): MediaType {
	if (!value) return {essence: '', charset: undefined};
	if (last?.[0] === value) return last[1];
	let essence = '';
	let charset: string | undefined;
	let result: {essence: string; params: Map<string, string>} | undefined;
	for (const part of value.includes(',') || value.includes('"') ? split(value) : [value]) {
		const type = parseMimeType(part);
		if (!type || type.essence === '*/*') continue;
		result = type;
		if (type.essence !== essence) {
			charset = type.params.get('charset');
			essence = type.essence;
		} else if (!type.params.has('charset') && charset !== undefined) {
			type.params.set('charset', charset);
		}
	}
	const media = {essence: result?.essence ?? '', charset: result?.params.get('charset')};
	last = [value, media];
	return media;
}

/** `application/json`, `text/json`, and any `+json` / `-json` / `.json` structured suffix. */
export function isJsonMediaType(essence: string): boolean {
	return /^[^/]+\/(?:[^/]*[+.-])?json$/.test(essence);
}

export interface ResolvedCharset {
	/** A WHATWG label for TextDecoder. */
	label: string;
	/** Bytes to skip (the byte-order mark). */
	skip: number;
}

export function sniffBom(bytes: Uint8Array): ResolvedCharset | undefined {
	const [a, b, c] = bytes;
	if (a === 0xef && b === 0xbb && c === 0xbf) return {label: 'utf-8', skip: 3};
	if (a === 0xff && b === 0xfe) return {label: 'utf-16le', skip: 2};
	if (a === 0xfe && b === 0xff) return {label: 'utf-16be', skip: 2};
	return undefined;
}

const utf8: ResolvedCharset = {label: 'utf-8', skip: 0};

export function resolveCharset(bytes: Uint8Array, headerCharset: string | undefined, forced: string | undefined): ResolvedCharset {
	const bom = sniffBom(bytes);
	// A forced encoding still skips a BOM of that same encoding, as TextDecoder would.
	if (forced) return {label: forced, skip: bom && normalizeLabel(forced) === bom.label ? bom.skip : 0};
	return bom ?? (headerCharset ? {label: headerCharset, skip: 0} : utf8);
}

// Decoders are stateless without `stream`, so one per (label, fatal) is reused. Labels come from
// servers: the cache is bounded.
const decoders = new Map<string, TextDecoder>();

/** A decoder, or undefined when the runtime does not know the label. */
export function decoderFor(label: string, fatal: boolean): TextDecoder | undefined {
	const key = `${fatal ? '!' : ''}${label.toLowerCase()}`;
	let decoder = decoders.get(key);
	if (!decoder) {
		try {
			decoder = new TextDecoder(label, {fatal, ignoreBOM: true});
		} catch {
			return undefined;
		}
		if (decoders.size > 63) decoders.clear();
		decoders.set(key, decoder);
	}
	return decoder;
}

/** The WHATWG name of a label (`latin1` -> `windows-1252`), or undefined if unknown. */
export function normalizeLabel(label: string): string | undefined {
	return decoderFor(label, false)?.encoding;
}

export class CharsetFailure {
	constructor(readonly reason: 'unknown-label' | 'invalid-bytes', readonly label: string) {}
}

/** Decodes, or returns a CharsetFailure. Never throws. */
export function decodeBytes(bytes: Uint8Array, charset: ResolvedCharset, fatal: boolean): string | CharsetFailure {
	const decoder = decoderFor(charset.label, fatal);
	if (!decoder) return new CharsetFailure('unknown-label', charset.label);
	const view = charset.skip ? bytes.subarray(charset.skip) : bytes;
	try {
		return (decoder.encoding === 'utf-8' && nodeUtf8(view)) || decoder.decode(view);
	} catch {
		return new CharsetFailure('invalid-bytes', decoder.encoding);
	}
}

/** The start of a body for error messages: lenient, at most 200 characters. */
export function snippetOf(bytes: Uint8Array, charset: ResolvedCharset | undefined): string {
	const decoder = (charset && decoderFor(charset.label, false)) || decoderFor('utf-8', false)!;
	return decoder.decode(bytes.subarray(charset?.skip ?? 0, 800)).slice(0, 200);
}
