#!/usr/bin/env node
// Times one ONNX model in ONNX Runtime (CPU execution provider, npm package
// onnxruntime-node) for bench/speed.py.
//
//   node ort_bench.js MODEL.onnx --input IN.npy [--threads T] [--repeat N]
//                     [--warmup W] [--warmup-ms MS] [--optimized-model OPT.onnx]
//                     [--output OUT.npy] [--ort-dir DIR]
//
// The session uses the CPU EP, graph optimization level 'all', sequential
// execution, interOpNumThreads 1 and intraOpNumThreads T (default 1). The
// model must have one input; IN.npy (float32, C order) is its value (the
// first sample's worth of elements are used when it holds more). The session
// runs as a warm-up at least W times (default 10) and for at least MS
// milliseconds (default 250: node's JIT and ORT's allocators settle), then N
// times (default 50), each `await session.run()` timed on its own with
// process.hrtime, and one JSON line goes to stdout:
//
//   {"median_ms":..,"best_ms":..,"mean_ms":..,"repeat":N,"warmup":W,
//    "threads":T,"ort":"1.30.0","input":"name","shape":[..]}
//
// The time includes onnxruntime-node's own per-call overhead (binding the
// input and output tensors in JavaScript; a few tens of microseconds).
// --optimized-model writes the graph ORT executes after its fusions (e.g.
// Q/DQ groups into QLinearConv). --output writes the model's first output
// (float32) of the last run as .npy, for a sanity check of the other side. The module is looked up in --ort-dir
// (default <repo>/.deps/ort, where scripts/install-ort.sh puts it); if it is
// not there or does not load, the script says so and exits with code 77.
'use strict';

const fs = require('fs');
const path = require('path');

const EXIT_NO_ORT = 77;

function die(msg, code = 1) {
  process.stderr.write(`ort_bench: error: ${msg}\n`);
  process.exit(code);
}

// Reads a little-endian float32 C-order .npy file: { shape, data }.
function readFloatNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    die(`cannot read ${file}: ${e.message}`);
  }
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    die(`${file} is not an .npy file`);
  }
  const major = buf[6];
  const lenBytes = major === 1 ? 2 : 4;
  const headerLen = lenBytes === 2 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes + headerLen;
  const header = buf.toString('latin1', 8 + lenBytes, start);
  if (!/'descr':\s*'<f4'/.test(header) || !/'fortran_order':\s*False/.test(header)) {
    die(`${file} must be a C-order little-endian float32 array (header ${header.trim()})`);
  }
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) die(`${file}: no shape in the .npy header`);
  const shape = m[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length < start + 4 * count) die(`${file} is truncated`);
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(buf.subarray(start, start + 4 * count));
  return { shape, data };
}

function writeFloatNpy(file, shape, data) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // magic (6) + version (2) + length (2) + header + '\n': a multiple of 64.
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(header.length, 8);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), bytes]));
  } catch (e) {
    die(`cannot write ${file}: ${e.message}`);
  }
}

function parseArgs(argv) {
  const args = {
    model: null,
    input: null,
    threads: 1,
    repeat: 50,
    warmup: 10,
    warmupMs: 250,
    optimized: null,
    output: null,
    ortDir: null,
  };
  const count = (a, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) die(`${a} needs an integer >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--input' || a === '-i') args.input = next();
    else if (a === '--threads') args.threads = count(a, next(), 1);
    else if (a === '--repeat') args.repeat = count(a, next(), 1);
    else if (a === '--warmup') args.warmup = count(a, next(), 0);
    else if (a === '--warmup-ms') args.warmupMs = count(a, next(), 0);
    else if (a === '--optimized-model') args.optimized = next();
    else if (a === '--output' || a === '-o') args.output = next();
    else if (a === '--ort-dir') args.ortDir = next();
    else if (a.startsWith('-')) die(`unknown option ${a}`);
    else if (!args.model) args.model = a;
    else die(`unexpected argument ${a}`);
  }
  if (!args.model || !args.input) {
    die('usage: ort_bench.js MODEL.onnx --input IN.npy [--threads T] [--repeat N] [--warmup W] '
        + '[--warmup-ms MS] [--optimized-model OPT.onnx] [--output OUT.npy] [--ort-dir DIR]');
  }
  return args;
}

function loadOrt(explicitDir) {
  const dir = explicitDir || path.resolve(__dirname, '..', '.deps', 'ort');
  const mod = path.join(dir, 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(path.join(mod, 'package.json'))) {
    die(`onnxruntime-node not installed (no ${mod}; run scripts/install-ort.sh)`, EXIT_NO_ORT);
  }
  try {
    const ort = require(mod);
    const version = require(path.join(mod, 'package.json')).version;
    return { ort, version };
  } catch (e) {
    return die(`onnxruntime-node in ${mod} does not load: ${e.message}`, EXIT_NO_ORT);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { ort, version } = loadOrt(args.ortDir);

  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  if (args.optimized) options.optimizedModelFilePath = path.resolve(args.optimized);
  let session;
  try {
    session = await ort.InferenceSession.create(path.resolve(args.model), options);
  } catch (e) {
    die(`ONNX Runtime cannot load ${args.model}: ${e.message}`);
  }
  if (session.inputNames.length !== 1) {
    die(`the model has ${session.inputNames.length} inputs; ort_bench.js times one-input models`);
  }
  const name = session.inputNames[0];
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (meta && meta.type && meta.type !== 'float32') die(`input '${name}' is ${meta.type}, not float32`);
  const dims = meta && Array.isArray(meta.shape) ? meta.shape : null;
  if (!dims || !dims.every((d) => typeof d === 'number' && d > 0)) {
    die(`input '${name}' has no static shape (${JSON.stringify(dims)})`);
  }
  const elements = dims.reduce((a, b) => a * b, 1);
  const npy = readFloatNpy(args.input);
  if (npy.data.length < elements || npy.data.length % elements !== 0) {
    die(`${args.input} holds ${npy.data.length} values, not a multiple of the input's ${elements}`);
  }
  const feed = { [name]: new ort.Tensor('float32', npy.data.subarray(0, elements), dims) };

  const run = async () => {
    try {
      return await session.run(feed);
    } catch (e) {
      return die(`ONNX Runtime failed to run ${args.model}: ${e.message}`);
    }
  };
  const warmStart = process.hrtime.bigint();
  let warmups = 0;
  while (warmups < args.warmup
         || Number(process.hrtime.bigint() - warmStart) / 1e6 < args.warmupMs) {
    await run();
    warmups++;
  }
  const times = [];
  let result = null;
  for (let i = 0; i < args.repeat; i++) {
    const t0 = process.hrtime.bigint();
    result = await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (args.output) {
    const out = result[session.outputNames[0]];
    if (out.type !== 'float32') die(`output '${session.outputNames[0]}' is ${out.type}, not float32`);
    writeFloatNpy(args.output, out.dims, out.data);
  }
  const sorted = times.slice().sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  const mean = times.reduce((a, b) => a + b, 0) / n;
  process.stdout.write(`${JSON.stringify({
    median_ms: median,
    best_ms: sorted[0],
    mean_ms: mean,
    repeat: n,
    warmup: warmups,
    threads: args.threads,
    ort: version,
    input: name,
    shape: dims,
  })}\n`);
}

main().catch((e) => die(e.stack || String(e)));
