// The leaky sample profiled for real, then exported: its known leak, 300 bytes in 3 blocks at
// make_buffer (samples/leaky.cpp, LEAK SITE 1), must come out of every consumer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { checkExports, directory, HEAPSNAP, SAMPLES, SOURCE } from './export_checks.mjs';

test('the leaky sample: 300 bytes at make_buffer in every format', async () => {
  assert.ok(SAMPLES && SOURCE, 'HEAPSNAP_SAMPLES_BIN and HEAPSNAP_SOURCE_DIR must be set');
  const source = path.join(SOURCE, 'samples', 'leaky.cpp');
  const leakLine = fs.readFileSync(source, 'utf8').split('\n').findIndex((l) => l.includes('LEAK SITE 1')) + 1;
  const run = spawnSync(HEAPSNAP, ['run', '--quiet', '-o', 'leaky.json', '--', path.join(SAMPLES, 'leaky')], { cwd: directory });
  assert.equal(run.status, 0, String(run.stderr));
  const { pprof, collapsed, speedscope } = await checkExports(path.join(directory, 'leaky.json'));

  // Snapshot file names are as the compiler saw them: absolute or relative to the build. Function names
  // too: clang's debug information adds the anonymous namespace and the parameters to GCC's bare name.
  const shortName = (name) => name.replace(/^\(anonymous namespace\)::/, '').replace(/\([^()]*\)$/, '');
  const isLeaf = (frame) => /^(?:\(anonymous namespace\)::)?make_buffer(?:\([^()]*\))? \(.*samples\/leaky\.cpp:(\d+)\)$/.exec(frame)?.[1] === String(leakLine);
  const stackOf = (stacks) => [...stacks.keys()].find((stack) => isLeaf(stack.split(';').at(-1)));
  for (const [format, stacks] of [['speedscope', speedscope.stacks], ['pprof', pprof.stacks], ['collapsed', collapsed.stacks]]) {
    const atMakeBuffer = [...stacks].filter(([stack]) => isLeaf(stack.split(';').at(-1)));
    assert.equal(atMakeBuffer.length, 1, `${format}: one stack ends at make_buffer's leak: ${[...stacks.keys()].join('\n')}`);
    assert.equal(atMakeBuffer[0][1], 300, format);
    // Root first: main calls leak_buffers, which calls make_buffer.
    const functions = atMakeBuffer[0][0].split(';').map((frame) => shortName(frame.replace(/ \([^()]*\)$/, '')));
    assert.equal(functions.at(-2), 'leak_buffers', `${format}: ${functions}`);
    assert.ok(functions.indexOf('main') >= 0 && functions.indexOf('main') < functions.length - 2, `${format}: ${functions}`);
  }
  assert.deepEqual(pprof.labels.get(stackOf(pprof.stacks)), ['reachability=direct']);
  // Go's allocation sample types: the three calls of that stack and their 300 bytes; the fourth call,
  // from main, made a block freed right after, on a stack of its own with nothing live.
  assert.deepEqual(pprof.allocated.get(stackOf(pprof.stacks)), [3, 300]);
  const scratch = [...pprof.allocated].filter(([stack]) => isLeaf(stack.split(';').at(-1)) && !pprof.stacks.has(stack));
  assert.deepEqual(scratch.map(([, counts]) => counts), [[1, 100]]);
});

