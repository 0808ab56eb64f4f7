// Gzip stitched from pieces deflated apart (src/http/cache/stitched-gzip.ts) must be one
// valid gzip member whatever the pieces, their order, and which items have none yet:
// checked with zlib and with GNU gzip, an independent decoder, as a browser or a crawler
// would decode it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { piece, stitch, type Frame, type Piece } from '../../../src/http/cache/stitched-gzip.ts';

/** GNU gzip's reading of the bytes (it checks the CRC and the length) */
const gunzipCli = (gz: Buffer) => execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });

const json = (n: number) => Buffer.from(JSON.stringify({ id: n, title: `Été ${n} — “quoted” ✓`, html: '<p>Words about caches and latency.</p>'.repeat(n) }));
const frame = { open: piece(Buffer.from('{"data":[')), separator: piece(Buffer.from(',')), tail: Buffer.from('],"meta":{"total":4}}') };

async function expectDecodes(items: Piece[], f: Frame = frame) {
  const stitched = stitch(items, f);
  const [body, gzip] = [stitched.json, await stitched.gzip()];
  const expected = Buffer.concat([...(f.open ? [f.open.json] : []), ...items.flatMap((p, i) => (i && f.separator ? [f.separator.json, p.json] : [p.json])), f.tail]);
  expect(body.equals(expected)).toBe(true);
  expect(zlib.gunzipSync(gzip).equals(expected)).toBe(true);
  expect(gunzipCli(gzip).equals(expected)).toBe(true);
  return { body, gzip };
}

describe('stitched gzip', () => {
  it('decodes to the items in their frame, in any order, a piece used twice, with zlib and GNU gzip', async () => {
    const [a, b, c] = [piece(json(3)), piece(json(40)), piece(json(0))];
    const { body, gzip } = await expectDecodes([b, a, c, b]);
    expect(JSON.parse(body.toString()).data.map((x: { id: number }) => x.id)).toEqual([40, 3, 0, 40]);
    expect(gzip.length).toBeLessThan(body.length / 2);
  });

  it('items without a piece yet (first seen), alone or in runs, between items with one', async () => {
    const warm = [piece(json(5)), piece(json(6))];
    const cold = [{ json: json(7) }, { json: json(8) }, { json: json(9) }];
    for (const items of [cold, [cold[0]], [warm[0], cold[0], cold[1], warm[1], cold[2]], [cold[0], warm[0], warm[1], cold[1]]]) await expectDecodes(items);
    // none of them touched: a piece is made for the cache, not by stitching
    expect(cold.every((p) => !('deflated' in p))).toBe(true);
  });

  it('an empty tail, a tail over 64 kB (several stored blocks), incompressible items, no frame, no items at all', async () => {
    const noise = piece(randomBytes(50_000));
    await expectDecodes([noise], { tail: Buffer.alloc(0) });
    await expectDecodes([noise, { json: randomBytes(1000) }, noise], { ...frame, tail: Buffer.from('x'.repeat(70_000) + 'end') });
    // a run with no piece, larger than zlib's output chunk both ways: deflated in one trip, incompressible or a page of 100 articles
    await expectDecodes([{ json: randomBytes(40_000) }, { json: randomBytes(40_000) }]);
    await expectDecodes(Array.from({ length: 100 }, (_, i) => ({ json: json(90 + i) })));
    await expectDecodes([], { tail: Buffer.from('{}') });
    await expectDecodes([], { tail: Buffer.alloc(0) });
  });

  it('a corrupted piece is caught by the gzip trailer, not decoded into something else', async () => {
    const p = piece(Buffer.from('{"title":"A piece of an article"}'));
    p.deflated[2] ^= 0x01;
    const gzip = await stitch([p], { tail: Buffer.alloc(0) }).gzip();
    expect(() => zlib.gunzipSync(gzip)).toThrow();
    expect(() => gunzipCli(gzip)).toThrow();
  });
});
