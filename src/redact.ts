// Secrets never reach messages, toJSON() or listener events: URL userinfo is dropped and the values
// of sensitive query parameters become `***`. The rest of the URL is kept byte for byte.

export const defaultRedactedQuery: readonly string[] = [
	'token', 'access_token', 'refresh_token', 'id_token', 'api_key', 'apikey', 'key',
	'password', 'secret', 'client_secret', 'signature', 'sig', 'auth',
];

/** A lower-cased set of parameter names; built once per client. */
export type RedactSet = ReadonlySet<string>;

export const defaultRedactSet: RedactSet = new Set(defaultRedactedQuery);

/** The caller's names are added to the defaults, never replace them: forgetting one must not leak it. */
export function makeRedactSet(names: readonly string[] | undefined): RedactSet {
	if (!names || names.length === 0) return defaultRedactSet;
	const set = new Set(defaultRedactSet);
	for (const name of names) set.add(name.toLowerCase());
	return set;
}

const userinfoPattern = /^([a-z][\d+.a-z-]*:\/\/)[^/?#@]*@/i;

export function redactUrl(url: string, names: RedactSet = defaultRedactSet): string {
	let out = url.replace(userinfoPattern, '$1');
	const q = out.indexOf('?');
	if (q === -1) return out;
	const hashAt = out.indexOf('#', q);
	const query = hashAt === -1 ? out.slice(q + 1) : out.slice(q + 1, hashAt);
	const rest = hashAt === -1 ? '' : out.slice(hashAt);
	let changed = false;
	const parts = query.split('&');
	for (let i = 0; i < parts.length; i++) {
		const part = parts[i]!;
		const eq = part.indexOf('=');
		const rawName = eq === -1 ? part : part.slice(0, eq);
		if (names.has(decodeName(rawName).toLowerCase())) {
			parts[i] = `${rawName}=***`;
			changed = true;
		}
	}
	if (changed) out = `${out.slice(0, q + 1)}${parts.join('&')}${rest}`;
	return out;
}

function decodeName(raw: string): string {
	try {
		return decodeURIComponent(raw.replace(/\+/g, ' '));
	} catch {
		return raw;
	}
}

/** Replaces every occurrence of the raw URL (and its userinfo-free form) inside a free text, e.g. a runtime's error message. */
export function redactText(text: string, rawUrl: string | undefined, redactedUrl: string): string {
	if (!rawUrl || rawUrl === redactedUrl || !text.includes(rawUrl)) return text;
	return text.split(rawUrl).join(redactedUrl);
}
