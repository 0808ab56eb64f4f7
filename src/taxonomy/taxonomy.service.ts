// Tags and authors: slug rules, conflicts, and the taxonomy.changed event after each write.
import { isUniqueViolation, type Db } from '../db/client.ts';
import type { ContentEvents } from '../events/content-events.ts';
import { AppError, notFound } from '../http/errors.ts';
import { isSlug, SLUG_MESSAGE, toSlug } from '../lib/slug.ts';
import * as repo from './taxonomy.repository.ts';
import type { AuthorInput, AuthorView, TagInput, TagView } from './taxonomy.schemas.ts';

export type TaxonomyKind = 'tag' | 'author';
type Input<K extends TaxonomyKind> = K extends 'tag' ? TagInput : AuthorInput;
type View<K extends TaxonomyKind> = K extends 'tag' ? TagView : AuthorView;

const WHAT: Record<TaxonomyKind, string> = { tag: 'Tag', author: 'Author' };

function checkedSlug(slug: string): string {
  if (!isSlug(slug)) {
    throw new AppError('validation', `/body/slug ${SLUG_MESSAGE}`, { errors: [{ pointer: '/body/slug', message: SLUG_MESSAGE }] });
  }
  return slug;
}

export class TaxonomyService {
  constructor(private readonly deps: { db: Db; events: ContentEvents }) {}

  listTags(): Promise<TagView[]> {
    return repo.listTags(this.deps.db);
  }

  listAuthors(): Promise<AuthorView[]> {
    return repo.listAuthors(this.deps.db);
  }

  async get<K extends TaxonomyKind>(kind: K, slug: string): Promise<View<K>> {
    const found = await this.find(kind, slug);
    if (!found) throw notFound(`${WHAT[kind]} "${slug}"`);
    return found;
  }

  async create<K extends TaxonomyKind>(kind: K, input: Input<K>): Promise<View<K>> {
    const slug = checkedSlug(input.slug ?? toSlug(input.name));
    const ok = kind === 'tag' ? await repo.insertTag(this.deps.db, { ...(input as TagInput), slug }) : await repo.insertAuthor(this.deps.db, { ...(input as AuthorInput), slug });
    if (!ok) throw new AppError('conflict', `${WHAT[kind]} "${slug}" already exists.`);
    await this.changed(kind, slug);
    return this.get(kind, slug);
  }

  async update<K extends TaxonomyKind>(kind: K, slug: string, input: Partial<Input<K>>): Promise<View<K>> {
    if (input.slug !== undefined) checkedSlug(input.slug);
    let ok: boolean;
    try {
      ok = kind === 'tag' ? await repo.updateTag(this.deps.db, slug, input as Partial<TagInput>) : await repo.updateAuthor(this.deps.db, slug, input as Partial<AuthorInput>);
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError('conflict', `${WHAT[kind]} "${input.slug}" already exists.`);
      throw e;
    }
    if (!ok) throw notFound(`${WHAT[kind]} "${slug}"`);
    await this.changed(kind, slug, ...(input.slug ? [input.slug] : []));
    return this.get(kind, input.slug ?? slug);
  }

  async remove(kind: TaxonomyKind, slug: string): Promise<void> {
    const ok = kind === 'tag' ? await repo.deleteTag(this.deps.db, slug) : await repo.deleteAuthor(this.deps.db, slug);
    if (!ok) throw notFound(`${WHAT[kind]} "${slug}"`);
    await this.changed(kind, slug);
  }

  private async find<K extends TaxonomyKind>(kind: K, slug: string): Promise<View<K> | null> {
    return (kind === 'tag' ? await repo.findTag(this.deps.db, slug) : await repo.findAuthor(this.deps.db, slug)) as View<K> | null;
  }

  private changed(kind: TaxonomyKind, ...slugs: string[]): Promise<void> {
    return this.deps.events.emit(this.deps.db, { type: 'taxonomy.changed', data: { kind, slugs } });
  }
}
