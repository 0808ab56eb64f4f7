// What an import did, per kind: imported, updated, unchanged, skipped with reasons;
// and the notes an operator should read (repairs, renamed slugs, orphaned replies).

export const REPORT_KINDS = ['posts', 'comments', 'pingbacks', 'authors', 'tags', 'redirects', 'images'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export type Outcome = 'imported' | 'updated' | 'unchanged';

export interface KindCounts {
  imported: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** reason → how many */
  reasons: Record<string, number>;
}

export interface Note {
  line: number;
  text: string;
  /** repaired: a slip in the file; slug: a renamed slug; parent: a reply made top-level; redirect: an address kept elsewhere; media: an image not brought over */
  category: 'repaired' | 'slug' | 'parent' | 'redirect' | 'media';
}

/** Notes kept in full; beyond it they are only counted. */
const MAX_NOTES = 200;

export class ImportReport {
  dryRun = false;
  /** the import was interrupted after this many of the items and comments */
  stoppedAt: { done: number; total: number } | null = null;
  source = { site: '', wxrVersion: '', title: '' };
  readonly kinds = Object.fromEntries(REPORT_KINDS.map((k) => [k, { imported: 0, updated: 0, unchanged: 0, skipped: 0, reasons: {} }])) as Record<ReportKind, KindCounts>;
  readonly notes: Note[] = [];
  readonly noteCounts: Record<Note['category'], number> = { repaired: 0, slug: 0, parent: 0, redirect: 0, media: 0 };
  /** --media: images are brought over (the images row is shown) */
  media = false;
  /** --media in a dry run: images not brought over yet, which the import would fetch */
  imagesToFetch = 0;

  count(kind: ReportKind, outcome: Outcome): void {
    this.kinds[kind][outcome]++;
  }

  skip(kind: ReportKind, reason: string): void {
    const k = this.kinds[kind];
    k.skipped++;
    k.reasons[reason] = (k.reasons[reason] ?? 0) + 1;
  }

  note(line: number, text: string, category: Note['category']): void {
    this.noteCounts[category]++;
    if (this.notes.length < MAX_NOTES) this.notes.push({ line, text, category });
  }

  /** Did the import write (or, in a dry run, would it write) anything? */
  get changed(): boolean {
    return REPORT_KINDS.some((k) => this.kinds[k].imported + this.kinds[k].updated > 0);
  }

  /** The closing report, as the CLI prints it. */
  format(): string {
    const lines: string[] = [];
    const head = `WordPress import from ${this.source.site} (WXR ${this.source.wxrVersion})`;
    lines.push(this.dryRun ? `${head}: dry run, nothing was written` : head, '');
    const cols = ['imported', 'updated', 'unchanged', 'skipped'] as const;
    lines.push(`  ${''.padEnd(10)}${cols.map((c) => c.padStart(10)).join('')}`);
    for (const k of REPORT_KINDS.filter((k) => k !== 'images' || this.media)) lines.push(`  ${k.padEnd(10)}${cols.map((c) => String(this.kinds[k][c]).padStart(10)).join('')}`);
    const skipped = REPORT_KINDS.filter((k) => this.kinds[k].skipped);
    if (skipped.length) {
      lines.push('', 'Skipped:');
      for (const k of skipped) {
        for (const [reason, n] of Object.entries(this.kinds[k].reasons)) lines.push(`  ${k}: ${n} × ${reason}`);
      }
    }
    if (this.notes.length) {
      lines.push('', 'Notes:');
      for (const n of this.notes) lines.push(`  line ${n.line}: ${n.text}`);
      const total = Object.values(this.noteCounts).reduce((a, b) => a + b, 0);
      if (total > this.notes.length) lines.push(`  … and ${total - this.notes.length} more (${Object.entries(this.noteCounts).map(([c, n]) => `${c} ${n}`).join(', ')})`);
    }
    if (this.stoppedAt) lines.push('', `Interrupted after ${this.stoppedAt.done} of ${this.stoppedAt.total} items: what is in is consistent; run the same command again to continue.`);
    if (!this.media) lines.push('', 'Images stay where they are, on the old site: --media fetches and re-hosts them.');
    else if (this.dryRun) lines.push('', `Images: ${this.imagesToFetch} to fetch with --media (a dry run fetches nothing).`);
    if (!this.dryRun && !this.changed && !this.stoppedAt) lines.push('Nothing changed: everything in this export was imported before.');
    return lines.join('\n');
  }
}
