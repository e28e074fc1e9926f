// fast-check generators of every message, in the canonical form the decoders produce
// (INTEGER as a number when it is a safe integer, optional fields absent rather than undefined).
import fc from "fast-check";
import {
  type Param,
  type Request,
  type Response,
  type RowsResponse,
  type RowValue,
  ValueType,
} from "../../src/wire/index.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
export const safeNat = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());
export const u32 = fc.nat({ max: 0xffff_ffff });

/** Text that can travel on the wire: no NUL, no lone surrogate. */
export const wireText = fc
  .oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }))
  .map((text) => text.replaceAll("\0", ""));

export const int64 = fc
  .oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
    fc.constantFrom(INT64_MIN, INT64_MAX, 2n ** 53n, -(2n ** 53n)),
  )
  .map((value): number | bigint => {
    if (typeof value === "number") return value;
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  });

const blob = fc.uint8Array({ maxLength: 40 });

const typedValues: Record<number, fc.Arbitrary<RowValue>> = {
  [ValueType.Integer]: int64,
  [ValueType.Float]: fc.double(),
  [ValueType.Text]: wireText,
  [ValueType.Blob]: blob,
  [ValueType.Null]: fc.constant(null),
  [ValueType.UnixTime]: int64,
  [ValueType.Iso8601]: wireText,
  [ValueType.Boolean]: fc.boolean(),
};

const paramTypes = [1, 2, 3, 4, 5, 10, 11];
const rowTypes = [1, 2, 3, 4, 5, 9, 10, 11];

export const param: fc.Arbitrary<Param> = fc
  .constantFrom(...paramTypes)
  .chain((type) => typedValues[type].map((value) => ({ type, value }) as Param));

export const rowCell = fc
  .constantFrom(...rowTypes)
  .chain((type) => typedValues[type].map((value) => ({ type, value })));

export const rows: fc.Arbitrary<RowsResponse> = fc
  .record({
    columns: fc.array(wireText, { maxLength: 7 }),
    rowCount: fc.nat({ max: 6 }),
    more: fc.boolean(),
  })
  .chain(({ columns, rowCount, more }) => {
    const count = columns.length === 0 ? 0 : rowCount;
    return fc
      .array(rowCell, { minLength: count * columns.length, maxLength: count * columns.length })
      .map(
        (cells): RowsResponse => ({
          type: "rows",
          columns,
          rowCount: count,
          types: Uint8Array.from(cells.map((cell) => cell.type)),
          values: cells.map((cell) => cell.value),
          more,
        }),
      );
  });

const params = fc.array(param, { maxLength: 8 });
const schema = fc.constantFrom<0 | 1>(0, 1);

export const request: fc.Arbitrary<Request> = fc.oneof(
  fc.constant<Request>({ type: "leader" }),
  u64.map((clientId): Request => ({ type: "client", clientId })),
  u64.map((timestamp): Request => ({ type: "heartbeat", timestamp })),
  fc
    .record({ name: wireText, flags: safeNat, vfs: wireText })
    .map((r): Request => ({ type: "open", ...r })),
  fc
    .record({ schema, dbId: safeNat, sql: wireText })
    .map((r): Request => ({ type: "prepare", ...r })),
  fc
    .record({ type: fc.constantFrom("exec", "query"), schema, dbId: u32, stmtId: u32, params })
    .map((r) => ({ ...r }) as Request),
  fc.record({ dbId: u32, stmtId: u32 }).map((r): Request => ({ type: "finalize", ...r })),
  fc
    .record({
      type: fc.constantFrom("execSql", "querySql"),
      schema,
      dbId: safeNat,
      sql: wireText,
      params,
    })
    .map((r) => ({ ...r }) as Request),
  safeNat.map((dbId): Request => ({ type: "interrupt", dbId })),
  fc
    .record({ type: fc.constantFrom("connect", "add"), nodeId: u64, address: wireText })
    .map((r) => ({ ...r }) as Request),
  fc
    .record({ nodeId: u64, role: fc.option(fc.oneof(fc.constantFrom(0, 1, 2), safeNat)) })
    .map(
      ({ nodeId, role }): Request =>
        role === null ? { type: "assign", nodeId } : { type: "assign", nodeId, role },
    ),
  u64.map((nodeId): Request => ({ type: "remove", nodeId })),
  wireText.map((name): Request => ({ type: "dump", name })),
  safeNat.map((format): Request => ({ type: "cluster", format })),
  u64.map((nodeId): Request => ({ type: "transfer", nodeId })),
  safeNat.map((format): Request => ({ type: "describe", format })),
  u64.map((weight): Request => ({ type: "weight", weight })),
);

/** A response and the decode options its shape depends on. */
export interface ResponseCase {
  response: Response;
  legacy: boolean;
  serversFormat: number;
}

const plain = (response: fc.Arbitrary<Response>): fc.Arbitrary<ResponseCase> =>
  response.map((r) => ({ response: r, legacy: false, serversFormat: 1 }));

export const responseCase: fc.Arbitrary<ResponseCase> = fc.oneof(
  plain(
    fc
      .record({ code: safeNat, message: wireText })
      .map((r): Response => ({ type: "failure", ...r })),
  ),
  plain(fc.record({ id: u64, address: wireText }).map((r): Response => ({ type: "node", ...r }))),
  wireText.map((address) => ({
    response: { type: "nodeLegacy", address } as Response,
    legacy: true,
    serversFormat: 1,
  })),
  plain(safeNat.map((heartbeatTimeoutMs): Response => ({ type: "welcome", heartbeatTimeoutMs }))),
  fc
    .record({
      format: fc.constantFrom(0, 1),
      servers: fc.array(fc.record({ id: u64, address: wireText, role: safeNat }), { maxLength: 5 }),
    })
    .map(({ format, servers }) => ({
      response: {
        type: "servers",
        servers: servers.map((s) => (format === 0 ? { id: s.id, address: s.address } : { ...s })),
      } as Response,
      legacy: false,
      serversFormat: format,
    })),
  plain(u32.map((dbId): Response => ({ type: "db", dbId }))),
  plain(
    fc
      .record({ dbId: u32, stmtId: u32, paramCount: safeNat, tailOffset: fc.option(safeNat) })
      .map(
        ({ tailOffset, ...rest }): Response =>
          tailOffset === null ? { type: "stmt", ...rest } : { type: "stmt", ...rest, tailOffset },
      ),
  ),
  plain(
    fc
      .record({
        lastInsertId: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
        rowsAffected: safeNat,
      })
      .map((r): Response => ({ type: "result", ...r })),
  ),
  plain(rows),
  plain(fc.constant<Response>({ type: "empty" })),
  plain(
    fc
      .array(
        fc.record({
          name: wireText,
          data: fc.uint8Array({ maxLength: 64 }).map((d) => d.slice(0, d.length - (d.length % 8))),
        }),
        { maxLength: 3 },
      )
      .map((files): Response => ({ type: "files", files: files.map((f) => ({ ...f })) })),
  ),
  plain(
    fc
      .record({ failureDomain: u64, weight: u64 })
      .map((r): Response => ({ type: "metadata", ...r })),
  ),
);
