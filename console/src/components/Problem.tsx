import { ApiError } from '../api/client.js';

/** What went wrong, in the API's words (its message names the field), as an alert a screen reader announces. */
export function Problem({ error, title = 'Something went wrong' }: { readonly error: unknown; readonly title?: string }) {
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : 'unknown error';
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div role="alert" className="problem">
      <strong>{title}:</strong> {message}
      {code === undefined ? null : <span className="problem-code"> ({code})</span>}
    </div>
  );
}
