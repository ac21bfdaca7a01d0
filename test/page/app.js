// A front-end page as users build it: it imports `surefetch` by name (the built package, through
// its `exports` map), is bundled by esbuild, and makes real requests to the fault server whose
// addresses arrive in the query string. Results land in `window.results` and on the page.
import {createClient, isFetchError} from 'surefetch';

const params = new URLSearchParams(location.search);
const fault = params.get('fault');
const tls = params.get('tls');
// Deadlines far above the 20 ms after which the server ends a mid-body fault: a busy machine must
// not turn a reset into an idle timeout.
const api = createClient({retry: 0, timeout: {total: 8000, headers: 3000, idle: 1500}});

const scenarios = {
	gbkJson: () => api.get(`${fault}/charset/gbk?as=json`).json(),
	shiftJisText: () => api.get(`${fault}/charset/shift_jis?as=text`).text(),
	tlsSelfSigned: () => api.get(`${tls}/ok`).json(),
	corsRefused: () => api.get(`${fault}/no-cors`).json(),
	resetMidBody: () => api.get(`${fault}/reset-mid-body?framing=cl`).json(),
	resetMidBodyCallerRead: () => api.get(`${fault}/reset-mid-body?framing=chunked`).then((r) => r.text()),
	stalledBody: () => api.get(`${fault}/stall-mid-body?framing=cl`).json(),
	http503: () => api.get(`${fault}/503`).json(),
	badJson: () => api.get(`${fault}/bad-json`).json(),
	safe: () => api.safe.get(`${fault}/status/500`).json(),
};

function describe(value) {
	if (isFetchError(value)) {
		const {kind, phase, code, reason, status, timeout} = value;
		return {error: true, kind, phase, code, reason, status, timeout, name: value.name};
	}
	if (value instanceof Error) return {error: true, raw: `${value.name}: ${value.message}`};
	return {value};
}

const results = {};
for (const [name, run] of Object.entries(scenarios)) {
	try {
		results[name] = describe(await run());
	} catch (error) {
		results[name] = describe(error);
	}
	const safe = results.safe?.value;
	if (safe && safe.ok === false) results.safe = {value: {ok: false, kind: safe.error.kind, status: safe.error.status}};
}
await api.close();
window.results = results;
document.querySelector('#out').textContent = JSON.stringify(results, null, 2);
document.body.dataset.done = 'true';
