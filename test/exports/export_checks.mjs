// What the export tests share: running heapsnap, exporting a snapshot to every format, and checking
// each export, read by its consumers' own parsers (consumers.mjs), against the snapshot itself: the same
// live bytes, stack by stack. The tests run under ctest (CMakeLists.txt) with
//   HEAPSNAP_BIN          the heapsnap binary
//   HEAPSNAP_SAMPLES_BIN  the directory of the built samples (for leaky.test.mjs)
//   HEAPSNAP_SOURCE_DIR   the source tree
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readCollapsed, readPprof, readSpeedscope } from './consumers.mjs';

export const HEAPSNAP = process.env.HEAPSNAP_BIN;
export const SAMPLES = process.env.HEAPSNAP_SAMPLES_BIN;
export const SOURCE = process.env.HEAPSNAP_SOURCE_DIR;
assert.ok(HEAPSNAP, 'HEAPSNAP_BIN is not set');

export const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'heapsnap-exports-'));
process.on('exit', () => fs.rmSync(directory, { recursive: true, force: true }));

export function heapsnap(...args) {
  return execFileSync(HEAPSNAP, args, { cwd: directory, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function exportAll(snapshot) {
  const files = {
    speedscope: path.join(directory, `${path.basename(snapshot)}.speedscope.json`),
    pprof: path.join(directory, `${path.basename(snapshot)}.pb.gz`),
    collapsed: path.join(directory, `${path.basename(snapshot)}.collapsed`),
  };
  for (const [format, file] of Object.entries(files)) heapsnap('export', snapshot, '--format', format, '-o', file);
  return files;
}

// What every export must hold, computed here from the snapshot file: live bytes per stack, root first,
// each frame named by `name(frame)`; stacks of 0 bytes are left out, equal stacks added together.
function expectedStacks(snapshot, name) {
  const stacks = new Map();
  for (const trace of snapshot.traces) {
    if (trace.size === 0) continue;
    const frames = snapshot.tracebacks[trace.traceback].frames.map((index) => snapshot.frames[index]);
    const names = frames.length ? frames.map(name) : [name({ filename: '<unknown>', lineno: 0, function: '' })];
    const key = names.reverse().join(';');
    stacks.set(key, (stacks.get(key) ?? 0) + trace.size);
  }
  return stacks;
}
const where = (frame) => `${frame.filename}${frame.lineno ? `:${frame.lineno}` : ''}`;
// speedscope and pprof keep the function, file and line apart; this names them alike.
const detailedName = (frame) => `${frame.function || where(frame)} (${frame.filename}${frame.lineno ? `:${frame.lineno}` : ''})`;
// The collapsed format's own frame names, with ';' and line breaks taken out.
const collapsedName = (frame) =>
  (frame.function ? `${frame.function} (${where(frame)})` : where(frame)).replaceAll(';', ':').replace(/[\r\n]/g, ' ');

const totalBytes = (snapshot) => snapshot.traces.reduce((sum, trace) => sum + trace.size, 0);
const totalBlocks = (snapshot) => snapshot.traces.reduce((sum, trace) => sum + trace.count, 0);

export async function checkExports(snapshotFile) {
  // The snapshot as every command reads it: frames of stripped modules named from local debug files.
  const named = path.join(directory, `${path.basename(snapshotFile)}.named.json`);
  heapsnap('symbolize', snapshotFile, '-o', named, '--force', '--no-debuginfod');
  const snapshot = JSON.parse(fs.readFileSync(named, 'utf8'));
  const files = exportAll(snapshotFile);

  const speedscope = await readSpeedscope(files.speedscope);
  assert.equal(speedscope.total, totalBytes(snapshot));
  assert.deepEqual(speedscope.stacks, expectedStacks(snapshot, detailedName));

  const pprof = await readPprof(files.pprof);
  assert.equal(pprof.total, totalBytes(snapshot));
  assert.equal(pprof.blocks, totalBlocks(snapshot));
  const withZero = new Map([...expectedStacks(snapshot, detailedName)]);
  for (const [stack, bytes] of pprof.stacks) if (bytes > 0) assert.equal(withZero.get(stack), bytes, stack);
  assert.equal([...pprof.stacks.values()].filter((b) => b > 0).length, withZero.size);
  assert.equal(pprof.speedscope.total, totalBytes(snapshot));
  assert.equal(pprof.speedscope.unit, 'bytes');

  const collapsed = await readCollapsed(files.collapsed);
  assert.equal(collapsed.total, totalBytes(snapshot));
  assert.deepEqual(collapsed.stacks, expectedStacks(snapshot, collapsedName));
  assert.equal(collapsed.speedscope.total, totalBytes(snapshot));
  assert.deepEqual(collapsed.speedscope.stacks, collapsed.stacks);
  return { snapshot, files, speedscope, pprof, collapsed };
}

