// What an upload becomes: recognised by its bytes (sharp reads the header only), refused
// before any decoding when it is not one of our formats or has too many pixels, then
// rendered by sharp — on libuv's thread pool, off the event loop — into a metadata-free
// full-size copy and responsive variants. Nothing here touches storage or the database.
import sharp, { type Metadata, type Sharp } from 'sharp';
import { AppError } from '../http/errors.ts';
import { MEDIA_FORMATS, type MediaFormat } from './media.table.ts';

// Each image is read once: libvips' operation cache (50 MB by default) would only hold memory.
sharp.cache(false);

/** Responsive widths; never wider than the original, whose own width joins them when smaller. */
export const VARIANT_WIDTHS = [320, 640, 960, 1280, 1920] as const;
/** Decompression bombs: refused from the header, before a single pixel is decoded. */
export const MAX_PIXELS = 40_000_000;
/** Changing what the renderer makes changes every address (immutable caching stays true). */
export const PIPELINE_VERSION = 'inkwell-media-v1';

export const CONTENT_TYPES: Record<MediaFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

export interface ImageInfo {
  format: MediaFormat;
  width: number;
  height: number;
}

export interface RenderedFile {
  width: number;
  height: number;
  format: MediaFormat;
  data: Buffer;
}

const ACCEPTED = MEDIA_FORMATS.map((f) => f.toUpperCase()).join(', ');

/** The format and size an image declares, from its header alone. */
export async function inspect(path: string): Promise<ImageInfo> {
  let meta: Metadata;
  try {
    // the header only: no pixel is decoded, so the pixel limit is ours to apply below, with a clear message
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    throw new AppError('unsupported-media-type', `The file is not an image in a format we accept (${ACCEPTED}).`);
  }
  const format = formatOf(meta);
  if (!format) {
    const what = meta.format === 'svg' ? 'SVG images (they can carry scripts)' : `${String(meta.format).toUpperCase()} images`;
    throw new AppError('unsupported-media-type', `${what} are not accepted; send ${ACCEPTED}.`);
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (!width || !height) throw new AppError('bad-request', 'The image declares no size.');
  if (width * height > MAX_PIXELS) {
    throw new AppError(
      'payload-too-large',
      `The image is ${width} × ${height} pixels (${(width * height / 1e6).toFixed(1)} megapixels); at most ${MAX_PIXELS / 1e6} megapixels are accepted.`,
    );
  }
  return { format, width, height };
}

function formatOf(meta: Metadata): MediaFormat | null {
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : null; // HEIC is not for the web
  return (MEDIA_FORMATS as readonly string[]).includes(meta.format ?? '') ? (meta.format as MediaFormat) : null;
}

const ENCODE: Record<MediaFormat, (s: Sharp) => Sharp> = {
  jpeg: (s) => s.jpeg({ quality: 82, progressive: true }),
  png: (s) => s.png({ compressionLevel: 8 }),
  webp: (s) => s.webp({ quality: 80 }),
  // effort 1 of 9: a 1920 px AVIF in about a second here instead of five, a few per cent larger
  avif: (s) => s.avif({ quality: 55, effort: 1 }),
  gif: (s) => s.gif(),
};

/** The widths an image of this width gets: the standard ones below it, and its own when under the largest. */
export function variantWidths(width: number): number[] {
  const widths: number[] = VARIANT_WIDTHS.filter((w) => w < width);
  if (width <= VARIANT_WIDTHS[VARIANT_WIDTHS.length - 1]) widths.push(width);
  return widths;
}

/**
 * The full-size copy (upright, metadata stripped) and every variant: WebP, AVIF and the
 * original's format at each width. The image is decoded twice, whatever the count of
 * variants: once for the full-size copy, once into an intermediate of at most 1920 px
 * from which the variants are cut. An undecodable image (truncated, corrupt) is a 400.
 * An animated GIF keeps its first frame.
 */
export async function render(path: string, info: ImageInfo): Promise<{ original: RenderedFile; variants: RenderedFile[] }> {
  const input = () => sharp(path, { limitInputPixels: MAX_PIXELS, failOn: 'warning', pages: 1 }).rotate();
  try {
    // sharp writes no metadata (EXIF, GPS, XMP, ICC) unless asked to
    const full = await ENCODE[info.format](input()).toBuffer({ resolveWithObject: true });
    const original: RenderedFile = { width: full.info.width, height: full.info.height, format: info.format, data: full.data };
    const largest = VARIANT_WIDTHS[VARIANT_WIDTHS.length - 1];
    const mid = await input()
      .resize({ width: Math.min(original.width, largest), withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { width: mid.info.width, height: mid.info.height, channels: mid.info.channels };
    const variants: RenderedFile[] = [];
    for (const width of variantWidths(original.width)) {
      const height = Math.max(1, Math.round((original.height * width) / original.width));
      for (const format of variantFormats(info.format)) {
        if (width === original.width && format === info.format) {
          variants.push({ ...original });
          continue;
        }
        const out = await ENCODE[format](sharp(mid.data, { raw }).resize({ width, height, fit: 'fill' })).toBuffer();
        variants.push({ width, height, format, data: out });
      }
    }
    return { original, variants };
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('bad-request', `The image could not be decoded (${firstLine(e)}); is the file complete?`);
  }
}

/** WebP, AVIF and the original's own format, once each. */
export function variantFormats(original: MediaFormat): MediaFormat[] {
  return [...new Set<MediaFormat>(['webp', 'avif', original])];
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);
}
