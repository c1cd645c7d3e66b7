import { domainToASCII } from 'node:url';
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { ConfigurationError, TransientError, ValidationError } from '../core/errors.js';
import type { Mailer, OutgoingEmail } from '../core/ports/mailer.port.js';
import { errorName, translateAwsError } from './aws-errors.js';

export interface SesMailerSettings {
  /**
   * The configuration set every message is sent with (suppression list,
   * reputation metrics, bounce and complaint events).
   * @default none: the identity's default configuration set, if it has one
   */
  readonly configurationSetName?: string;
}

/** SES's limit and alphabet for a message tag's name and value. */
const TAG_MAX_LENGTH = 256;
const TAG_OUTSIDE_ALPHABET = /[^A-Za-z0-9_-]/g;
/**
 * An RFC 2047 encoded-word is at most 75 characters: `=?UTF-8?B?` and `?=`
 * leave 63 for base64, so 45 bytes of UTF-8 (60 characters) per word.
 */
const ENCODED_WORD_BYTES = 45;
/** Printable ASCII: a display name that needs only a quoted-string. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** A plain `local@domain` with nothing that could end the angle brackets or the header. */
const PLAIN_ADDRESS = /^[^\s<>"(),;:\\[\]@]+@[^\s<>"(),;:\\[\]@]+$/u;

/** `local@domain` with an internationalised domain in punycode, as SES requires. */
function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const ascii = domainToASCII(address.slice(at + 1));
  // an invalid domain is left as it is, for SES to refuse by name
  return ascii === '' ? address : `${address.slice(0, at + 1)}${ascii}`;
}

/** RFC 2047 B-encoded words, each a whole number of characters and at most 75 long. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const character of text) {
    if (Buffer.byteLength(chunk + character, 'utf8') > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += character;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(' ');
}

/**
 * The `From` value `"Name" <address>` (RFC 5322): a printable ASCII name as a
 * quoted-string with `"` and `\` escaped; any other name (non-ASCII, or
 * text that reads like an encoded-word) as RFC 2047 encoded-words, which is
 * what SES asks for a non-ASCII friendly name. Control characters (a CR or
 * LF could start a header of its own) become spaces.
 */
export function fromHeader(from: OutgoingEmail['from']): string {
  if (!PLAIN_ADDRESS.test(from.address)) {
    throw new ValidationError('email', [{ field: 'from.address', problem: `"${from.address}" is not a plain address (local@domain, no spaces or brackets)` }]);
  }
  const address = asciiAddress(from.address);
  const name = from.name.replace(/\p{Cc}/gu, ' ').replace(/\s+/g, ' ').trim();
  if (name === '') return address;
  if (PRINTABLE_ASCII.test(name) && !name.includes('=?')) return `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`;
  return `${encodedWords(name)} <${address}>`;
}

/** SES message tags: both parts in SES's alphabet (others become `_`), at most 256 characters; an empty part drops the tag. */
export function emailTags(tags: OutgoingEmail['tags']): { Name: string; Value: string }[] {
  const sanitized = new Map<string, string>();
  for (const [name, value] of Object.entries(tags)) {
    const tagName = name.replace(TAG_OUTSIDE_ALPHABET, '_').slice(0, TAG_MAX_LENGTH);
    const tagValue = value.replace(TAG_OUTSIDE_ALPHABET, '_').slice(0, TAG_MAX_LENGTH);
    if (tagName !== '' && tagValue !== '') sanitized.set(tagName, tagValue);
  }
  return [...sanitized].map(([Name, Value]) => ({ Name, Value }));
}

const sdkMessage = (error: unknown): string => (error instanceof Error && error.message !== '' ? error.message : errorName(error));

/**
 * SES refusals no retry can fix, each with what an MSP engineer can do about
 * it. The same message sent again would be refused again: they fail the
 * email (and say why), they are never retried.
 */
const REFUSALS: Readonly<Record<string, (from: string, configurationSet: string, detail: string) => string>> = {
  MessageRejected: (from, _set, detail) =>
    `SES rejected the message from ${from}: ${detail}. While the account is in the SES sandbox, every recipient must be a verified identity too: request production access for this Region, or verify the recipient.`,
  MailFromDomainNotVerifiedException: (from, _set, detail) =>
    `SES will not send from ${from}: the custom MAIL FROM domain of its identity is not verified (${detail}); publish its MX and SPF records, or set the identity to use the default MAIL FROM domain when the MX record is missing.`,
  AccountSuspendedException: (_from, _set, detail) =>
    `SES has stopped this AWS account from sending email in this Region (${detail}); the Reputation metrics page of the SES console says why, and AWS Support can lift it once the cause is fixed.`,
  SendingPausedException: (_from, set, detail) =>
    `Sending is paused for the configuration set ${set} or for the whole account in this Region (${detail}); find out why (bounce or complaint rates), then resume it in the SES console.`,
  NotFoundException: (from, set, detail) =>
    `SES does not know the configuration set ${set} or an identity for ${from} (${detail}); deploy the stack's mail settings (MAIL_CONFIGURATION_SET names the set) or send from an address of the stack's mailFromIdentity.`,
  AccessDeniedException: (from, _set, detail) =>
    `This function may not send from ${from} (${detail}); its role may send only from the stack's mailFromIdentity with its configuration set: send from an address of that identity, or deploy the stack with the identity the MSP sends from.`,
};

/**
 * The mailer over SES v2 `SendEmail` (simple content: subject, HTML and text,
 * all UTF-8). The same adapter sends to aws-ses-v2-local in the embedded
 * runtime.
 *
 * Throttling and SES outages become `TransientError` (retried); a quota
 * reached does too, as it frees up with time. A refusal becomes a
 * `ConfigurationError` that names the cause and the fix, a request SES
 * finds invalid a `ValidationError`.
 */
export function createSesMailer(client: SESv2Client, settings: SesMailerSettings): Mailer {
  return {
    async send(email: OutgoingEmail): Promise<{ readonly messageId: string }> {
      const from = fromHeader(email.from);
      const utf8 = (data: string) => ({ Data: data, Charset: 'UTF-8' });
      try {
        const response = await client.send(
          new SendEmailCommand({
            FromEmailAddress: from,
            Destination: { ToAddresses: email.to.map(asciiAddress), BccAddresses: email.bcc.map(asciiAddress) },
            ...(email.replyTo === undefined ? {} : { ReplyToAddresses: [asciiAddress(email.replyTo)] }),
            Content: { Simple: { Subject: utf8(email.subject), Body: { Html: utf8(email.html), Text: utf8(email.text) } } },
            EmailTags: emailTags(email.tags),
            ...(settings.configurationSetName === undefined ? {} : { ConfigurationSetName: settings.configurationSetName }),
          }),
        );
        // SES always answers an id; the email is sent either way, so a missing one must not fail (and resend) it
        return { messageId: response.MessageId ?? 'unknown' };
      } catch (error) {
        throw mailError(error, email.from.address, settings.configurationSetName ?? '(none)');
      }
    },
  };
}

function mailError(error: unknown, from: string, configurationSet: string): unknown {
  const doing = `sending email from ${from}`;
  const translated = translateAwsError(error, doing);
  if (translated instanceof TransientError) return translated;
  const name = errorName(error);
  if (name === 'LimitExceededException') {
    return new TransientError(`${doing} failed: the account reached an SES sending quota (${sdkMessage(error)}); it frees up with time, or raise it in the SES console`, { cause: error });
  }
  const refusal = REFUSALS[name];
  if (refusal !== undefined) return new ConfigurationError(refusal(from, configurationSet, sdkMessage(error)), { cause: error });
  if (name === 'BadRequestException') return new ValidationError('email', [{ field: '', problem: `SES refused the request: ${sdkMessage(error)}` }], { cause: error });
  return error;
}
