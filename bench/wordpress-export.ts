// Writes a generated WordPress export to a file, for measuring the import by hand:
//   node --import tsx bench/wordpress-export.ts /tmp/big.xml 10000 10
//   /usr/bin/time -v env DATA_DIR=/tmp/big-data npm run -s cli -- import wordpress /tmp/big.xml
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { wxrBytes } from '../test/helpers/wxr-generate.ts';

const [file, posts = '10000', perPost = '10'] = process.argv.slice(2);
if (!file) {
  console.error('usage: bench/wordpress-export.ts FILE [POSTS] [COMMENTS_PER_POST]');
  process.exit(2);
}
const out = createWriteStream(file);
for await (const chunk of wxrBytes({ posts: Number(posts), commentsPerPost: Number(perPost) })) {
  if (!out.write(chunk)) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
console.log(`${file}: ${posts} posts, ${Number(posts) * Number(perPost)} comments, ${(out.bytesWritten / 1024 / 1024).toFixed(1)} MB`);
