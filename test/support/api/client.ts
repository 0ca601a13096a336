// The typed client: openapi-fetch over the types openapi-typescript generated from /openapi.json (schema.d.ts),
// so a test that calls a route wrongly does not compile. Like api() in ../http.ts, it checks every response
// against the contract of the operation it came from.
import createClient from 'openapi-fetch';
import { contractOf } from './contract.js';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** fetch, with every response checked against the contract (the body is read from a clone). */
function contractFetch(base: string): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const contract = await contractOf(base, url.pathname);
    const response = await fetch(request);
    const text = await response.clone().text();
    contract?.assert({
      method: request.method,
      path: url.pathname + url.search,
      status: response.status,
      contentType: response.headers.get('content-type'),
      text,
    });
    return response;
  };
}

export type ApiClient = ReturnType<typeof createClient<paths>>;

/** A typed client of the server at `base`, sending `token` (if any) as a bearer token. */
export function apiClient(base: string, token?: string): ApiClient {
  return createClient<paths>({ baseUrl: `${base}/api/v1`, fetch: contractFetch(base), headers: token ? { authorization: `Bearer ${token}` } : {} });
}
