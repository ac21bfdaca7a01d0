// Redirects, followed the way fetch follows them (WHATWG fetch, "HTTP-redirect fetch", as undici's
// fetch implements it): at most 20; a Location with credentials is refused (Node's fetch has no
// origin of its own, so every such redirect is "cross origin" to it); 303 turns anything but
// GET/HEAD into a body-less GET, and so do 301/302 for POST; a body without a source (a caller's
// stream) fails any redirect but a 303; credentials do not cross origins; the new URL passes the
// port check again. A failure is an Error with fetch's own message (classify.ts knows them).

import type {OutgoingBody} from './request-body.js';
import {isBadPort} from './url.js';

/** One request as it goes on the wire; a redirect makes the next one. */
export interface Hop {
	url: URL;
	method: string;
	/** Flat name/value list, names in lower case (undici takes it as is). */
	headers: string[];
	body: OutgoingBody | null;
	redirects: number;
	/** The first URL, and whether a hop left its origin (the Response is then of type "cors", as in fetch). */
	first: URL;
	crossed: boolean;
}

export const maxRedirects = 20;

export function isRedirect(status: number): boolean {
	return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

const bodyHeaders = new Set(['content-encoding', 'content-language', 'content-location', 'content-type', 'content-length']);
// fetch drops Authorization (and undici also Cookie and Host) when a redirect leaves the origin.
const originHeaders = new Set(['authorization', 'proxy-authorization', 'cookie', 'host']);

export function followRedirect(hop: Hop, status: number, location: string): Hop | Error {
	let url: URL;
	try {
		// A Location header is bytes: UTF-8 in practice, latin1 as undici hands it over.
		url = new URL(/[^\x00-\x7f]/.test(location) ? Buffer.from(location, 'latin1').toString('utf8') : location, hop.url);
	} catch (error) {
		return error as Error;
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') return new Error('URL scheme must be a HTTP(S) scheme');
	if (hop.redirects >= maxRedirects) return new Error('redirect count exceeded');
	if (url.username !== '' || url.password !== '') return new Error('cross origin not allowed for request mode "cors"');
	let {method, headers, body} = hop;
	if (status !== 303 && body !== null && !body.replayable()) return new Error('a request body made from a stream cannot be sent again to follow a redirect');
	if (((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'GET' && method !== 'HEAD')) {
		method = 'GET';
		body = null;
		headers = without(headers, bodyHeaders);
	}
	if (url.origin !== hop.url.origin) headers = without(headers, originHeaders);
	if (isBadPort(url)) return new Error('bad port');
	return {url, method, headers, body, redirects: hop.redirects + 1, first: hop.first, crossed: hop.crossed || url.origin !== hop.first.origin};
}

function without(headers: string[], names: Set<string>): string[] {
	const kept: string[] = [];
	for (let i = 0; i < headers.length; i += 2) if (!names.has(headers[i]!)) kept.push(headers[i]!, headers[i + 1]!);
	return kept;
}
