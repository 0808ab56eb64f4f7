// Image uploads against a running Inkwell, in a process of its own (like load.ts): a
// 12-megapixel JPEG (4000 × 3000, drawn by sharp), sent `concurrency` at a time until
// `uploads` are done. Each upload carries a different JPEG comment, so each is a new
// image (the same bytes twice would be answered from the library without any work).
// Input: a JSON spec file (argv[2]). Output: one JSON line on stdout.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';

export interface UploadSpec {
  url: string;
  token: string;
  concurrency: number;
  uploads: number;
}

export interface UploadResult {
  uploads: number;
  seconds: number;
  uploadsPerSec: number;
  p50: number;
  max: number;
  statusCodes: Record<string, number>;
  bytes: number;
}

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as UploadSpec;

const W = 4000;
const H = 3000;
// a photo-like picture: gradients and shapes, plus grain so that it compresses like a photo
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#264653"/><stop offset=".5" stop-color="#e9c46a"/><stop offset="1" stop-color="#e76f51"/></linearGradient>
  <filter id="n"><feTurbulence type="fractalNoise" baseFrequency=".9" numOctaves="2"/><feColorMatrix values="0 0 0 0 .5  0 0 0 0 .5  0 0 0 0 .5  0 0 0 .25 0"/></filter></defs>
  <rect width="100%" height="100%" fill="url(#g)"/><circle cx="1300" cy="1100" r="620" fill="#f4f1de" opacity=".8"/>
  <rect x="2300" y="1500" width="1300" height="1100" fill="#2a9d8f" opacity=".85"/><rect width="100%" height="100%" filter="url(#n)"/></svg>`;
const photo = await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();

/** The photo with a COM segment after SOI: a valid JPEG, different bytes each time. */
const variant = (i: number) => {
  const text = Buffer.from(`inkwell bench ${process.pid} ${i}`);
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([photo.subarray(0, 2), com, text, photo.subarray(2)]);
};

const times: number[] = [];
const statusCodes: Record<string, number> = {};
let next = 0;
const started = performance.now();
async function worker() {
  while (next < spec.uploads) {
    const i = next++;
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(variant(i))], { type: 'image/jpeg' }), `photo-${i}.jpg`);
    form.set('alt', `Bench photo ${i}`);
    const t0 = performance.now();
    const res = await fetch(spec.url, { method: 'POST', headers: { authorization: `Bearer ${spec.token}` }, body: form });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    statusCodes[res.status] = (statusCodes[res.status] ?? 0) + 1;
  }
}
await Promise.all(Array.from({ length: spec.concurrency }, worker));
const seconds = (performance.now() - started) / 1000;
times.sort((a, b) => a - b);
const result: UploadResult = {
  uploads: spec.uploads,
  seconds: Number(seconds.toFixed(2)),
  uploadsPerSec: Number((spec.uploads / seconds).toFixed(3)),
  p50: Math.round(times[Math.floor(times.length / 2)]),
  max: Math.round(times.at(-1) ?? 0),
  statusCodes,
  bytes: photo.length,
};
console.log(JSON.stringify(result));
