import { twoWordQueries } from '../bench/requests.ts';
import { writeFileSync } from 'node:fs';
const paths = twoWordQueries().map((q) => `/v1/articles?q=${q}`);
writeFileSync('/tmp/search-spec.json', JSON.stringify({ url: 'http://127.0.0.1:4555' + paths[0], method: 'GET', headers: { 'accept-encoding': 'gzip, deflate, br' }, paths, connections: 50, duration: 8, pathOffset: Number(process.argv[2] ?? 0) }));
