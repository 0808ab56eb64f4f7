// Gzip stitched from pieces deflated apart (src/http/cache/stitched-gzip.ts) must be one
// valid gzip member whatever the pieces and their order: checked with zlib and with GNU
// gzip, an independent decoder, as a browser or a crawler would decode it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { piece, stitch } from '../../../src/http/cache/stitched-gzip.ts';

/** GNU gzip's reading of the bytes (it checks the CRC and the length) */
const gunzipCli = (gz: Buffer) => execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 * 1024 * 1024 });

describe('stitched gzip', () => {
  it('decodes to the pieces and the tail side by side, in any order, a piece used twice, with zlib and GNU gzip', () => {
    const article = (n: number) => piece(Buffer.from(JSON.stringify({ id: n, title: `Été ${n} — “quoted” ✓`, html: '<p>Words about caches and latency.</p>'.repeat(n) })));
    const [open, comma] = [piece(Buffer.from('{"data":[')), piece(Buffer.from(','))];
    const a = article(3);
    const b = article(40);
    const c = article(0);
    const pieces = [open, b, comma, a, comma, c, comma, b];
    const tail = Buffer.from('],"meta":{"total":4}}');
    const { json, gzip } = stitch(pieces, tail);
    const expected = Buffer.concat([...pieces.map((p) => p.json), tail]);
    expect(json.equals(expected)).toBe(true);
    expect(JSON.parse(json.toString()).data.map((x: { id: number }) => x.id)).toEqual([40, 3, 0, 40]);
    expect(zlib.gunzipSync(gzip).equals(expected)).toBe(true);
    expect(gunzipCli(gzip).equals(expected)).toBe(true);
    // smaller than what it stands for
    expect(gzip.length).toBeLessThan(json.length / 2);
  });

  it('an empty tail, a tail over 64 kB (several stored blocks), incompressible pieces, and no pieces at all', () => {
    const noise = piece(randomBytes(50_000));
    for (const [pieces, tail] of [
      [[noise], Buffer.alloc(0)],
      [[noise, noise], Buffer.from('x'.repeat(70_000) + 'end')],
      [[], Buffer.from('{}')],
      [[], Buffer.alloc(0)],
    ] as const) {
      const { json, gzip } = stitch(pieces, tail);
      expect(zlib.gunzipSync(gzip).equals(json)).toBe(true);
      expect(gunzipCli(gzip).equals(json)).toBe(true);
    }
  });

  it('a corrupted piece is caught by the gzip trailer, not decoded into something else', () => {
    const p = piece(Buffer.from('{"title":"A piece of an article"}'));
    const { gzip } = stitch([p], Buffer.alloc(0));
    const bad = Buffer.from(gzip);
    bad[gzip.length - 8] ^= 0xff; // the CRC
    expect(() => zlib.gunzipSync(bad)).toThrow();
    expect(() => gunzipCli(bad)).toThrow();
  });
});
