// A WordPress export of any size, written as WordPress 6's exporter writes it, made as
// a stream of chunks (never whole in memory): for streaming tests and the import benchmark.

export interface GenerateOptions {
  posts: number;
  /** per post; every third one replies to the one before it */
  commentsPerPost: number;
  /** words in each post body */
  words?: number;
  site?: string;
}

const LOREM = 'the interview went well and the recruiter asked about the portfolio so we followed up with a note'.split(' ');

function words(n: number, seed: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += (i ? ' ' : '') + LOREM[(seed + i * 7) % LOREM.length] + (i % 60 === 59 ? '.\n\n' : '');
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');
function wpDate(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function* generateWxr(opts: GenerateOptions): Generator<string> {
  const site = opts.site ?? 'http://generated.example';
  yield `<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
	<title>Generated</title>
	<link>${site}</link>
	<wp:wxr_version>1.2</wp:wxr_version>
	<wp:base_site_url>${site}</wp:base_site_url>
	<wp:base_blog_url>${site}</wp:base_blog_url>
	<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[writer]]></wp:author_login><wp:author_display_name><![CDATA[The Writer]]></wp:author_display_name></wp:author>
`;
  let commentId = 1;
  const start = Date.UTC(2008, 0, 1);
  for (let p = 1; p <= opts.posts; p++) {
    const t = start + p * 3_600_000;
    let comments = '';
    for (let c = 0; c < opts.commentsPerPost; c++, commentId++) {
      const parent = c % 3 === 2 ? commentId - 1 : 0;
      comments += `
		<wp:comment>
			<wp:comment_id>${commentId}</wp:comment_id>
			<wp:comment_author><![CDATA[Reader ${commentId}]]></wp:comment_author>
			<wp:comment_author_email><![CDATA[reader${commentId}@example.com]]></wp:comment_author_email>
			<wp:comment_author_url>http://reader${commentId}.example.com/?a=1&b=2</wp:comment_author_url>
			<wp:comment_date><![CDATA[${wpDate(t + (c + 1) * 60_000)}]]></wp:comment_date>
			<wp:comment_date_gmt><![CDATA[${wpDate(t + (c + 1) * 60_000)}]]></wp:comment_date_gmt>
			<wp:comment_content><![CDATA[${words(30, commentId)}]]></wp:comment_content>
			<wp:comment_approved><![CDATA[${c % 10 === 9 ? '0' : '1'}]]></wp:comment_approved>
			<wp:comment_type><![CDATA[comment]]></wp:comment_type>
			<wp:comment_parent>${parent}</wp:comment_parent>
		</wp:comment>`;
    }
    yield `
	<item>
		<title><![CDATA[Generated post ${p}]]></title>
		<link>${site}/${new Date(t).getUTCFullYear()}/${pad(new Date(t).getUTCMonth() + 1)}/generated-post-${p}/</link>
		<dc:creator><![CDATA[writer]]></dc:creator>
		<content:encoded><![CDATA[${words(opts.words ?? 300, p)}]]></content:encoded>
		<excerpt:encoded><![CDATA[]]></excerpt:encoded>
		<wp:post_id>${p}</wp:post_id>
		<wp:post_date><![CDATA[${wpDate(t)}]]></wp:post_date>
		<wp:post_date_gmt><![CDATA[${wpDate(t)}]]></wp:post_date_gmt>
		<wp:comment_status><![CDATA[open]]></wp:comment_status>
		<wp:ping_status><![CDATA[open]]></wp:ping_status>
		<wp:post_name><![CDATA[generated-post-${p}]]></wp:post_name>
		<wp:status><![CDATA[publish]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		<wp:post_password><![CDATA[]]></wp:post_password>
		<category domain="post_tag" nicename="tag-${p % 20}"><![CDATA[Tag ${p % 20}]]></category>${comments}
	</item>`;
  }
  yield '\n</channel>\n</rss>\n';
}

/** The generator as bytes, batched into chunks of about `size` bytes. */
export async function* wxrBytes(opts: GenerateOptions, size = 256 * 1024): AsyncGenerator<Uint8Array> {
  let buf = '';
  for (const s of generateWxr(opts)) {
    buf += s;
    if (buf.length >= size) {
      yield Buffer.from(buf, 'utf8');
      buf = '';
    }
  }
  if (buf) yield Buffer.from(buf, 'utf8');
}
