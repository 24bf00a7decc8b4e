// `heapsnap export`'s command line: where the output goes, and what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { directory, heapsnap, HEAPSNAP } from './export_checks.mjs';

test('text formats go to standard output; pprof needs -o; an existing file is kept', () => {
  const file = path.join(directory, 'tiny.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'heapsnap-snapshot', version: 1, traceback_limit: 1, frames: [{ filename: 'a.c', lineno: 1, function: 'f' }], tracebacks: [{ frames: [0] }], traces: [{ traceback: 0, size: 5, count: 1 }] }));
  assert.equal(heapsnap('export', file, '--format', 'collapsed'), 'f (a.c:1) 5\n');
  assert.equal(heapsnap('export', file, '--format', 'collapsed', '-o', '-'), 'f (a.c:1) 5\n');
  assert.equal(JSON.parse(heapsnap('export', file, '--format', 'speedscope')).profiles[0].endValue, 5);
  const refused = spawnSync(HEAPSNAP, ['export', file, '--format', 'pprof'], { encoding: 'utf8' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /binary/);
  const out = path.join(directory, 'kept.collapsed');
  fs.writeFileSync(out, 'precious');
  const kept = spawnSync(HEAPSNAP, ['export', file, '--format', 'collapsed', '-o', out], { encoding: 'utf8' });
  assert.equal(kept.status, 2);
  assert.match(kept.stderr, /already exists/);
  assert.equal(fs.readFileSync(out, 'utf8'), 'precious');
  assert.equal(spawnSync(HEAPSNAP, ['export', file, '--format', 'collapsed', '-o', out, '--force']).status, 0);
  assert.equal(fs.readFileSync(out, 'utf8'), 'f (a.c:1) 5\n');
});
