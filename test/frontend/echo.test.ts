// The social echo on the article page: one summary line per network, a facepile of likes
// and reposts, replies in the thread with their network. Rendered from the public API's
// shapes, as the page is.
import { describe, expect, it } from 'vitest';
import { networkSummaries } from '../../src/frontend/article.page.ts';
import type { Response } from '../../src/frontend/api.ts';

let id = 0;
const social = (network: Response['network'], kind: Response['kind'], name: string): Response => ({
  id: ++id,
  type: 'social',
  authorName: name,
  authorUrl: null,
  html: '',
  createdAt: '2026-11-20T10:00:00Z',
  parentId: null,
  network,
  kind,
  author: { name, url: `https://${network}.example/@${name}`, photo: null },
  url: null,
});

describe('networkSummaries', () => {
  it('says who mentioned the article, per network, as the seed blog did', () => {
    const lines = networkSummaries([
      social('x', 'mention', 'CareerSpace'),
      social('x', 'repost', 'RecruitersWorld'),
      social('bluesky', 'like', 'Ana'),
      social('bluesky', 'reply', 'Ben'),
      social('bluesky', 'like', 'Cy'),
      social('bluesky', 'repost', 'Di'),
      social('bluesky', 'like', 'Ed'),
      social('bluesky', 'like', 'Ana'),
      social('mastodon', 'like', 'Flo'),
    ]);
    expect(lines).toEqual([
      'Mentioned on X by CareerSpace and RecruitersWorld',
      'Mentioned on Bluesky by Ana, Ben and 3 others',
      'Mentioned on Mastodon by Flo',
    ]);
  });

  it('names three people rather than "2 and 1 other", and ignores comments', () => {
    const comment: Response = { ...social('web', 'reply', 'Zed'), type: 'comment', network: null, kind: null };
    expect(networkSummaries([social('web', 'like', 'A'), social('web', 'like', 'B'), social('web', 'like', 'C'), comment])).toEqual(['Mentioned on the web by A, B and C']);
  });
});
