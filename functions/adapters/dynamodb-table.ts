import { ConditionalCheckFailedException, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../core/errors.js';
import { translateAwsError } from './aws-errors.js';
import { currentUsageMeter } from './usage-meter.js';
import { TABLE_DEFINITION, type IndexName } from './table-definition.js';

type Item = Record<string, unknown>;

const KEY_ATTRIBUTES = new Set<string>([
  TABLE_DEFINITION.partitionKey,
  TABLE_DEFINITION.sortKey,
  ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  'entity',
  TABLE_DEFINITION.timeToLiveAttribute,
]);

/**
 * The table is written only through the stores in this folder, so an item
 * read back is the entity that was written, plus its key attributes.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the one place a stored item becomes its entity type
export function toEntity<T>(item: Item): T {
  const entity: Item = {};
  for (const [name, value] of Object.entries(item)) if (!KEY_ATTRIBUTES.has(name)) entity[name] = value;
  return entity as T;
}

export interface UpdateSpec {
  readonly key: { PK: string; SK: string };
  /** Attribute, or `map.attribute` for a field inside a map attribute, to its new value. */
  readonly set: Readonly<Record<string, unknown>>;
  /** Atomic counters: `attribute = attribute + n`. */
  readonly increment?: Readonly<Record<string, number>>;
  readonly remove?: readonly string[];
  /** Expression over `#name` placeholders for the attributes named in `conditionNames`. */
  readonly condition: string;
  readonly conditionNames?: Readonly<Record<string, string>>;
  readonly conditionValues?: Readonly<Record<string, unknown>>;
  /** What to say when the condition fails. */
  readonly conflict: string;
}

/**
 * Every call asks DynamoDB what it consumed (`ReturnConsumedCapacity`), which
 * costs nothing, and hands the units to the invocation's usage meter, if one
 * is counting: the session's cost is what DynamoDB said, not an estimate.
 */
const CONSUMED = { ReturnConsumedCapacity: 'TOTAL' } as const;

/**
 * A conditional write DynamoDB refuses is still billed, by the size of the
 * item it found (at least one unit), but the refusal carries no
 * `ConsumedCapacity`. APPROXIMATION: it is counted as the minimum, one write
 * unit: exact for the usual refusal (the item exists and is under 1 KB, or
 * does not exist), short by the rest for a larger item.
 */
const REFUSED_WRITE_UNITS = 1;

type Kind = 'read' | 'write';

/** What a call consumed, to the meter of the invocation making it: `CapacityUnits` is the table's and its indexes' together. */
function meterConsumed(kind: Kind, consumed: ConsumedCapacity | readonly ConsumedCapacity[] | undefined): void {
  const meter = currentUsageMeter();
  if (!meter || consumed === undefined) return;
  // a batch answers one entry per table, a single-item call one entry
  const entries = ([] as ConsumedCapacity[]).concat(consumed);
  const units = entries.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
  meter.add(kind === 'read' ? 'tableReadUnits' : 'tableWriteUnits', units);
}

/** Which session or run the invocation works on, by the partitions it writes (see `UsageMeter`). */
function meterWrote(partitionKey: unknown): void {
  if (typeof partitionKey === 'string') currentUsageMeter()?.wrotePartition(partitionKey);
}

function meterRefusedWrite(partitionKey: unknown): void {
  meterWrote(partitionKey);
  currentUsageMeter()?.add('tableWriteUnits', REFUSED_WRITE_UNITS);
}

/** Thin helpers over the document client: every write names its condition, every failure is translated. */
export class DynamoTable {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** `attributes` reads only those top-level attributes: a hot path need not pay for a large item it does not use. */
  async get(pk: string, sk: string, attributes?: readonly string[]): Promise<Item | undefined> {
    const projection =
      attributes === undefined
        ? {}
        : {
            ProjectionExpression: attributes.map((_, index) => `#a${index}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(attributes.map((name, index) => [`#a${index}`, name])),
          };
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { PK: pk, SK: sk }, ConsistentRead: true, ...projection, ...CONSUMED }),
      );
      meterConsumed('read', result.ConsumedCapacity);
      const item: Item | undefined = result.Item;
      return item;
    } catch (error) {
      throw translateAwsError(error, `reading ${pk}`);
    }
  }

  /** `attributes` reads only those top-level attributes of each item (the keys always come back). */
  async batchGet(keys: readonly { PK: string; SK: string }[], attributes?: readonly string[]): Promise<Item[]> {
    const projection =
      attributes === undefined
        ? {}
        : {
            ProjectionExpression: ['PK', 'SK', ...attributes].map((_, index) => `#a${index}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(['PK', 'SK', ...attributes].map((name, index) => [`#a${index}`, name])),
          };
    const items: Item[] = [];
    // BatchGetItem takes 100 keys; unprocessed keys are retried until none are left
    for (let start = 0; start < keys.length; start += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(start, start + 100).map((k) => ({ ...k }));
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** round)));
        try {
          const result: BatchGetCommandOutput = await this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true, ...projection } }, ...CONSUMED }),
          );
          meterConsumed('read', result.ConsumedCapacity);
          const found: Item[] = result.Responses?.[this.tableName] ?? [];
          items.push(...found);
          const unprocessed: Record<string, unknown>[] | undefined = result.UnprocessedKeys?.[this.tableName]?.Keys;
          pending = unprocessed;
        } catch (error) {
          throw translateAwsError(error, 'reading a batch');
        }
      }
    }
    return items;
  }

  /**
   * Puts items 25 to a call, without conditions: only for items that nothing
   * else can be writing yet (the caller says why). Unprocessed items are sent again.
   */
  async batchPut(items: readonly Item[]): Promise<void> {
    for (let start = 0; start < items.length; start += 25) {
      const batch = items.slice(start, start + 25);
      for (const item of batch) meterWrote(item.PK);
      let pending: Record<string, unknown>[] | undefined = batch.map((item) => ({ PutRequest: { Item: item } }));
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** round)));
        try {
          const result: BatchWriteCommandOutput = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending }, ...CONSUMED }));
          meterConsumed('write', result.ConsumedCapacity);
          const unprocessed: Record<string, unknown>[] | undefined = result.UnprocessedItems?.[this.tableName];
          pending = unprocessed;
        } catch (error) {
          throw translateAwsError(error, 'writing a batch');
        }
      }
    }
  }

  /** Writes `item` only if `condition` holds; `false` when it did not (nothing written). */
  async putIf(
    item: Item,
    condition: string | undefined,
    placeholders: { readonly names?: Readonly<Record<string, string>>; readonly values?: Readonly<Record<string, unknown>> } = {},
  ): Promise<boolean> {
    try {
      const result = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(condition ? { ConditionExpression: condition } : {}),
          ...(placeholders.names ? { ExpressionAttributeNames: placeholders.names } : {}),
          ...(placeholders.values ? { ExpressionAttributeValues: placeholders.values } : {}),
          ...CONSUMED,
        }),
      );
      meterWrote(item.PK);
      meterConsumed('write', result.ConsumedCapacity);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        meterRefusedWrite(item.PK);
        return false;
      }
      throw translateAwsError(error, `writing ${String(item.PK)}`);
    }
  }

  /** Applies the update if its condition holds and returns the item as written; `ConflictError` otherwise. */
  async update(spec: UpdateSpec): Promise<Item> {
    const names: Record<string, string> = { ...spec.conditionNames };
    const values: Record<string, unknown> = { ...spec.conditionValues };
    // `a.b` is the field b of map a: every part gets its own placeholder, so no name is ever a reserved word
    const pathOf = (attribute: string, placeholder: string): string =>
      attribute
        .split('.')
        .map((part, depth) => {
          names[`${placeholder}_${depth}`] = part;
          return `${placeholder}_${depth}`;
        })
        .join('.');
    const assignments = Object.entries(spec.set).map(([attribute, value], index) => {
      values[`:s${index}`] = value;
      return `${pathOf(attribute, `#s${index}`)} = :s${index}`;
    });
    Object.entries(spec.increment ?? {}).forEach(([attribute, amount], index) => {
      const path = pathOf(attribute, `#i${index}`);
      values[`:i${index}`] = amount;
      values[':zero'] = 0;
      assignments.push(`${path} = if_not_exists(${path}, :zero) + :i${index}`);
    });
    const removals = (spec.remove ?? []).map((attribute, index) => pathOf(attribute, `#r${index}`));
    const expression = [
      assignments.length ? `SET ${assignments.join(', ')}` : '',
      removals.length ? `REMOVE ${removals.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return this.sendUpdate(
      spec.key,
      {
        UpdateExpression: expression,
        ConditionExpression: spec.condition,
        ExpressionAttributeNames: names,
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      },
      (refusal) => {
        throw new ConflictError(spec.conflict, { cause: refusal });
      },
    );
  }

  /**
   * An update the `update` builder does not say: counters added with ADD (no
   * read first, and two invocations adding at once both count) or one
   * attribute copied into another. Without `condition` it is unconditional,
   * on purpose: the caller says why. Returns the item as written, or
   * `undefined` when `condition` did not hold (nothing written).
   */
  async updateWith(spec: {
    readonly key: { PK: string; SK: string };
    readonly expression: string;
    readonly condition?: string;
    readonly names: Readonly<Record<string, string>>;
    readonly values: Readonly<Record<string, unknown>>;
  }): Promise<Item | undefined> {
    return this.sendUpdate(
      spec.key,
      {
        UpdateExpression: spec.expression,
        ...(spec.condition ? { ConditionExpression: spec.condition } : {}),
        ExpressionAttributeNames: spec.names,
        ExpressionAttributeValues: spec.values,
      },
      () => undefined,
    );
  }

  /** One metered UpdateItem returning the item as written, or what `refused` makes of a condition that did not hold (nothing written). */
  private async sendUpdate<R>(
    key: { PK: string; SK: string },
    expression: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
    refused: (refusal: ConditionalCheckFailedException) => R,
  ): Promise<Item | R> {
    try {
      const result = await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: key, ...expression, ReturnValues: 'ALL_NEW', ...CONSUMED }));
      meterWrote(key.PK);
      meterConsumed('write', result.ConsumedCapacity);
      const item: Item = result.Attributes ?? {};
      return item;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        meterRefusedWrite(key.PK);
        return refused(error);
      }
      throw translateAwsError(error, `updating ${key.PK}`);
    }
  }

  /** Deletes the item if `condition` holds; `ConflictError` (with `conflict`) otherwise. */
  async deleteIf(key: { PK: string; SK: string }, spec: Pick<UpdateSpec, 'condition' | 'conditionNames' | 'conditionValues' | 'conflict'>): Promise<void> {
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: spec.condition,
          ...(spec.conditionNames ? { ExpressionAttributeNames: spec.conditionNames } : {}),
          ...(spec.conditionValues ? { ExpressionAttributeValues: spec.conditionValues } : {}),
          ...CONSUMED,
        }),
      );
      meterWrote(key.PK);
      meterConsumed('write', result.ConsumedCapacity);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        meterRefusedWrite(key.PK);
        throw new ConflictError(spec.conflict, { cause: error });
      }
      throw translateAwsError(error, `deleting ${key.PK}`);
    }
  }

  /**
   * Deletes up to `limit` items whose TTL attribute is at or before
   * `nowEpochSeconds`: what DynamoDB's TTL does in AWS, for a table that has
   * none (dynalite). Each delete is conditional on the expiry it saw, so a
   * record whose retention was extended meanwhile (a session that just ended)
   * stays. Returns how many went and whether more may be left. Not metered:
   * DynamoDB's own TTL deletes cost nothing, and no session asked for these.
   */
  async deleteExpired(nowEpochSeconds: number, limit: number): Promise<{ deleted: number; more: boolean }> {
    const ttl = TABLE_DEFINITION.timeToLiveAttribute;
    let deleted = 0;
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: '#ttl <= :now',
            ExpressionAttributeNames: { '#ttl': ttl, '#pk': TABLE_DEFINITION.partitionKey, '#sk': TABLE_DEFINITION.sortKey },
            ExpressionAttributeValues: { ':now': nowEpochSeconds },
            ProjectionExpression: '#pk, #sk, #ttl',
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        const expired: Item[] = page.Items ?? [];
        for (const item of expired) {
          if (deleted >= limit) return { deleted, more: true };
          try {
            await this.client.send(
              new DeleteCommand({
                TableName: this.tableName,
                Key: { [TABLE_DEFINITION.partitionKey]: item[TABLE_DEFINITION.partitionKey], [TABLE_DEFINITION.sortKey]: item[TABLE_DEFINITION.sortKey] },
                ConditionExpression: '#ttl = :seen',
                ExpressionAttributeNames: { '#ttl': ttl },
                ExpressionAttributeValues: { ':seen': item[ttl] },
              }),
            );
            deleted++;
          } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
        }
        const next: Record<string, unknown> | undefined = page.LastEvaluatedKey;
        startKey = next;
      } while (startKey);
    } catch (error) {
      throw translateAwsError(error, 'deleting expired records');
    }
    return { deleted, more: false };
  }

  /** One page of a partition under a sort-key prefix, for callers that page through it themselves. */
  async page(options: {
    pk: string;
    skPrefix: string;
    limit: number;
    startAfter?: { PK: string; SK: string };
  }): Promise<{ items: Item[]; lastKey?: Record<string, unknown> }> {
    try {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sk)',
          ExpressionAttributeNames: { '#pk': TABLE_DEFINITION.partitionKey, '#sk': TABLE_DEFINITION.sortKey },
          ExpressionAttributeValues: { ':pk': options.pk, ':sk': options.skPrefix },
          Limit: options.limit,
          ...(options.startAfter ? { ExclusiveStartKey: options.startAfter } : {}),
          ...CONSUMED,
        }),
      );
      meterConsumed('read', result.ConsumedCapacity);
      const items: Item[] = result.Items ?? [];
      const lastKey: Record<string, unknown> | undefined = result.LastEvaluatedKey;
      return lastKey ? { items, lastKey } : { items };
    } catch (error) {
      throw translateAwsError(error, `reading a page of ${options.pk}`);
    }
  }

  /**
   * One page of a partition (of an index), by a sort-key range: keys at or
   * above `atLeast` and strictly below `below`. With both bounds the key
   * condition is BETWEEN, which takes `below` itself too: an item exactly
   * there is dropped, and the page may then hold one item more than `limit`
   * (it asks for one more, so the drop never costs a round trip). `filter`
   * and `attributes` narrow what comes back, not what is read (DynamoDB
   * counts the read units of every item it looks at); `scanned` is how many
   * that was, and `lastKey` where to go on (absent: the range is used up).
   */
  async rangePage(options: {
    pk: string;
    index?: IndexName;
    atLeast?: string;
    below?: string;
    newestFirst?: boolean;
    limit?: number;
    filter?: { readonly expression: string; readonly names: Readonly<Record<string, string>>; readonly values: Readonly<Record<string, unknown>> };
    attributes?: readonly string[];
    startKey?: Record<string, unknown>;
  }): Promise<{ items: Item[]; lastKey?: Record<string, unknown>; scanned: number }> {
    const index = options.index ? TABLE_DEFINITION.globalSecondaryIndexes.find((i) => i.indexName === options.index) : undefined;
    const sortName = index?.sortKey ?? TABLE_DEFINITION.sortKey;
    const names: Record<string, string> = { '#pk': index?.partitionKey ?? TABLE_DEFINITION.partitionKey, ...options.filter?.names };
    const values: Record<string, unknown> = { ':pk': options.pk, ...options.filter?.values };
    const both = options.atLeast !== undefined && options.below !== undefined;
    let sortCondition = '';
    if (both) sortCondition = ' AND #sk BETWEEN :atLeast AND :below';
    else if (options.atLeast !== undefined) sortCondition = ' AND #sk >= :atLeast';
    else if (options.below !== undefined) sortCondition = ' AND #sk < :below';
    if (options.atLeast !== undefined) values[':atLeast'] = options.atLeast;
    if (options.below !== undefined) values[':below'] = options.below;
    if (sortCondition) names['#sk'] = sortName;
    // the dropped item is told by its sort key, so a narrowed read still brings it back
    const attributes = options.attributes && both ? [...new Set([...options.attributes, sortName])] : options.attributes;
    (attributes ?? []).forEach((name, position) => (names[`#p${position}`] = name));
    try {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(index ? { IndexName: index.indexName } : { ConsistentRead: true }),
          KeyConditionExpression: `#pk = :pk${sortCondition}`,
          ...(options.filter ? { FilterExpression: options.filter.expression } : {}),
          ...(attributes ? { ProjectionExpression: attributes.map((_, position) => `#p${position}`).join(', ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ...(options.newestFirst ? { ScanIndexForward: false } : {}),
          ...(options.limit === undefined ? {} : { Limit: options.limit + (both ? 1 : 0) }),
          ...(options.startKey ? { ExclusiveStartKey: options.startKey } : {}),
          ...CONSUMED,
        }),
      );
      meterConsumed('read', result.ConsumedCapacity);
      const found: Item[] = result.Items ?? [];
      const items = both ? found.filter((item) => item[sortName] !== options.below) : found;
      const lastKey: Record<string, unknown> | undefined = result.LastEvaluatedKey;
      return { items, scanned: result.ScannedCount ?? found.length, ...(lastKey ? { lastKey } : {}) };
    } catch (error) {
      throw translateAwsError(error, `querying ${options.pk}`);
    }
  }

  /** Every item of a partition (optionally under a sort-key prefix), following pagination. */
  async query(options: {
    pk: string;
    skPrefix?: string;
    /** Only sort keys strictly below this value. */
    skBefore?: string;
    index?: IndexName;
    limit?: number;
    newestFirst?: boolean;
  }): Promise<Item[]> {
    const index = options.index
      ? TABLE_DEFINITION.globalSecondaryIndexes.find((i) => i.indexName === options.index)
      : undefined;
    const pkName = index?.partitionKey ?? TABLE_DEFINITION.partitionKey;
    const skName = index?.sortKey ?? TABLE_DEFINITION.sortKey;
    const sortCondition = options.skPrefix !== undefined ? ' AND begins_with(#sk, :sk)' : options.skBefore !== undefined ? ' AND #sk < :sk' : '';
    const sortValue = options.skPrefix ?? options.skBefore;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      ...(index ? { IndexName: index.indexName } : { ConsistentRead: true }),
      KeyConditionExpression: `#pk = :pk${sortCondition}`,
      ExpressionAttributeNames: sortCondition ? { '#pk': pkName, '#sk': skName } : { '#pk': pkName },
      ExpressionAttributeValues: sortValue !== undefined ? { ':pk': options.pk, ':sk': sortValue } : { ':pk': options.pk },
      ...(options.newestFirst ? { ScanIndexForward: false } : {}),
    };
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      try {
        const result = await this.client.send(
          new QueryCommand({
            ...input,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            ...(options.limit ? { Limit: options.limit - items.length } : {}),
            ...CONSUMED,
          }),
        );
        meterConsumed('read', result.ConsumedCapacity);
        const page: Item[] = result.Items ?? [];
        items.push(...page);
        const next: Record<string, unknown> | undefined = result.LastEvaluatedKey;
        startKey = next;
      } catch (error) {
        throw translateAwsError(error, `querying ${options.pk}`);
      }
    } while (startKey && (options.limit === undefined || items.length < options.limit));
    return items;
  }
}
