/** One email as the mailer sends it: already rendered, already addressed. */
export interface OutgoingEmail {
  /** `"Name" <address>` is built by the adapter from these. */
  readonly from: { readonly address: string; readonly name: string };
  readonly to: readonly string[];
  readonly bcc: readonly string[];
  readonly replyTo?: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Message tags (SES) for bounce and complaint events to name the session and kind. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Sends rendered email (SES v2 in AWS and against aws-ses-v2-local locally). */
export interface Mailer {
  /** Sends once; answers the provider's message id. Throws `TransientError` for throttling and outages, `PermanentError` for a refused message. */
  send(email: OutgoingEmail): Promise<{ readonly messageId: string }>;
}
