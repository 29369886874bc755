/**
 * Cross-origin isolation added by the service worker: COOP same-origin and COEP require-corp on
 * the responses it serves (documents and the scripts/workers they start), and CORP cross-origin
 * so that every response it serves may be embedded by the isolated page. Redirected, opaque and
 * error responses are returned unchanged (their headers cannot or need not be rewritten).
 */
export const COI_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export function coiHeaders(response: Response): Response {
  if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') {
    return response;
  }
  const headers = new Headers(response.headers);
  let changed = false;
  for (const [name, value] of Object.entries(COI_HEADERS)) {
    if (headers.get(name) !== value) {
      headers.set(name, value);
      changed = true;
    }
  }
  if (!changed) return response;
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
