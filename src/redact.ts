// Secrets never reach messages, toJSON(), listener events or what console.log shows of an error:
// URL userinfo is dropped, the values of sensitive query parameters become `***`, and a foreign
// text (a runtime's message) loses every URL with credentials or a query and every known secret.

export const defaultRedactedQuery: readonly string[] = [
	'token', 'access_token', 'refresh_token', 'id_token', 'api_key', 'apikey', 'key',
	'password', 'secret', 'client_secret', 'signature', 'sig', 'auth',
];

/** Lower-cased parameter names; one set per client. */
export type RedactSet = ReadonlySet<string>;

const defaults: RedactSet = new Set(defaultRedactedQuery);

/** The caller's names are added to the defaults, never replace them: forgetting one must not leak it. */
export function makeRedactSet(names: readonly string[] | undefined): RedactSet {
	return names?.length ? new Set([...defaults, ...names.map((n) => n.toLowerCase())]) : defaults;
}

const userinfo = /^([a-z][\d+.a-z-]*:\/\/)([^/?#@]*)@/i;

/** Splits a URL's query into [name, value] pairs (raw text), or undefined without one. */
function queryOf(url: string): {q: number; end: number; parts: string[]} | undefined {
	const q = url.indexOf('?');
	if (q < 0) return undefined;
	const hash = url.indexOf('#', q);
	const end = hash < 0 ? url.length : hash;
	return {q, end, parts: url.slice(q + 1, end).split('&')};
}

function decode(raw: string): string {
	try {
		return decodeURIComponent(raw.replace(/\+/g, ' '));
	} catch {
		return raw;
	}
}

/** The URL with its userinfo dropped and sensitive query values replaced by `***`; the rest byte for byte. */
export function redactUrl(url: string, names: RedactSet = defaults): string {
	let out = url.replace(userinfo, '$1');
	const query = queryOf(out);
	if (!query) return out;
	let changed = false;
	const parts = query.parts.map((part) => {
		const eq = part.indexOf('=');
		const name = eq < 0 ? part : part.slice(0, eq);
		if (!names.has(decode(name).toLowerCase())) return part;
		changed = true;
		return `${name}=***`;
	});
	if (changed) out = `${out.slice(0, query.q + 1)}${parts.join('&')}${out.slice(query.end)}`;
	return out;
}

/** The secret texts of a raw URL (userinfo, sensitive query values, raw and decoded), to scrub from foreign messages. */
export function secretsOf(url: string, names: RedactSet = defaults): string[] {
	const out: string[] = [];
	const info = userinfo.exec(url)?.[2];
	if (info) out.push(info, ...info.split(':'));
	for (const part of queryOf(url)?.parts ?? []) {
		const eq = part.indexOf('=');
		if (eq > 0 && names.has(decode(part.slice(0, eq)).toLowerCase())) out.push(part.slice(eq + 1), decode(part.slice(eq + 1)));
	}
	// A secret of one or two characters is not worth garbling every message for.
	return out.filter((s) => s.length > 2);
}

/** A foreign text made safe: URLs with credentials or a query become the request's redacted URL; known secrets become `***`. */
export function scrub(text: string, redactedUrl: string, secrets: readonly string[]): string {
	let out = text.replace(/[a-z][\d+.a-z-]*:\/\/[^\s"'<>]+/gi, (m) => (m.includes('@') || m.includes('?') ? redactedUrl : m));
	for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
	return out;
}
