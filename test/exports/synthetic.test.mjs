// Every export format of a synthetic snapshot that has what real ones rarely do at once: several
// domains and reachabilities on one stack, frames without a function or a line, ';' and a line break in
// names, an empty stack, blocks of 0 bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { checkExports, directory } from './export_checks.mjs';

test('a synthetic snapshot round-trips through every format', async () => {
  const frames = [
    { function: 'main', filename: 'src/main.cpp', lineno: 30 },
    { function: 'make_widget', filename: 'src/widget.cpp', lineno: 12 },
    { function: 'operator;weird', filename: 'src/odd.cpp', lineno: 3 },
    { function: 'two\nlines', filename: 'src/odd.cpp', lineno: 4 },
    { function: '', filename: 'app.py', lineno: 7 },                 // converted from Python: no function
    { function: 'std::vector<int, std::allocator<int> >::push_back(int const&)', filename: '/usr/include/c++/12/bits/stl_vector.h', lineno: 0 },
    { function: 'main', filename: 'src/main.cpp', lineno: 31 },      // same function, another line
  ];
  const snapshot = {
    format: 'heapsnap-snapshot', version: 1, traceback_limit: 16,
    process: { pid: 1, argv: ['demo'], executable: '/demo', reason: 'exit', unix_time_ms: 1767225600123 },
    memory: { current: 0, peak: 0 }, leak_analysis: true, sampling_rate: 0,
    frames: frames.map((f) => ({ ...f, module: '/demo', address: '0x401000' })),
    tracebacks: [
      { frames: [1, 0] }, { frames: [2, 0] }, { frames: [3, 2, 0] }, { frames: [4] }, { frames: [5, 6] }, { frames: [] },
    ],
    traces: [
      { domain: 0, traceback: 0, size: 1536, count: 2, reachability: 'direct' },
      { domain: 7, traceback: 0, size: 64, count: 1, reachability: 'direct' },   // another domain: added
      { domain: 0, traceback: 0, size: 4096, count: 1, reachability: 'reachable' },
      { domain: 0, traceback: 1, size: 100, count: 1, reachability: 'indirect' },
      { domain: 0, traceback: 2, size: 48, count: 1, reachability: 'cycle' },
      { domain: 0, traceback: 3, size: 700, count: 7, reachability: 'reachable' },
      { domain: 0, traceback: 4, size: 40, count: 10, reachability: 'reachable' },
      { domain: 0, traceback: 5, size: 9, count: 3, reachability: 'reachable' },
      { domain: 0, traceback: 1, size: 0, count: 2, reachability: 'reachable' },  // malloc(0): blocks, no bytes
    ],
  };
  const file = path.join(directory, 'synthetic.json');
  fs.writeFileSync(file, JSON.stringify(snapshot));
  const { pprof, collapsed, speedscope } = await checkExports(file);

  // The leak classification is a pprof label on each sample.
  const widget = 'main (src/main.cpp:30);make_widget (src/widget.cpp:12)';
  assert.deepEqual(pprof.labels.get(widget).sort(), ['reachability=direct', 'reachability=reachable']);
  assert.equal(pprof.blocks, 2 + 1 + 1 + 1 + 1 + 7 + 10 + 3 + 2);
  assert.equal(pprof.timeNanos, 1767225600123 * 1e6);
  // No frame name holds the separator or a line break.
  assert.equal(collapsed.stacks.get('main (src/main.cpp:30);operator:weird (src/odd.cpp:3);two lines (src/odd.cpp:4)'), 48);
  assert.ok(collapsed.stacks.has('app.py:7'));
  assert.equal(collapsed.stacks.get('<unknown>'), 9);
  // speedscope frames carry file and line; a frame with no line has none.
  assert.ok(speedscope.frames.some((f) => f.name === 'make_widget' && f.file === 'src/widget.cpp' && f.line === 12));
  assert.ok(speedscope.frames.some((f) => f.name.startsWith('std::vector') && !('line' in f)));
});

