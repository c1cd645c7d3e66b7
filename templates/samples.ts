/**
 * Writes one rendered sample of every email kind and link-page tone to
 * reports/email-samples/, to look at in a browser or paste into a mail
 * client test. Run: `npx tsx templates/samples.ts`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { ResolvedBranding } from '../functions/core/model/branding.js';
import { NIGHTSHIFT_BRANDING } from '../functions/core/model/branding.js';
import type { EmailActionLine, EmailKind, EmailView } from '../functions/core/notifications/emails.js';
import { EMAIL_KINDS, actionOutcome, actionTitle, formatInstant } from '../functions/core/notifications/emails.js';
import type { LinkPageTone, LinkPageView } from '../functions/core/notifications/links.js';
import { LINK_WORDS } from '../functions/core/notifications/links.js';
import { renderEmail, renderLinkPage } from './render.js';

const OUT_DIR = new URL('../reports/email-samples/', import.meta.url);

const branding: ResolvedBranding = {
  ...NIGHTSHIFT_BRANDING,
  companyName: 'Northwind IT',
  logoAltText: 'Northwind IT',
  mascotImageUri: 'https://nightshift.example.com/mascot.png',
  mascotName: 'Nora, your maintenance owl',
  supportEmail: 'help@northwind.example',
};

const computerName = 'ACCT-LAPTOP-07';
const when = formatInstant('2025-03-03T21:00:00Z', branding, 'Europe/Berlin');
const footer = `This message was sent by ${branding.companyName} because this computer is maintained by them. Questions? Write to ${branding.supportEmail ?? ''}.`;

const planned = [
  { type: 'Install', itemName: 'Mozilla Firefox', toVersion: '145.0.1', status: 'Complete', result: 'Success' },
  { type: 'Update', itemName: 'Zoom Workplace', fromVersion: '6.0.2', toVersion: '6.2.0', status: 'Complete', result: 'Failed' },
  { type: 'TaskEnforce', itemName: 'BitLocker on the system drive', status: 'Skipped', result: 'Pending' },
  { type: 'Reboot', itemName: 'Restart', status: 'Cancelled', result: 'Cancelled' },
] as const;

const lines = (withOutcome: boolean): EmailActionLine[] =>
  planned.map((action) => ({ title: actionTitle(action), ...(withOutcome ? actionOutcome(action) : {}) }));

const buttons = (['RunNow', 'Postpone', 'Cancel'] as const).map((purpose) => ({
  purpose,
  label: LINK_WORDS[purpose].button,
  url: `https://links.northwind.example/l/${purpose.toLowerCase()}.eyJzZXNzaW9uSWQiOiJzLTEifQ.c2lnbmF0dXJl`,
}));

const common = { branding, greeting: 'Hello Ann,', computerName, footer };

const views: Record<EmailKind, EmailView> = {
  Detection: {
    ...common,
    kind: 'Detection',
    subject: `Maintenance on ${computerName}: 4 change(s) on ${when}`,
    preheader: `Maintenance is planned for ${computerName} on ${when}.`,
    headline: 'Planned maintenance',
    paragraphs: [
      `Maintenance is planned for ${computerName} on ${when}. Please leave the computer on; save your work before then.`,
      'If the time does not suit you, you can postpone it by 60 minutes (3 time(s) left).',
    ],
    windowOpensAt: when,
    actions: lines(false),
    buttons,
    rebootNotice: 'The computer will restart during the maintenance. Save your work before it starts.',
  },
  FollowUp: {
    ...common,
    kind: 'FollowUp',
    subject: `Maintenance partly complete: ${computerName}`,
    preheader: `1 of 4 change(s) on ${computerName} are done.`,
    headline: 'Maintenance partly complete',
    paragraphs: [`1 of 4 change(s) on ${computerName} are done. Your IT team has been told about the rest and will follow up; there is nothing you need to do.`],
    actions: lines(true),
    buttons: [],
    rebootNotice: 'Please restart your computer when convenient to finish the maintenance.',
  },
  Postponed: {
    ...common,
    kind: 'Postponed',
    subject: `Maintenance postponed: ${computerName}`,
    preheader: `The maintenance of ${computerName} was postponed by Ann Smith to ${when}.`,
    headline: 'Maintenance postponed',
    paragraphs: [`The maintenance of ${computerName} was postponed by Ann Smith to ${when}.`],
    windowOpensAt: when,
    actions: lines(false),
    buttons,
  },
  Cancelled: {
    ...common,
    kind: 'Cancelled',
    subject: `Maintenance cancelled: ${computerName}`,
    preheader: `The maintenance of ${computerName} was cancelled by Ann Smith.`,
    headline: 'Maintenance cancelled',
    paragraphs: [`The maintenance of ${computerName} was cancelled by Ann Smith. Nothing will change on the computer this time.`],
    actions: [],
    buttons: [],
  },
};

const pages: Record<LinkPageTone, Omit<LinkPageView, 'branding' | 'tone' | 'actions'>> = {
  Confirm: {
    title: LINK_WORDS.Postpone.confirm,
    message: `The maintenance of ${computerName} will start 60 minutes later. You can postpone it 3 more time(s).`,
    computerName,
    windowOpensAt: when,
    form: { action: '/l/postpone.eyJzZXNzaW9uSWQiOiJzLTEifQ.c2lnbmF0dXJl', buttonLabel: LINK_WORDS.Postpone.button, csrfToken: 'c2FtcGxlLWNzcmY' },
  },
  Done: { title: LINK_WORDS.Postpone.done, message: `The maintenance of ${computerName} now starts on ${when}.`, computerName, windowOpensAt: when },
  AlreadyDone: { title: LINK_WORDS.Postpone.done, message: 'This link was already used; nothing more has changed.', computerName },
  Refused: { title: 'This cannot be done now', message: 'The maintenance has already started, so it can no longer be postponed.', computerName },
  Invalid: { title: 'This link does not work', message: 'It may have expired or been copied incompletely. Ask your IT team for help.' },
};

await mkdir(OUT_DIR, { recursive: true });
const sizes: string[] = [];
for (const kind of EMAIL_KINDS) {
  const email = await renderEmail(views[kind]);
  const name = `email-${kind.toLowerCase()}`;
  await writeFile(new URL(`${name}.html`, OUT_DIR), email.html);
  await writeFile(new URL(`${name}.txt`, OUT_DIR), `Subject: ${email.subject}\n\n${email.text}\n`);
  sizes.push(`${name}.html\t${Buffer.byteLength(email.html)} bytes\ttext ${Buffer.byteLength(email.text)} bytes`);
}
for (const tone of Object.keys(pages) as LinkPageTone[]) {
  const html = await renderLinkPage({ ...pages[tone], branding, tone, actions: tone === 'Confirm' || tone === 'Done' ? lines(false) : [] });
  const name = `link-page-${tone.toLowerCase()}`;
  await writeFile(new URL(`${name}.html`, OUT_DIR), html);
  sizes.push(`${name}.html\t${Buffer.byteLength(html)} bytes`);
}
process.stdout.write(`${sizes.join('\n')}\nwritten to ${OUT_DIR.pathname}\n`);
