import { NotFoundError, ValidationError } from '../errors.js';
import { fieldChanges } from '../model/audit.js';
import {
  brandingAsSaved,
  brandingInputSchema,
  contrastProblems,
  dayIn,
  DEFAULT_BRANDING_ID,
  type Branding,
  type BrandingInput,
  type BrandingOwner,
  type ResolvedBranding,
} from '../model/branding.js';
import { newStages, type Action, type Requester, type Session } from '../model/session.js';
import { confirmationEmail, detectionEmail, followUpEmail, type EmailContext, type EmailKind } from '../notifications/emails.js';
import type { RenderedEmail } from '../ports/renderer.port.js';
import { parseInput } from '../validation.js';
import type { Dependencies } from './dependencies.js';
import { brandingFor, tenantChain } from './session-emails.js';

/**
 * The MSP's branding and each tenant's override: saved with a contrast check
 * (WCAG AA for every text colour the templates draw) and an audit entry,
 * previewed with any template on a sample or real session, and sent as a test.
 */

type BrandingDeps = Pick<Dependencies, 'branding' | 'catalog' | 'audit' | 'clock'>;

const ownerId = (owner: BrandingOwner, id: string): string => (owner.kind === 'Msp' ? `msp/${id}` : `tenant/${owner.tenantId}/${id}`);

async function requireOwner(deps: Pick<Dependencies, 'catalog'>, owner: BrandingOwner): Promise<void> {
  if (owner.kind === 'Tenant' && !(await deps.catalog.getTenant(owner.tenantId))) throw new NotFoundError('tenant', owner.tenantId);
}

export async function listBrandings(deps: BrandingDeps, owner: BrandingOwner): Promise<Branding[]> {
  await requireOwner(deps, owner);
  return deps.branding.list(owner);
}

export interface SaveBrandingCommand {
  readonly owner: BrandingOwner;
  /** `default`, or a seasonal branding's name. */
  readonly id: string;
  readonly branding: unknown;
  /** 0 to create. */
  readonly expectedVersion: number;
  readonly by: Requester;
}

/**
 * Saves a branding whole. Refused with the field named: a schema problem, a
 * seasonal branding without a date range (or a default with one), or a text
 * colour below WCAG AA against what it is drawn on, counting the fields it
 * inherits from the MSP's branding.
 */
export async function saveBranding(deps: BrandingDeps, command: SaveBrandingCommand): Promise<Branding> {
  const input: BrandingInput = parseInput(brandingInputSchema, command.branding, 'branding');
  if (command.id === DEFAULT_BRANDING_ID && input.dateRange) {
    throw new ValidationError('branding', [{ field: 'dateRange', problem: 'the default branding applies all year; save a seasonal one under its own id' }]);
  }
  if (command.id !== DEFAULT_BRANDING_ID && !input.dateRange) {
    throw new ValidationError('branding', [{ field: 'dateRange', problem: `is required for a seasonal branding (any id but "${DEFAULT_BRANDING_ID}")` }]);
  }
  await requireOwner(deps, command.owner);
  const now = deps.clock.now();
  const msp = await deps.branding.list({ kind: 'Msp' });
  const parents = command.owner.kind === 'Tenant' ? (await tenantChain(deps, command.owner.tenantId)).slice(0, -1) : [];
  const parentBrandings = await Promise.all(parents.map((tenant) => deps.branding.list({ kind: 'Tenant', tenantId: tenant.id })));
  const own = command.owner.kind === 'Msp' ? msp : await deps.branding.list(command.owner);
  const drawn = brandingAsSaved(input, command.id, command.owner, msp, dayIn(now, 'UTC'), parentBrandings, own);
  const problems = contrastProblems(drawn, input);
  if (problems.length > 0) throw new ValidationError('branding', problems);

  const before = await deps.branding.get(command.owner, command.id);
  const saved: Branding = { ...input, owner: command.owner, id: command.id, version: command.expectedVersion + 1, updatedAt: now.toISOString() };
  await deps.branding.put(saved, command.expectedVersion);
  await deps.audit.record({
    resource: 'Branding',
    resourceId: ownerId(command.owner, command.id),
    ...(command.owner.kind === 'Tenant' ? { tenantId: command.owner.tenantId } : {}),
    version: saved.version,
    at: saved.updatedAt,
    by: command.by,
    action: before ? 'Updated' : 'Created',
    changes: fieldChanges(before, saved, ['version', 'updatedAt', 'owner', 'id']),
  });
  return saved;
}

export async function deleteBranding(deps: BrandingDeps, command: { owner: BrandingOwner; id: string; expectedVersion: number; by: Requester }): Promise<void> {
  const before = await deps.branding.get(command.owner, command.id);
  if (!before) throw new NotFoundError('branding', command.id);
  await deps.branding.delete(command.owner, command.id, command.expectedVersion);
  await deps.audit.record({
    resource: 'Branding',
    resourceId: ownerId(command.owner, command.id),
    ...(command.owner.kind === 'Tenant' ? { tenantId: command.owner.tenantId } : {}),
    version: command.expectedVersion + 1,
    at: deps.clock.now().toISOString(),
    by: command.by,
    action: 'Deleted',
    changes: fieldChanges(before, undefined, ['version', 'updatedAt', 'owner', 'id']),
  });
}

/** A session and plan that look like a real evening's maintenance, for previews. */
export function sampleSession(now: Date, tenantId: string): { session: Session; actions: Action[] } {
  const at = now.toISOString();
  const executeAt = new Date(now.getTime() + 6 * 3_600_000).toISOString();
  const session: Session = {
    id: 'ses-sample',
    computerId: 'sample-laptop',
    computerName: "Alex Morgan's laptop",
    agentId: 'i-0123456789abcdef0',
    platform: 'windows',
    tenantId,
    status: 'Passed',
    version: 1,
    createdAt: at,
    updatedAt: at,
    stages: newStages(),
    items: [],
    options: {
      mode: 'Full',
      executeAt,
      reboot: 'IfNecessary',
      offline: 'ApplyOnConnect',
      postpone: { delayMinutes: 60, maxCount: 2 },
      notify: {
        detectionEmail: true,
        detectionEmailWhenCompliant: false,
        followUpEmail: true,
        followUpOnlyIfActionNeeded: true,
        showRunNowButton: true,
        showPostponeButton: true,
        showCancelButton: true,
        showActionList: true,
        additionalRecipients: [],
      },
    },
    executeAt,
    postponements: [],
    rebootPending: true,
  };
  const action = (actionId: string, itemName: string, type: Action['type'], result: Action['result'], versions: Pick<Action, 'fromVersion' | 'toVersion'> = {}): Action => ({
    sessionId: session.id,
    actionId,
    itemKey: `software:${itemName.toLowerCase().replaceAll(' ', '-')}`,
    itemId: itemName.toLowerCase().replaceAll(' ', '-'),
    itemName,
    type,
    reason: 'UpdateAvailable',
    dependsOn: [],
    critical: true,
    status: 'Complete',
    result,
    ...versions,
  });
  return {
    session,
    actions: [
      action('001', 'Mozilla Firefox', 'Update', 'Success', { fromVersion: '128.0.3', toVersion: '145.0.1' }),
      action('002', '7-Zip', 'Install', 'Success', { toVersion: '23.01' }),
      action('003', 'Zoom Workplace', 'Update', 'Failed', { fromVersion: '6.0.2', toVersion: '6.2.0' }),
    ],
  };
}

export interface PreviewRequest {
  readonly kind: EmailKind;
  /** The tenant whose branding to show; absent: the MSP's. */
  readonly tenantId?: string;
  /** A real session to show; absent: a sample one. */
  readonly sessionId?: string;
}

/** Renders the template with the tenant's branding as the end user would get it today. */
export async function previewEmail(deps: Pick<Dependencies, 'sessions' | 'catalog' | 'branding' | 'renderer' | 'notifySettings' | 'clock'>, request: PreviewRequest): Promise<RenderedEmail & { readonly branding: ResolvedBranding }> {
  const now = deps.clock.now();
  let session: Session;
  let actions: Action[];
  if (request.sessionId !== undefined) {
    const real = await deps.sessions.getSession(request.sessionId);
    if (!real || (request.tenantId !== undefined && real.tenantId !== request.tenantId)) throw new NotFoundError('session', request.sessionId);
    session = real;
    actions = await deps.sessions.getActions(real.id);
  } else {
    if (request.tenantId !== undefined && !(await deps.catalog.getTenant(request.tenantId))) throw new NotFoundError('tenant', request.tenantId);
    ({ session, actions } = sampleSession(now, request.tenantId ?? 'msp'));
  }
  const computer = request.sessionId === undefined ? undefined : await deps.catalog.getComputer(session.computerId);
  const timeZone = computer?.timeZone ?? 'UTC';
  const branding = await brandingFor(deps, request.sessionId === undefined ? request.tenantId : session.tenantId, now, timeZone);
  // preview buttons go nowhere: a preview must never carry a working link
  const inert = `${deps.notifySettings.linkBaseUrl || 'https://example.invalid'}/l/preview`;
  const context: EmailContext = {
    session,
    actions,
    branding,
    recipientName: computer?.primaryUser?.name ?? 'Alex Morgan',
    timeZone,
    links: { RunNow: inert, Postpone: inert, Cancel: inert },
    now: now.toISOString(),
  };
  const view =
    request.kind === 'Detection'
      ? detectionEmail(context)
      : request.kind === 'FollowUp'
        ? followUpEmail(context)
        : confirmationEmail(request.kind, { ...context, session: request.kind === 'Cancelled' ? { ...session, status: 'Cancelled' } : session }, 'you');
  return { ...(await deps.renderer.renderEmail(view)), branding };
}

/** Sends the preview to one address, marked as a test, so the MSP sees it in a real inbox. */
export async function sendTestEmail(
  deps: Pick<Dependencies, 'sessions' | 'catalog' | 'branding' | 'renderer' | 'notifySettings' | 'clock' | 'mailer' | 'metrics'>,
  request: PreviewRequest & { readonly to: string },
): Promise<{ messageId: string }> {
  const preview = await previewEmail(deps, request);
  const sent = await deps.mailer.send({
    from: { address: preview.branding.fromAddress, name: preview.branding.fromName },
    to: [request.to],
    bcc: [],
    subject: `[Test] ${preview.subject}`,
    html: preview.html,
    text: preview.text,
    tags: { kind: `Test${request.kind}` },
  });
  deps.metrics.count('EmailsSent', 1);
  return sent;
}
