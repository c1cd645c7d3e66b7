import { z } from '@hono/zod-openapi';
import { brandingIdSchema, brandingInputSchema } from '../core/model/branding.js';
import { entityIdSchema, itemKeySchema } from '../core/model/catalog.js';
import { emailAddressSchema } from '../core/model/email-address.js';
import { EMAIL_KINDS } from '../core/notifications/emails.js';
import { sessionIdSchema, actionIdSchema } from '../handlers/schemas.js';

/**
 * Shapes every route shares: the error envelope, list pages, ids in paths.
 * Domain schemas come from the core unchanged; these only say how they
 * travel over HTTP.
 */

// The core declares item keys with a refinement zod cannot describe; the document gets its wire form.
z.globalRegistry.add(itemKeySchema, {
  type: 'string',
  pattern: '^(software|task):[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'An item of the catalog: `software:<id>` or `task:<id>`',
});

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'VALIDATION_FAILED' }),
      message: z.string(),
      field: z.string().optional().meta({ description: 'Where the problem is: `body.schedule.name`, `query.limit`, `path.sessionId`', example: 'body.computerId' }),
    }),
  })
  .meta({ id: 'Error' });

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errorBodySchema } } });

/** Every route may answer these; a route adds what it answers on success. */
export const ERROR_RESPONSES = {
  400: errorResponse('The request does not match the schema: `field` names the first offending field'),
  401: errorResponse('No token, or one that is forged, expired or for another audience'),
  403: errorResponse('The role may not do this'),
  404: errorResponse('No such resource, or one in a tenant the caller cannot see'),
  409: errorResponse('The resource changed meanwhile, or its rules refuse the request now'),
  413: errorResponse('The body is larger than 256 KiB'),
  415: errorResponse('The body is not JSON'),
} as const;

/** Read routes that take no body answer fewer refusals. */
export const READ_ERROR_RESPONSES = {
  400: ERROR_RESPONSES[400],
  401: ERROR_RESPONSES[401],
  403: ERROR_RESPONSES[403],
  404: ERROR_RESPONSES[404],
} as const;

export const json = <S extends z.ZodType>(description: string, schema: S) => ({ description, content: { 'application/json': { schema } } });

/** A JSON body; an absent body reads as `{}`, so a body whose fields are all optional may be left out. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({ content: { 'application/json': { schema } }, required: true });

export const limitSchema = z.coerce
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(200, 'must be at most 200')
  .default(50)
  .meta({ description: 'Items per page (1-200)', example: 50 });

export const cursorSchema = z
  .string()
  .min(1)
  .max(2048, 'is not a cursor this list handed out')
  .optional()
  .meta({ description: 'From `nextCursor` of the previous page of the same list' });

export const pageQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema }).strict();

/** A page of a list: `nextCursor` is there while more remain. */
export const pageOfSchema = <S extends z.ZodType>(item: S) => z.object({ items: z.array(item), nextCursor: z.string().optional() });

const pathId = (name: string, schema: z.ZodType<string>) => schema.meta({ param: { name, in: 'path' } });

export const sessionIdParams = z.object({ sessionId: pathId('sessionId', sessionIdSchema) });
export const actionParams = z.object({ sessionId: pathId('sessionId', sessionIdSchema), actionId: pathId('actionId', actionIdSchema) });
export const idParams = <N extends string>(name: N) => z.object({ [name]: pathId(name, entityIdSchema) } as Record<N, z.ZodType<string>>);

/** Schema versions a change is made against: the version the caller read. */
export const versionSchema = z.coerce.number().int('must be a whole number').min(1, 'must be at least 1');

/** A reason given with an operator's change, for the log and the audit trail. */
export const reasonSchema = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');

/** The `Idempotency-Key` header: the same key from the same caller asks for the same thing once. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional()
    .meta({ param: { name: 'idempotency-key', in: 'header' }, description: 'Repeat the request with the same key to get the same result (session or run), once' }),
});

export { auditEntrySchema } from './response-schemas.js';

// ---- branding

/** How a branding travels: the core's input schema, named once in the document. */
export const brandingInputRef = brandingInputSchema.meta({ id: 'BrandingInput' });

/** A stored branding, as a real schema (response-schemas.ts holds it equal to the core's type). */
export { brandingSchema as brandingRef } from './response-schemas.js';

export const brandingIdParams = z.object({ brandingId: pathId('brandingId', brandingIdSchema) });
export const tenantBrandingParams = z.object({ tenantId: pathId('tenantId', entityIdSchema), brandingId: pathId('brandingId', brandingIdSchema) });

export const brandingSaveBodySchema = z
  .object({
    branding: brandingInputRef,
    expectedVersion: z
      .number()
      .int('must be a whole number')
      .min(0, 'must be 0 (to create) or more')
      .meta({ description: 'The version the change was decided on; 0 creates the branding' }),
  })
  .strict();

const previewFields = {
  kind: z.enum(EMAIL_KINDS).meta({ description: 'Which email to draw' }),
  tenantId: entityIdSchema.optional().meta({ description: "Whose branding: this tenant's over the MSP's; absent: the MSP's (or, with a session, the session's tenant's)" }),
  sessionId: sessionIdSchema.optional().meta({ description: 'A real session to draw; absent: a sample evening of maintenance' }),
};

export const brandingPreviewBodySchema = z.object(previewFields).strict();

export const brandingTestEmailBodySchema = z
  .object({ ...previewFields, to: emailAddressSchema.meta({ description: 'The one address the test goes to' }) })
  .strict();

export const renderedEmailSchema = z
  .object({ subject: z.string(), html: z.string().meta({ description: 'The whole HTML document' }), text: z.string().meta({ description: 'The plain-text version sent alongside' }) })
  .meta({ id: 'RenderedEmail' });
