// Reads heapsnap's exports with the real consumers' parsers (pinned in package.json), and turns each
// into the same shape for the tests to compare: weighted stacks, root first, keyed by frame names
// joined with ';'.
//   speedscope  JSON Schema validation against speedscope's file-format-schema.json (ajv), then
//               speedscope's own importer;
//   pprof       gunzip, then pprof-format's decoder (Datadog's), plus the validity rules of pprof's
//               Profile.CheckValid; speedscope's pprof importer as a second reader;
//   collapsed   an independent line parser, and speedscope's importer (it reads collapsed stacks).
import fs from 'node:fs';
import zlib from 'node:zlib';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { loadSpeedscopeImporters, speedscopeRelease } from './speedscope_importer.mjs';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const { Profile } = require('pprof-format');

let importers;
async function speedscope() {
  importers ??= await loadSpeedscopeImporters();
  return importers;
}

// Weighted stacks of a speedscope Profile object: the self weight of every call-tree node, keyed by
// its path from the root. `name(frame)` names a frame.
function profileStacks(profile, name) {
  const stacks = new Map();
  const visit = (node, path) => {
    const here = node.frame && node.frame.key !== '(speedscope root)' && path !== null ? [...path, name(node.frame)] : [];
    const self = node.getSelfWeight();
    if (self > 0 && here.length > 0) stacks.set(here.join(';'), (stacks.get(here.join(';')) ?? 0) + self);
    for (const child of node.children) visit(child, here);
  };
  visit(profile.getAppendOrderCalltreeRoot(), []);
  return stacks;
}

export async function readSpeedscope(file) {
  const text = fs.readFileSync(file, 'utf8');
  const document = JSON.parse(text);
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(speedscopeRelease().schema, 'utf8')));
  assert.ok(validate(document), `${file} breaks speedscope's file format schema: ${ajv.errorsText(validate.errors)}`);

  const group = await (await speedscope()).importProfileGroupFromText(file, text);
  assert.ok(group, `speedscope could not import ${file}`);
  assert.equal(group.profiles.length, 1);
  const profile = group.profiles[0];
  assert.equal(profile.getWeightUnit(), 'bytes');
  // speedscope's frames keep the file and line of the export: name them "name (file:line)".
  const name = (frame) => `${frame.name} (${frame.file}${frame.line ? `:${frame.line}` : ''})`;
  return { total: profile.getTotalWeight(), stacks: profileStacks(profile, name), frames: document.shared.frames };
}

export async function readPprof(file) {
  const compressed = fs.readFileSync(file);
  assert.deepEqual([...compressed.subarray(0, 2)], [0x1f, 0x8b], `${file} is not gzip-compressed`);
  const profile = Profile.decode(zlib.gunzipSync(compressed));
  const strings = profile.stringTable.strings;
  const string = (index) => {
    assert.ok(Number(index) < strings.length, `string index ${index} out of range`);
    return strings[Number(index)];
  };
  // pprof's Profile.CheckValid (github.com/google/pprof/profile): "" first, as many values as sample
  // types, ids non-zero and unique, every referenced id defined.
  assert.equal(strings[0], '');
  const types = profile.sampleType.map((t) => `${string(t.type)}/${string(t.unit)}`);
  // With per-site activity, Go's allocation sample types follow the in-use ones.
  const withActivity = types.length === 4;
  assert.deepEqual(types, ['inuse_objects/count', 'inuse_space/bytes',
    ...(withActivity ? ['alloc_objects/count', 'alloc_space/bytes'] : [])]);
  assert.equal(string(profile.defaultSampleType), 'inuse_space');
  const functions = new Map();
  for (const f of profile.function) {
    assert.ok(Number(f.id) > 0 && !functions.has(Number(f.id)), `bad function id ${f.id}`);
    functions.set(Number(f.id), f);
  }
  const locations = new Map();
  for (const l of profile.location) {
    assert.ok(Number(l.id) > 0 && !locations.has(Number(l.id)), `bad location id ${l.id}`);
    assert.ok(l.line.length > 0);
    for (const line of l.line) assert.ok(functions.has(Number(line.functionId)), `unknown function ${line.functionId}`);
    locations.set(Number(l.id), l);
  }
  const name = (locationId) => {
    const location = locations.get(Number(locationId));
    assert.ok(location, `unknown location ${locationId}`);
    const line = location.line[0];
    const f = functions.get(Number(line.functionId));
    return `${string(f.name)} (${string(f.filename)}${Number(line.line) ? `:${line.line}` : ''})`;
  };
  const stacks = new Map();       // stack -> live bytes, for the stacks with live blocks
  const allocated = new Map();    // stack -> [allocations, bytes allocated], with activity
  const labels = new Map();  // stack -> reachability
  let bytes = 0, blocks = 0;
  for (const sample of profile.sample) {
    assert.equal(sample.value.length, types.length, 'a value per sample type');
    const key = sample.locationId.map(name).reverse().join(';');  // leaf first in pprof
    if (Number(sample.value[0]) > 0) stacks.set(key, (stacks.get(key) ?? 0) + Number(sample.value[1]));
    if (withActivity) {
      const [calls, space] = allocated.get(key) ?? [0, 0];
      allocated.set(key, [calls + Number(sample.value[2]), space + Number(sample.value[3])]);
    }
    blocks += Number(sample.value[0]);
    bytes += Number(sample.value[1]);
    for (const label of sample.label) {
      labels.set(key, [...(labels.get(key) ?? []), `${string(label.key)}=${string(label.str)}`]);
    }
  }

  // speedscope reads pprof files too (its own protobuf decoder, and it gunzips them itself).
  const data = compressed.buffer.slice(compressed.byteOffset, compressed.byteOffset + compressed.byteLength);
  const group = await (await speedscope()).importProfilesFromArrayBuffer(file, data);
  assert.ok(group && group.profiles.length === 1, `speedscope could not import ${file}`);
  const imported = group.profiles[0];
  return {
    total: bytes, blocks, stacks, allocated, labels, timeNanos: Number(profile.timeNanos),
    speedscope: { total: imported.getTotalWeight(), unit: imported.getWeightUnit() },
  };
}

// The collapsed format, read by a parser of our own (the count is the last space-separated field;
// frames are separated by ';') and by speedscope's importer.
export async function readCollapsed(file) {
  const text = fs.readFileSync(file, 'utf8');
  const stacks = new Map();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const match = /^(.+) (\d+)$/.exec(line);
    assert.ok(match, `not a collapsed stack line: ${JSON.stringify(line)}`);
    const [, stack, count] = match;
    assert.ok(!stacks.has(stack), `stack listed twice: ${stack}`);
    assert.ok(stack.split(';').every((frame) => frame.length > 0), `empty frame in ${stack}`);
    stacks.set(stack, Number(count));
    total += Number(count);
  }
  assert.ok(text.endsWith('\n') || text === '');

  const group = await (await speedscope()).importProfileGroupFromText(file, text);
  assert.ok(group && group.profiles.length === 1, `speedscope could not import ${file}`);
  const imported = profileStacks(group.profiles[0], (frame) => frame.name);
  return { total, stacks, speedscope: { total: group.profiles[0].getTotalWeight(), stacks: imported } };
}
