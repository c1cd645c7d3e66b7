import {
  AccountSuspendedException,
  BadRequestException,
  LimitExceededException,
  InternalServiceErrorException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendEmailCommand,
  SendingPausedException,
  SESv2Client,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSesClient } from '../../functions/adapters/aws-clients.js';
import { createSesMailer, emailTags, fromHeader } from '../../functions/adapters/mailer.sesv2.js';
import { ConfigurationError, TransientError, ValidationError } from '../../functions/core/errors.js';
import type { OutgoingEmail } from '../../functions/core/ports/mailer.port.js';
import { startMailbox, type LocalMailbox } from '../../local/mailbox.js';

const email = (overrides: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  from: { address: 'it@contoso-dental.example', name: 'Contoso Dental IT' },
  to: ['dana@contoso-dental.example'],
  bcc: [],
  subject: 'Maintenance tonight',
  html: '<p>Maintenance tonight</p>',
  text: 'Maintenance tonight',
  tags: {},
  ...overrides,
});

/** Decodes a header's RFC 2047 B-encoded words back to text (what a mail client shows). */
const decodeWords = (header: string): string =>
  header.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=(?:\s+(?==\?))?/g, (_, base64: string) => Buffer.from(base64, 'base64').toString('utf8'));

describe('the SES v2 mailer against aws-ses-v2-local (the local twin, over HTTP)', () => {
  let mailbox: LocalMailbox;
  let client: SESv2Client;
  beforeAll(async () => {
    mailbox = await startMailbox();
    client = createSesClient({ endpoint: mailbox.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });
  afterAll(async () => {
    client.destroy();
    await mailbox.close();
  });

  it('delivers to, bcc, reply-to, a UTF-8 subject and both bodies exactly, with a hostile display name quoted so it stays one name', async () => {
    const mailer = createSesMailer(client, { configurationSetName: 'nightshift-mail' });
    const sent = await mailer.send(
      email({
        from: { address: 'it@contoso-dental.example', name: 'Contoso "IT", Dental <admin@evil.example>\r\nBcc: victim@evil.example' },
        to: ['dana@contoso-dental.example', 'lee@contoso-dental.example'],
        bcc: ['audit@msp.example'],
        replyTo: 'helpdesk@msp.example',
        subject: 'Wartung heute Nacht: Zoom 6.1 → 6.2 für Dänas PC ✓',
        html: '<p>Wartung <b>heute</b> — 22:00</p>',
        text: 'Wartung heute — 22:00',
        tags: { session: 'ses_123', kind: 'Detection' },
      }),
    );
    const [stored] = (await mailbox.messages()).filter((m) => m.messageId === sent.messageId);
    expect(stored).toBeDefined();
    // quotes and backslashes escaped inside one quoted-string; the CR LF cannot start a header of its own
    expect(stored?.from).toBe('"Contoso \\"IT\\", Dental <admin@evil.example> Bcc: victim@evil.example" <it@contoso-dental.example>');
    expect(stored?.destination).toEqual({ to: ['dana@contoso-dental.example', 'lee@contoso-dental.example'], cc: [], bcc: ['audit@msp.example'] });
    expect(stored?.replyTo).toEqual(['helpdesk@msp.example']);
    expect(stored?.subject).toBe('Wartung heute Nacht: Zoom 6.1 → 6.2 für Dänas PC ✓');
    expect(stored?.body).toEqual({ html: '<p>Wartung <b>heute</b> — 22:00</p>', text: 'Wartung heute — 22:00' });
  });

  it('encodes a non-ASCII display name as RFC 2047 words that decode back to it, each word at most 75 characters', async () => {
    const name = 'Zahnarztpraxis Müller & Söhne — IT-Abteilung für Wartung 🦷 日本語の名前';
    const sent = await createSesMailer(client, {}).send(email({ from: { address: 'it@contoso-dental.example', name } }));
    const stored = (await mailbox.messages()).find((m) => m.messageId === sent.messageId);
    const header = stored?.from ?? '';
    expect(header).toMatch(/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= )+<it@contoso-dental\.example>$/);
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    for (const word of header.split(' ').slice(0, -1)) expect(word.length).toBeLessThanOrEqual(75);
    expect(decodeWords(header)).toBe(`${name} <it@contoso-dental.example>`);
  });

  it('frees its port on close, every time (the runtime and the tests start and stop it many times)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const box = await startMailbox();
      const roundClient = createSesClient({ endpoint: box.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await createSesMailer(roundClient, {}).send(email({ subject: `round ${round}` }));
      // each mailbox holds its own mail only, even with another one open in the same process
      expect((await box.messages()).map((m) => m.subject)).toEqual([`round ${round}`]);
      await box.close();
      await expect(startMailbox({ port: Number(new URL(box.endpoint).port) }).then((again) => again.close())).resolves.toBeUndefined();
      roundClient.destroy();
    }
  });

  it('refuses a port that is taken, naming it', async () => {
    const port = Number(new URL(mailbox.endpoint).port);
    await expect(startMailbox({ port })).rejects.toThrow(`could not listen on 127.0.0.1:${port}`);
  });
});

describe('what the mailer puts in the request', () => {
  it('keeps message tags within SES alphabet and length, and drops the ones left empty', () => {
    expect(emailTags({ session: 'ses_01H:x/y', kind: 'Follow-up', 'tenant id': 't 1', '': 'x', empty: '', long: 'a'.repeat(300) })).toEqual([
      { Name: 'session', Value: 'ses_01H_x_y' },
      { Name: 'kind', Value: 'Follow-up' },
      { Name: 'tenant_id', Value: 't_1' },
      { Name: 'long', Value: 'a'.repeat(256) },
    ]);
  });

  it('writes the address alone for an empty name, punycode for an international domain, and refuses an address that could break the header', () => {
    expect(fromHeader({ address: 'it@msp.example', name: '  ' })).toBe('it@msp.example');
    expect(fromHeader({ address: 'it@zahnärzte.example', name: 'IT' })).toBe('"IT" <it@xn--zahnrzte-3za.example>');
    // text that reads like an encoded word is encoded itself, so no client decodes it into something else
    expect(decodeWords(fromHeader({ address: 'it@msp.example', name: '=?UTF-8?B?QWRtaW4=?=' }))).toBe('=?UTF-8?B?QWRtaW4=?= <it@msp.example>');
    expect(() => fromHeader({ address: 'it@msp.example>\r\nBcc: x@evil.example', name: 'IT' })).toThrow(ValidationError);
    expect(() => fromHeader({ address: 'not an address', name: 'IT' })).toThrow(/from.address/);
  });
});

describe('the SES errors the local twin cannot produce (SDK mocked)', () => {
  const client = new SESv2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const ses = mockClient(client);
  const mailer = createSesMailer(client, { configurationSetName: 'nightshift-mail' });
  const $metadata = { httpStatusCode: 400 };

  it('sends the configuration set, the tags and UTF-8 charsets in one SendEmail', async () => {
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await expect(mailer.send(email({ tags: { kind: 'Detection' } }))).resolves.toEqual({ messageId: 'm-1' });
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      ConfigurationSetName: 'nightshift-mail',
      EmailTags: [{ Name: 'kind', Value: 'Detection' }],
      Content: { Simple: { Subject: { Data: 'Maintenance tonight', Charset: 'UTF-8' }, Body: { Html: { Data: '<p>Maintenance tonight</p>', Charset: 'UTF-8' }, Text: { Data: 'Maintenance tonight', Charset: 'UTF-8' } } } },
    });
  });

  it('answers throttling and SES outages with TransientError (retried by the workflow)', async () => {
    ses.reset();
    ses
      .on(SendEmailCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } }))
      .rejectsOnce(new InternalServiceErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } }));
    await expect(mailer.send(email())).rejects.toBeInstanceOf(TransientError);
    await expect(mailer.send(email())).rejects.toBeInstanceOf(TransientError);
  });

  it('answers a sending quota reached with TransientError (it frees up with time), and a request SES finds invalid with ValidationError', async () => {
    ses.reset();
    ses
      .on(SendEmailCommand)
      .rejectsOnce(new LimitExceededException({ message: 'Daily message quota exceeded.', $metadata }))
      .rejectsOnce(new BadRequestException({ message: 'Missing final @domain', $metadata }));
    await expect(mailer.send(email())).rejects.toThrow(TransientError);
    await expect(mailer.send(email())).rejects.toThrow(/invalid email: SES refused the request: Missing final @domain/);
  });

  const refusals: [Error, RegExp][] = [
    [new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region EU-WEST-1: dana@contoso-dental.example', $metadata }), /not verified.*SES sandbox.*request production access/],
    [new MailFromDomainNotVerifiedException({ message: 'MAIL FROM domain not verified', $metadata }), /MAIL FROM domain.*MX and SPF/],
    [new AccountSuspendedException({ message: 'Account suspended', $metadata }), /stopped this AWS account from sending/],
    [new SendingPausedException({ message: 'Sending paused for this configuration set', $metadata }), /paused for the configuration set nightshift-mail/],
    [new NotFoundException({ message: 'Configuration set <nightshift-mail> does not exist.', $metadata: { httpStatusCode: 404 } }), /configuration set nightshift-mail.*MAIL_CONFIGURATION_SET/],
  ];
  it.each(refusals.map(([error, message]) => [error.name, error, message] as const))('answers %s with a ConfigurationError an MSP engineer can act on, keeping the cause', async (_, error, message) => {
    ses.reset();
    ses.on(SendEmailCommand).rejects(error);
    const thrown: unknown = await mailer.send(email()).catch((caught: unknown) => caught);
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).message).toMatch(message);
    expect((thrown as ConfigurationError).cause).toBe(error);
  });
});
