// npm run build:report [-- --dist dist] — what a production build holds: the service worker's
// precache (files, bytes, JavaScript bytes, files with identical content) and, for each tfjs
// library, the JavaScript files that carry a copy of it. Prints JSON. Build first (npm run build).
import path from 'node:path';
import { optString, parseArgsOrExit } from './lib/args';
import { libraryCopies, precacheSummary } from './lib/build-report';

const args = parseArgsOrExit(process.argv.slice(2), {
  usage: `usage: npm run build:report [-- --dist <folder>]
  --dist  the built site (default dist/, as npm run build writes it)`,
  options: { dist: 'string' },
});
const dist = path.resolve(optString(args, 'dist', 'dist'));
const copies = libraryCopies(dist);
process.stdout.write(
  JSON.stringify(
    { dist, precache: precacheSummary(dist), libraryCopies: Object.fromEntries(Object.entries(copies).map(([lib, files]) => [lib, files.length])) },
    null,
    2,
  ) + '\n',
);
