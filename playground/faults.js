// The faults the page offers, grouped. Each is one route of the fault server (see the route list at
// the top of test/fault-server/server.js) plus what a newcomer needs: a name, one line on what the
// server does, and the reader that shows it best.
//
//   path   on the fault server; `{id}` becomes a fresh id per run (the /flaky counters are per id,
//          and raw fetch gets its own id, so it does not use up surefetch's failures)
//   url    (config) => a full URL, for faults that are not on the fault server's HTTP port
//   read   'json' | 'text' | 'response': the reader selected when the fault is picked
//   set    form values the fault needs to show anything (applied, and flashed, when picked)

export const GROUPS = [
  {
    title: 'Healthy',
    faults: [
      { id: 'ok', name: '200 OK', path: '/ok', read: 'json', explain: 'A normal JSON answer: the baseline.' },
      { id: 'json-64k', name: '200, 64 KB of JSON', path: '/json?size=65536', read: 'json', explain: 'A bigger normal body, in several chunks.' },
    ],
  },
  {
    title: 'Connection faults',
    faults: [
      { id: 'refused', name: 'Connection refused', url: (c) => c.refusedUrl, read: 'json', explain: 'Nothing listens on that port.' },
      { id: 'reset-before-headers', name: 'Reset before headers', path: '/reset-before-headers', read: 'json', explain: 'Reads the request, then a TCP reset.' },
      { id: 'close-before-headers', name: 'Closed before headers', path: '/close-before-headers', read: 'json', explain: 'Hangs up without sending a single byte.' },
      { id: 'reset-mid-body', name: 'Reset mid-body', path: '/reset-mid-body?framing=cl', read: 'json', explain: 'Headers and 100 bytes of JSON, then a TCP reset.' },
      { id: 'close-mid-body', name: 'Closed mid-body', path: '/close-mid-body?framing=chunked', read: 'json', explain: 'A chunked body cut short by a clean close.' },
      { id: 'flaky-reset-body', name: 'Reset mid-body once, then OK', path: '/flaky?id={id}&fail=1&mode=reset-body', read: 'json', explain: 'The 1st request dies mid-body; a retry gets 200.' },
      { id: 'tls', name: 'Self-signed TLS', url: (c) => `${c.tlsUrl}/ok`, read: 'json', explain: 'HTTPS with a certificate nobody trusts.' },
    ],
  },
  {
    title: 'Slow servers',
    faults: [
      { id: 'delay', name: 'Headers after 1.5 s', path: '/delay?ms=1500', read: 'json', explain: 'Thinks for 1.5 s, then answers 200.' },
      { id: 'stall-before-headers', name: 'Stall before headers', path: '/stall-before-headers', read: 'json', explain: 'Reads the request and never answers.' },
      { id: 'stall-mid-body', name: 'Stall mid-body', path: '/stall-mid-body', read: 'json', explain: 'Headers and part of the body, then silence.' },
      { id: 'trickle', name: 'Trickling body', path: '/trickle?every=700&chunks=4&size=12', read: 'text', explain: 'One 12-byte chunk every 700 ms.' },
      { id: 'flaky-slow', name: 'Slow first answer', path: '/flaky?id={id}&fail=1&mode=slow&ms=3000', read: 'json', explain: '1st request takes 3 s, the next is instant: try hedging.' },
    ],
  },
  {
    title: 'Broken bodies & protocol',
    faults: [
      { id: 'bad-chunk', name: 'Bad chunk size', path: '/bad-chunk', read: 'text', explain: 'Chunked encoding with a size line "zz".' },
      { id: 'bad-gzip', name: 'Not really gzip', path: '/bad-gzip', read: 'json', explain: 'Content-Encoding: gzip, but plain text.' },
      { id: 'malformed-status', name: 'Malformed status line', path: '/malformed-status', read: 'json', explain: 'Answers "HTTP/1.1 abc Nope".' },
      { id: 'redirect-loop', name: 'Redirect loop', path: '/redirect-loop', read: 'json', explain: '302 to itself, forever.' },
    ],
  },
  {
    title: 'HTTP status',
    faults: [
      { id: 'status-404', name: '404 Not Found', path: '/status/404', read: 'json', explain: 'A client error with a JSON body.' },
      { id: 'status-500', name: '500 Internal Server Error', path: '/status/500', read: 'json', explain: 'A server error with a JSON body.' },
      { id: '503-retry-after', name: '503 + Retry-After: 1', path: '/503?retryAfter=1', read: 'json', explain: 'Unavailable; "come back in 1 s".' },
      { id: '429-retry-after', name: '429 + Retry-After: 1', path: '/429?retryAfter=1', read: 'json', explain: 'Too many requests; "come back in 1 s".' },
      { id: 'flaky-503', name: '503 twice, then OK', path: '/flaky?id={id}&fail=2&status=503', read: 'json', explain: 'Two 503s, then 200: retries pay off.' },
    ],
  },
  {
    title: 'Charsets',
    faults: [
      { id: 'gbk-json', name: 'GBK JSON', path: '/charset/gbk?as=json', read: 'json', explain: 'Chinese JSON, Content-Type charset=gbk.' },
      { id: 'shift-jis-text', name: 'Shift_JIS text', path: '/charset/shift_jis?as=text', read: 'text', explain: 'Japanese text, charset=shift_jis.' },
      { id: 'big5-text', name: 'Big5 text', path: '/charset/big5?as=text', read: 'text', explain: 'Traditional Chinese, charset=big5.' },
      { id: 'euc-kr-text', name: 'EUC-KR text', path: '/charset/euc-kr?as=text', read: 'text', explain: 'Korean text, charset=euc-kr.' },
      { id: 'utf-16le-text', name: 'UTF-16LE with BOM', path: '/charset/utf-16le-bom?as=text', read: 'text', explain: 'Two bytes per character, byte-order mark first.' },
      { id: 'header-vs-bom', name: 'Header says GBK, BOM says UTF-8', path: '/charset/header-vs-bom?as=text', read: 'text', explain: 'The byte-order mark must win.' },
      { id: 'invalid-utf-8', name: 'Invalid UTF-8 in JSON', path: '/charset/invalid-utf-8?as=json', read: 'json', explain: 'Bytes that are not UTF-8 at all.' },
      { id: 'wrong-label', name: 'Unknown charset label', path: '/charset/wrong-label?as=text', read: 'text', explain: 'charset=x-klingon (the bytes are ASCII).' },
    ],
  },
  {
    title: 'Bad JSON',
    faults: [
      { id: 'html-as-json', name: 'HTML served as JSON', path: '/html-as-json', read: 'json', explain: 'A 502 error page labelled application/json.' },
      { id: 'bad-json', name: 'Truncated JSON', path: '/bad-json', read: 'json', explain: 'The body is {"a":' },
      { id: 'empty', name: 'Empty 200 body', path: '/empty', read: 'json', explain: 'application/json with Content-Length: 0.' },
      { id: 'no-content', name: '204 No Content', path: '/empty?status=204', read: 'json', explain: 'No body, as it should be.' },
    ],
  },
  {
    title: 'Size',
    faults: [
      { id: 'too-large-cl', name: 'Too large (Content-Length)', path: '/too-large?n=200000&cl=1', read: 'json', set: { maxBodyBytes: 100000 }, explain: '200 KB, announced; maxBodyBytes set to 100 KB.' },
      { id: 'too-large-chunked', name: 'Too large (chunked)', path: '/too-large?n=200000&cl=0', read: 'json', set: { maxBodyBytes: 100000 }, explain: '200 KB, no length; maxBodyBytes set to 100 KB.' },
    ],
  },
];

export const FAULTS = new Map(GROUPS.flatMap((group) => group.faults.map((fault) => [fault.id, { ...fault, group: group.title }])));
