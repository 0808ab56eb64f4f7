// Gzip stitched from pieces deflated apart (src/http/cache/stitched-gzip.ts) must be one
// valid gzip member whatever the pieces, their order and their size:
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

  it('an empty tail, a tail over 64 kB (several stored blocks), incompressible items, no frame, no items at all', async () => {
    const noise = piece(randomBytes(50_000));
    await expectDecodes([noise], { tail: Buffer.alloc(0) });
    await expectDecodes([noise, piece(randomBytes(1000)), noise], { ...frame, tail: Buffer.from('x'.repeat(70_000) + 'end') });
    // pieces larger than zlib's output chunk (incompressible, and an article of 90 kB), and a page of 100 articles
    await expectDecodes([piece(randomBytes(70_000)), piece(json(2300))]);
    await expectDecodes(Array.from({ length: 100 }, (_, i) => piece(json(90 + i))));
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
