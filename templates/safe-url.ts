/**
 * The last check before a URL becomes an attribute. The core's schemas already
 * refuse anything but https images and the server signs every link, but a
 * template must not be the place where a stored `javascript:` or `data:` URL
 * turns into a click: anything that fails here is left out, never drawn.
 */

/** Resolves path-only URLs; a result on another origin was not a path. */
const PATH_BASE = new URL('https://path.invalid');

function absolute(value: string): URL | undefined {
  return URL.canParse(value) ? new URL(value) : undefined;
}

/** `https://user:pass@…` reads as one host and goes to another: never drawn. */
const hasCredentials = (url: URL): boolean => url.username !== '' || url.password !== '';

/** An image the reader's client fetches: https only, as the branding schema says. */
export function safeImageUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = absolute(value.trim());
  return url && url.protocol === 'https:' && !hasCredentials(url) ? url.href : undefined;
}

/**
 * Where a button or a form goes: https, http (the local runtime serves plain
 * http) or a path on the page's own site. The URL returned is the parsed one,
 * so what the browser follows is what was checked.
 */
export function safeLinkUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const url = absolute(trimmed);
  if (url) return (url.protocol === 'https:' || url.protocol === 'http:') && !hasCredentials(url) ? url.href : undefined;
  // `//host` and `/\host` are other sites to a browser, so a path must stay on the base origin
  if (!trimmed.startsWith('/') || !URL.canParse(trimmed, PATH_BASE.href)) return undefined;
  const resolved = new URL(trimmed, PATH_BASE);
  return resolved.origin === PATH_BASE.origin ? `${resolved.pathname}${resolved.search}${resolved.hash}` : undefined;
}
