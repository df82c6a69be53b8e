/**
 * Turning failed requests into messages people can read. The server answers errors as
 * `{"error": "...", "error_type": "..."}`; anything else (a proxy's HTML page, an empty body)
 * is described by its HTTP status.
 */

export class ApiError extends Error {
  readonly status: number;
  /** The server's `error_type`, or `http_error` / `network_error` when there was none. */
  readonly errorType: string;

  constructor(message: string, status: number, errorType: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.errorType = errorType;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** "HTTP 502 Bad Gateway" from a status and (possibly empty, under HTTP/2) status text. */
export function statusMessage(status: number, statusText = ''): string {
  const text = statusText.trim() || STATUS_TEXT[status] || '';
  return text ? `HTTP ${status} ${text}` : `HTTP ${status}`;
}

/** The error in a response body, if it is the server's JSON error shape. */
export function parseErrorBody(body: string): { error: string; errorType: string } | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const { error, error_type } = parsed as { error?: unknown; error_type?: unknown };
      if (typeof error === 'string' && error.trim()) {
        return { error, errorType: typeof error_type === 'string' ? error_type : 'error' };
      }
    }
  } catch {
    // Not JSON.
  }
  return null;
}

/** An [`ApiError`] from a failed response's status and body text. */
export function errorFromBody(status: number, statusText: string, body: string): ApiError {
  const parsed = parseErrorBody(body);
  if (parsed) return new ApiError(parsed.error, status, parsed.errorType);
  return new ApiError(statusMessage(status, statusText), status, 'http_error');
}

/** Read a failed `Response` into an [`ApiError`]. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body = '';
  try {
    body = await res.text();
  } catch {
    // The body could not be read; the status still says something.
  }
  return errorFromBody(res.status, res.statusText, body);
}

/** A message for anything thrown by a request: API errors, network failures, aborts. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof DOMException && e.name === 'AbortError') return 'The request was cancelled.';
  if (e instanceof TypeError) {
    // fetch rejects with a TypeError when the server cannot be reached at all.
    return `Network error: the server could not be reached (${e.message}).`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

export function networkError(detail: string): ApiError {
  return new ApiError(`Network error: the server could not be reached (${detail}).`, 0, 'network_error');
}
