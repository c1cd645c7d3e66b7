import { NotFoundError, ValidationError } from '../errors.js';
import { fieldChanges } from '../model/audit.js';
import {
  brandingAsSaved,
  brandingInputSchema,
  contrastProblems,
  dayIn,
  DEFAULT_BRANDING_ID,
  resolveBranding,
  type Branding,
  type BrandingInput,
  type BrandingOwner,
  type ContrastProblem,
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
  /**
   * An unsaved branding of the owner `tenantId` names (absent: the MSP),
   * drawn in place of its stored one: its default, or, with a date range, a
   * seasonal one on its first day. What an editor shows before saving.
   */
  readonly draft?: unknown;
}

export interface BrandingPreview extends RenderedEmail {
  /** What the email was drawn with. */
  readonly branding: ResolvedBranding;
  /**
   * What the owner's fields fall back to where it sets nothing: Nightshift's
   * plain look under the MSP's branding and any parent tenants' (and, for a
   * seasonal draft, under the owner's own default).
   */
  readonly inherited: ResolvedBranding;
  /** The draft's text colours below WCAG AA, each named as a save would name it; a save of the draft would be refused with them. */
  readonly problems: readonly ContrastProblem[];
}

type PreviewDeps = Pick<Dependencies, 'sessions' | 'catalog' | 'branding' | 'renderer' | 'notifySettings' | 'clock'>;

/** Where a draft is drawn: the id a save of it would take the place of, by the rule a save applies (a date range makes it seasonal). */
const DRAFT_SEASON_ID = 'draft-season';
const draftId = (draft: BrandingInput): string => (draft.dateRange ? DRAFT_SEASON_ID : DEFAULT_BRANDING_ID);

/** The owner's brandings with the draft in place of the stored one it would replace: a seasonal draft sits on the stored default. */
function withDraft(stored: readonly Branding[], owner: BrandingOwner, draft: BrandingInput): Branding[] {
  const drafted: Branding = { ...draft, owner, id: draftId(draft), version: 0, updatedAt: '' };
  return draft.dateRange ? [...stored.filter((branding) => branding.id === DEFAULT_BRANDING_ID), drafted] : [drafted];
}

const sameOwner = (a: BrandingOwner, b: BrandingOwner): boolean => (a.kind === 'Msp' ? b.kind === 'Msp' : b.kind === 'Tenant' && a.tenantId === b.tenantId);

/**
 * The branding a tenant's end users (or the MSP's, for `undefined`) would
 * see with `draft` saved for `owner`, on the draft's first seasonal day or
 * on the day `now` falls on in `timeZone`.
 */
async function brandingWithDraft(deps: Pick<Dependencies, 'catalog' | 'branding'>, drawnTenantId: string | undefined, owner: BrandingOwner, draft: BrandingInput, now: Date, timeZone: string): Promise<ResolvedBranding> {
  const chain = drawnTenantId === undefined ? [] : await tenantChain(deps, drawnTenantId);
  const brandingsOf = async (each: BrandingOwner): Promise<Branding[]> => {
    const stored = await deps.branding.list(each);
    return sameOwner(each, owner) ? withDraft(stored, each, draft) : stored;
  };
  const [msp, tenants] = await Promise.all([brandingsOf({ kind: 'Msp' }), Promise.all(chain.map((tenant) => brandingsOf({ kind: 'Tenant', tenantId: tenant.id })))]);
  return resolveBranding(msp, tenants, draft.dateRange?.from ?? dayIn(now, timeZone));
}

/**
 * What the owner inherits, and what a save of the draft would be refused
 * for: the save's own rule (brandingAsSaved over the same stored brandings,
 * on the same day).
 */
async function ownerView(deps: Pick<Dependencies, 'catalog' | 'branding'>, owner: BrandingOwner, draft: BrandingInput | undefined, now: Date): Promise<Pick<BrandingPreview, 'inherited' | 'problems'>> {
  const msp = await deps.branding.list({ kind: 'Msp' });
  const parents = owner.kind === 'Tenant' ? (await tenantChain(deps, owner.tenantId)).slice(0, -1) : [];
  const parentBrandings = await Promise.all(parents.map((tenant) => deps.branding.list({ kind: 'Tenant', tenantId: tenant.id })));
  const own = owner.kind === 'Msp' ? msp : await deps.branding.list(owner);
  const day = dayIn(now, 'UTC');
  const id = draft === undefined ? DEFAULT_BRANDING_ID : draftId(draft);
  // a branding with only its date range draws nothing of its own: what is left is what it inherits
  const inherited = brandingAsSaved(draft?.dateRange ? { dateRange: draft.dateRange } : {}, id, owner, msp, day, parentBrandings, own);
  const problems = draft === undefined ? [] : contrastProblems(brandingAsSaved(draft, id, owner, msp, day, parentBrandings, own), draft);
  return { inherited, problems };
}

/** A draft checked as a save checks it, its fields named where the request carries it (`branding.<field>`). */
function parseDraft(draft: unknown): BrandingInput {
  try {
    return parseInput(brandingInputSchema, draft, 'branding');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(error.entity, error.problems.map((problem) => ({ ...problem, field: problem.field === '' ? 'branding' : `branding.${problem.field}` })), { cause: error });
  }
}

/**
 * Renders the template with the tenant's branding as the end user would get
 * it today, or with a draft in place of the owner's stored branding. A draft
 * is checked by the schema a save applies (refused naming `branding.<field>`);
 * its contrast problems are answered, not refused, so an editor shows the
 * unreadable colours it is about to save.
 */
export async function previewEmail(deps: PreviewDeps, request: PreviewRequest): Promise<BrandingPreview> {
  const draft = request.draft === undefined ? undefined : parseDraft(request.draft);
  const owner: BrandingOwner = request.tenantId === undefined ? { kind: 'Msp' } : { kind: 'Tenant', tenantId: request.tenantId };
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
  const drawnTenantId = request.sessionId === undefined ? request.tenantId : session.tenantId;
  const branding = draft === undefined ? await brandingFor(deps, drawnTenantId, now, timeZone) : await brandingWithDraft(deps, drawnTenantId, owner, draft, now, timeZone);
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
  return { ...(await deps.renderer.renderEmail(view)), branding, ...(await ownerView(deps, owner, draft, now)) };
}

/** Sends the preview to one address, marked as a test, so the MSP sees it in a real inbox. */
export async function sendTestEmail(
  deps: PreviewDeps & Pick<Dependencies, 'mailer' | 'metrics'>,
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
