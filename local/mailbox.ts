import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Config } from 'aws-ses-v2-local';
import { z } from 'zod';

/** One email as aws-ses-v2-local stored it (`GET /store`): the request's fields, not a parsed message. */
const storedEmailSchema = z.object({
  messageId: z.string(),
  /** The `FromEmailAddress` exactly as sent, display name encoding included. */
  from: z.string(),
  replyTo: z.array(z.string()),
  destination: z.object({ to: z.array(z.string()), cc: z.array(z.string()), bcc: z.array(z.string()) }),
  subject: z.string(),
  body: z.object({ html: z.string().optional(), text: z.string().optional() }),
  attachments: z.array(z.object({ content: z.string(), contentType: z.string(), filename: z.string().optional(), size: z.number() })),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  /** When it was received, in epoch seconds. */
  at: z.number(),
});
export type StoredEmail = z.infer<typeof storedEmailSchema>;

const storeSchema = z.object({ emails: z.array(storedEmailSchema) });

export interface LocalMailbox {
  /** The mailbox's web page: every email received, live. */
  readonly url: string;
  /** Where the SES v2 client sends (`endpoint` of `createSesClient`). */
  readonly endpoint: string;
  /** Every email received since this mailbox started, oldest first. */
  messages(): Promise<StoredEmail[]>;
  /** Stops listening and drops every open connection, so the port is free when it resolves. */
  close(): Promise<void>;
}

type StartServer = (config?: Partial<Config>) => Promise<Server>;

const require = createRequire(import.meta.url);
const ENTRY = require.resolve('aws-ses-v2-local');
const PACKAGE_DIR = path.dirname(path.dirname(ENTRY)) + path.sep;

/**
 * aws-ses-v2-local keeps its store in a module-level variable: every server
 * of one module instance shares one store. Each mailbox loads the package
 * afresh (its own modules out of the require cache; express and the rest stay
 * shared), so two runtimes in one process never see each other's mail.
 */
function freshServerModule(): StartServer {
  for (const loaded of Object.keys(require.cache)) if (loaded.startsWith(PACKAGE_DIR)) Reflect.deleteProperty(require.cache, loaded);
  return (require(ENTRY) as { default: StartServer }).default;
}

/**
 * The local twin of SES: aws-ses-v2-local in this process, on loopback,
 * taking SES v2 `SendEmail` requests from the same adapter the Lambda
 * functions use, and showing what it received on its web page.
 * `port` 0 takes any free port.
 */
export async function startMailbox(options: { readonly port?: number } = {}): Promise<LocalMailbox> {
  const port = options.port ?? 0;
  const server = await freshServerModule()({ host: '127.0.0.1', port });
  // the package resolves even when listening failed (express hands the error to its callback, which it ignores)
  if (!server.listening) {
    server.close();
    throw new Error(`the local mailbox could not listen on 127.0.0.1:${port} (is the port taken?)`);
  }
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${base}/`,
    endpoint: base,
    async messages() {
      const response = await fetch(`${base}/store`);
      if (!response.ok) throw new Error(`the local mailbox answered ${response.status} to GET /store`);
      return storeSchema.parse(await response.json()).emails;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients and fetch keep connections alive; without this, close waits for them to time out
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
