import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
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
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../core/errors.js';
import { translateAwsError } from './aws-errors.js';
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
        new GetCommand({ TableName: this.tableName, Key: { PK: pk, SK: sk }, ConsistentRead: true, ...projection }),
      );
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
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true, ...projection } } }),
          );
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
      let pending: Record<string, unknown>[] | undefined = items.slice(start, start + 25).map((item) => ({ PutRequest: { Item: item } }));
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** round)));
        try {
          const result: BatchWriteCommandOutput = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
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
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(condition ? { ConditionExpression: condition } : {}),
          ...(placeholders.names ? { ExpressionAttributeNames: placeholders.names } : {}),
          ...(placeholders.values ? { ExpressionAttributeValues: placeholders.values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
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
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: spec.key,
          UpdateExpression: expression,
          ConditionExpression: spec.condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item: Item = result.Attributes ?? {};
      return item;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConflictError(spec.conflict, { cause: error });
      throw translateAwsError(error, `updating ${spec.key.PK}`);
    }
  }

  /** Deletes the item if `condition` holds; `ConflictError` (with `conflict`) otherwise. */
  async deleteIf(key: { PK: string; SK: string }, spec: Pick<UpdateSpec, 'condition' | 'conditionNames' | 'conditionValues' | 'conflict'>): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: spec.condition,
          ...(spec.conditionNames ? { ExpressionAttributeNames: spec.conditionNames } : {}),
          ...(spec.conditionValues ? { ExpressionAttributeValues: spec.conditionValues } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConflictError(spec.conflict, { cause: error });
      throw translateAwsError(error, `deleting ${key.PK}`);
    }
  }

  /**
   * Deletes up to `limit` items whose TTL attribute is at or before
   * `nowEpochSeconds`: what DynamoDB's TTL does in AWS, for a table that has
   * none (dynalite). Each delete is conditional on the expiry it saw, so a
   * record whose retention was extended meanwhile (a session that just ended)
   * stays. Returns how many went and whether more may be left.
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
        }),
      );
      const items: Item[] = result.Items ?? [];
      const lastKey: Record<string, unknown> | undefined = result.LastEvaluatedKey;
      return lastKey ? { items, lastKey } : { items };
    } catch (error) {
      throw translateAwsError(error, `reading a page of ${options.pk}`);
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
          }),
        );
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
