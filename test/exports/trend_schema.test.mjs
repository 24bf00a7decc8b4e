// `heapsnap trend --format json` against its published schema (docs/schemas/trend.schema.json), with
// ajv, a JSON Schema 2020-12 validator: the schema must describe what the command writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { directory, heapsnap, SOURCE } from './export_checks.mjs';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;

function writeSeries(times) {
  const frames = [
    { function: 'remember', filename: 'src/cache.cpp', lineno: 41 },
    { function: 'main', filename: 'src/main.cpp', lineno: 9 },
    { function: 'open_session', filename: 'src/session.cpp', lineno: 7 },
  ];
  return times.map((time, i) => {
    const file = path.join(directory, `series-${times.join('-')}-${i}.json`);
    fs.writeFileSync(file, JSON.stringify({
      format: 'heapsnap-snapshot', version: 1, traceback_limit: 8,
      process: { reason: 'interval', unix_time_ms: time }, frames,
      tracebacks: [{ frames: [0, 1] }, { frames: [2, 1] }],
      traces: [{ traceback: 0, size: 1000 * (i + 1), count: i + 1 }, { traceback: 1, size: i % 2 ? 100 : 900, count: 1 }],
    }));
    return file;
  });
}

test('trend JSON follows docs/schemas/trend.schema.json', () => {
  assert.ok(SOURCE, 'HEAPSNAP_SOURCE_DIR is not set');
  const schema = JSON.parse(fs.readFileSync(path.join(SOURCE, 'docs', 'schemas', 'trend.schema.json'), 'utf8'));
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  const cases = [
    [writeSeries([1000, 2000, 3000, 4000]), []],
    [writeSeries([1000, 2000, 3000, 4000]), ['--by', 'traceback', '--limit', '1']],
    [writeSeries([0, 0, 0, 0, 0]), ['--by', 'filename']],  // no times: the snapshot axis
  ];
  for (const [files, options] of cases) {
    const report = JSON.parse(heapsnap('trend', ...files, '--format', 'json', ...options));
    assert.ok(validate(report), `${options}: ${JSON.stringify(validate.errors)}`);
    assert.equal(report.sites[0].class, 'growing');
  }
  // And the schema rejects what breaks it.
  const report = JSON.parse(heapsnap('trend', ...cases[0][0], '--format', 'json'));
  report.sites[0].class = 'leaking';
  assert.ok(!validate(report));
});
