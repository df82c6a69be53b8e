import { describe, expect, it } from 'vitest';

import { ApiError, errorFromBody, errorFromResponse, errorMessage, statusMessage } from '../src/lib/errors';

describe('API error extraction', () => {
  it('uses the server error text and type from a JSON body', async () => {
    const res = new Response(JSON.stringify({ error: 'the query is empty: pass q=<words to search for>', error_type: 'invalid_input' }), {
      status: 400,
      statusText: 'Bad Request',
      headers: { 'content-type': 'application/json' },
    });
    const e = await errorFromResponse(res);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe('the query is empty: pass q=<words to search for>');
    expect(e.errorType).toBe('invalid_input');
    expect(e.status).toBe(400);
  });

  it('falls back to the status text for a non-JSON body', async () => {
    const res = new Response('<html><body>Bad gateway</body></html>', { status: 502, statusText: 'Bad Gateway' });
    const e = await errorFromResponse(res);
    expect(e.message).toBe('HTTP 502 Bad Gateway');
    expect(e.errorType).toBe('http_error');
  });

  it('knows common status texts when the response has none (HTTP/2)', () => {
    expect(errorFromBody(503, '', '').message).toBe('HTTP 503 Service Unavailable');
    expect(statusMessage(599, '')).toBe('HTTP 599');
  });

  it('ignores JSON without an error string', () => {
    expect(errorFromBody(500, 'Internal Server Error', '{"detail":"x"}').message).toBe('HTTP 500 Internal Server Error');
    expect(errorFromBody(500, '', '{"error":""}').message).toBe('HTTP 500 Internal Server Error');
    expect(errorFromBody(500, '', 'null').message).toBe('HTTP 500 Internal Server Error');
  });

  it('defaults the type when the body has only an error', () => {
    expect(errorFromBody(409, '', '{"error":"busy"}')).toMatchObject({ message: 'busy', errorType: 'error', status: 409 });
  });

  it('describes network failures and aborts', () => {
    expect(errorMessage(new TypeError('Failed to fetch'))).toBe(
      'Network error: the server could not be reached (Failed to fetch).',
    );
    expect(errorMessage(new DOMException('x', 'AbortError'))).toBe('The request was cancelled.');
    expect(errorMessage(new ApiError('nope', 404, 'not_found'))).toBe('nope');
    expect(errorMessage('plain')).toBe('plain');
  });
});
