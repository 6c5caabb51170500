// How URLs appear in logs and messages, apart from the HTTP code so that logging one does not load
// node:http.

/** A URL for logs and messages: no user:password, no query (presigned URLs carry signatures), no fragment. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}
