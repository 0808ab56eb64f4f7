import { Type } from 'typebox';
import { DateTime, literalUnion, Nullable } from '../http/schemas.ts';
import { MEDIA_FORMATS } from './media.table.ts';
import { ALT_MAX } from './upload.ts';

const Format = literalUnion(MEDIA_FORMATS, { description: 'Image format' });
const Srcset = Type.String({ description: 'A `srcset` of the WebP variants (`<url> <width>w, …`), ready for `<img srcset>`' });

export const Media = Type.Object(
  {
    id: Type.Integer(),
    url: Type.String({ description: 'The full-size image (upright, metadata stripped), in its original format' }),
    width: Type.Integer({ description: 'Pixels, of the full-size image' }),
    height: Type.Integer(),
    alt: Type.String({ description: 'Alternative text; also used where an article embeds the image without its own' }),
    format: Format,
    bytes: Type.Integer({ description: 'Size of the full-size file' }),
    srcset: Srcset,
    variants: Type.Array(
      Type.Object({ width: Type.Integer(), height: Type.Integer(), format: Format, url: Type.String() }),
      { description: '320, 640, 960, 1280 and 1920 px wide (never wider than the original; its own width when smaller), each in WebP, AVIF and the original format. Immutable: served with `Cache-Control: public, max-age=31536000, immutable`.' },
    ),
    createdAt: DateTime('Upload time'),
  },
  { $id: 'Media', title: 'Media' },
);

/** What an article shows of its feature image (a library image). */
export const FeatureImage = Nullable(
  Type.Object(
    {
      id: Type.Integer({ description: 'The media id' }),
      url: Type.String({ description: 'The full-size image' }),
      alt: Type.String(),
      width: Type.Integer(),
      height: Type.Integer(),
      srcset: Srcset,
    },
    { description: 'The article’s feature image; null when it has none' },
  ),
);

export const MediaIdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The media id' }) });

export const UpdateMediaBody = Type.Object(
  { alt: Type.String({ maxLength: ALT_MAX, description: 'Alternative text (describe the image for someone who cannot see it; empty for decoration)' }) },
  { additionalProperties: false },
);

export const ListMediaQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);

/** For the OpenAPI document only: the multipart body is read as a stream, not validated as an object. */
export const UploadBody = Type.Object(
  {
    file: Type.String({ format: 'binary', description: 'The image: JPEG, PNG, WebP, AVIF or GIF (recognised by its bytes), at most MEDIA_MAX_BYTES (20 MB by default) and 40 megapixels' }),
    alt: Type.Optional(Type.String({ maxLength: ALT_MAX, description: 'Alternative text' })),
  },
  { required: ['file'] },
);

export const FileParams = Type.Object({
  hash: Type.String({ pattern: '^[a-f0-9]{32}$', description: 'Content address of the image' }),
  file: Type.String({ pattern: '^[0-9]{1,5}\\.(jpeg|png|webp|avif|gif)$', description: '`{width}.{format}`' }),
});

export const mediaComponentSchemas = [Media];
