// Every message type survives encode → decode unchanged, and decode → encode reproduces the bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  decodeHeader,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Frame,
  type RowsResponse,
  ValueType,
} from "../../src/wire/index.js";
import { request, responseCase, rows } from "./arbitraries.js";

function frameOf(message: Uint8Array): Frame {
  const header = decodeHeader(message);
  assert.equal(message.length, 8 + header.words * 8, "header counts the body in words");
  return {
    type: header.type,
    schema: header.schema,
    extra: header.extra,
    body: message.subarray(8),
  };
}

test("requests of every type round-trip through the codec", () => {
  fc.assert(
    fc.property(request, (original) => {
      const message = encodeRequest(original);
      const decoded = decodeRequest(frameOf(message));
      assert.deepEqual(decoded, original);
      assert.deepEqual(encodeRequest(decoded), message);
    }),
    { numRuns: 3000 },
  );
});

test("responses of every type round-trip through the codec", () => {
  fc.assert(
    fc.property(responseCase, ({ response, legacy, serversFormat }) => {
      const message = encodeResponse(response, { serversFormat });
      const decoded = decodeResponse(frameOf(message), { legacy, serversFormat });
      assert.deepEqual(decoded, response);
      assert.deepEqual(encodeResponse(decoded, { serversFormat }), message);
    }),
    { numRuns: 3000 },
  );
});

test("the bigints option decodes every INTEGER parameter as a bigint of the same value", () => {
  fc.assert(
    fc.property(request, (original) => {
      const decoded = decodeRequest(frameOf(encodeRequest(original)), { bigints: true });
      if (!("params" in decoded) || !("params" in original)) return;
      decoded.params.forEach((param, i) => {
        const before = original.params[i].value;
        if (typeof before === "number" && param.type === ValueType.Integer) {
          assert.equal(param.value, BigInt(before));
        } else {
          assert.deepEqual(param.value, before);
        }
      });
    }),
    { numRuns: 1000 },
  );
});

test("the bigints option applies to INTEGER and UNIXTIME row values alike", () => {
  fc.assert(
    fc.property(rows, (original) => {
      const decoded = decodeResponse(frameOf(encodeResponse(original)), {
        bigints: true,
      }) as RowsResponse;
      decoded.values.forEach((value, i) => {
        const type = decoded.types[i];
        const before = original.values[i];
        if (type === ValueType.Integer || type === ValueType.UnixTime) {
          assert.equal(value, BigInt(before as number | bigint));
        } else {
          assert.deepEqual(value, before);
        }
      });
    }),
    { numRuns: 500 },
  );
});

test("text of every length around the short-text fast paths round-trips, ASCII or not", () => {
  for (let length = 0; length <= 140; length++) {
    const ascii = "abcdefghij".repeat(15).slice(0, length);
    const variants = [
      ascii,
      `${ascii}é`,
      `é${ascii}`,
      `${ascii.slice(0, length >> 1)}😀${ascii.slice(length >> 1)}`,
    ];
    for (const name of variants) {
      const message = encodeRequest({ type: "dump", name });
      const utf8Size = Buffer.byteLength(name);
      assert.equal(
        message.length,
        8 + Math.ceil((utf8Size + 1) / 8) * 8,
        `size for ${name.length} chars`,
      );
      assert.deepEqual(decodeRequest(frameOf(message)), { type: "dump", name });
    }
  }
});
