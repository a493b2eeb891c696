#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (CPU execution provider, from the npm
// package onnxruntime-node) on .npy inputs and writes the outputs as .npy.
// It is the oracle side of test/Oracle/torch_qdq_oracle.py.
//
//   node ort_run.js MODEL.onnx [--input [NAME=]IN.npy]... -o OUT.npy|OUT_DIR
//                   [--optimized-model OPT.onnx] [--ort-dir DIR]
//
// - One --input per graph input, in order, or NAME=FILE by name.
// - Like `lowbitc --run`, an input whose leading dimension is a multiple k of
//   the model's (static) leading dimension iterates the model k times and
//   the outputs are stacked along the leading dimension.
// - One graph output: -o is the .npy file; several: -o is a folder that gets
//   <output name>.npy each.
// - --optimized-model writes the graph ONNX Runtime actually executes (after
//   its QDQ fusions, e.g. into QLinearConv) and the op types it contains are
//   printed as "ort: executed ops: ..." on stdout.
// - The module is looked up in --ort-dir (default <repo>/.deps/ort, where
//   scripts/install-ort.sh puts it) as DIR/node_modules/onnxruntime-node.
//   If it is not there, or does not load, the script says so and exits with
//   code 77.
//
// .npy support: version 1.0/2.0/3.0 headers, C order, little-endian float32,
// float64, int8, uint8, int16, uint16, int32, int64, bool. Written files are
// version 1.0.
'use strict';

const fs = require('fs');
const path = require('path');

const EXIT_NO_ORT = 77;

function die(msg, code = 1) {
  process.stderr.write(`ort_run: error: ${msg}\n`);
  process.exit(code);
}

// ---------------------------------------------------------------- .npy I/O

// numpy descr (without byte order) <-> ORT tensor type and typed array.
const DTYPES = {
  f4: { ort: 'float32', array: Float32Array },
  f8: { ort: 'float64', array: Float64Array },
  i1: { ort: 'int8', array: Int8Array },
  u1: { ort: 'uint8', array: Uint8Array },
  i2: { ort: 'int16', array: Int16Array },
  u2: { ort: 'uint16', array: Uint16Array },
  i4: { ort: 'int32', array: Int32Array },
  u4: { ort: 'uint32', array: Uint32Array },
  i8: { ort: 'int64', array: BigInt64Array },
  b1: { ort: 'bool', array: Uint8Array },
};
const ORT_TO_DESCR = {};
for (const [d, t] of Object.entries(DTYPES)) ORT_TO_DESCR[t.ort] = d;

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
  if (buf.length < 10 || !buf.subarray(0, 6).equals(magic)) die(`${file}: not a .npy file`);
  const major = buf[6];
  let headerLen;
  let offset;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) die(`${file}: truncated .npy header`);
    headerLen = buf.readUInt32LE(8);
    offset = 12;
  } else {
    die(`${file}: unsupported .npy version ${major}`);
  }
  if (offset + headerLen > buf.length) die(`${file}: truncated .npy header`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', offset, offset + headerLen);
  const descrM = header.match(/'descr'\s*:\s*'([^']*)'/);
  const fortranM = header.match(/'fortran_order'\s*:\s*(True|False)/);
  const shapeM = header.match(/'shape'\s*:\s*\(([^)]*)\)/);
  if (!descrM || !fortranM || !shapeM) die(`${file}: malformed .npy header: ${header.trim()}`);
  if (fortranM[1] === 'True') die(`${file}: Fortran-order .npy is not supported`);
  let descr = descrM[1];
  const order = descr[0];
  if (order === '>' && !descr.endsWith('1')) die(`${file}: big-endian .npy is not supported`);
  if ('<>|='.includes(order)) descr = descr.slice(1);
  const dt = DTYPES[descr];
  if (!dt) die(`${file}: unsupported .npy dtype '${descrM[1]}'`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  const nbytes = count * dt.array.BYTES_PER_ELEMENT;
  if (start + nbytes > buf.length) die(`${file}: .npy data is truncated (${buf.length - start} of ${nbytes} bytes)`);
  // Copy into an aligned buffer (the data offset need not be aligned).
  const data = new dt.array(count);
  new Uint8Array(data.buffer).set(buf.subarray(start, start + nbytes));
  return { type: dt.ort, shape, data };
}

function writeNpy(file, type, shape, data) {
  const descr = ORT_TO_DESCR[type];
  if (!descr) die(`cannot write output of type ${type} as .npy`);
  const order = descr.endsWith('1') ? '|' : '<';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${order}${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), bytes]));
}

// ---------------------------------------------------------------- ORT

function loadOrt(explicitDir) {
  const dir = explicitDir || path.resolve(__dirname, '..', '..', '.deps', 'ort');
  const mod = path.join(dir, 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(path.join(mod, 'package.json'))) {
    die(`onnxruntime-node not installed (no ${mod}; run scripts/install-ort.sh)`, EXIT_NO_ORT);
  }
  try {
    return require(mod);
  } catch (e) {
    die(`onnxruntime-node in ${mod} does not load: ${e.message}`, EXIT_NO_ORT);
  }
}

function parseArgs(argv) {
  const args = { model: null, inputs: [], output: null, optimized: null, ortDir: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--input' || a === '-i') args.inputs.push(next());
    else if (a === '-o' || a === '--output') args.output = next();
    else if (a === '--optimized-model') args.optimized = next();
    else if (a === '--ort-dir') args.ortDir = next();
    else if (a.startsWith('-')) die(`unknown option ${a}`);
    else if (!args.model) args.model = a;
    else die(`unexpected argument ${a}`);
  }
  if (!args.model || !args.output) {
    die('usage: ort_run.js MODEL.onnx [--input [NAME=]IN.npy]... -o OUT.npy|OUT_DIR [--optimized-model OPT.onnx] [--ort-dir DIR]');
  }
  return args;
}

// Op types of an ONNX ModelProto, read from the protobuf wire format without
// a protobuf library: ModelProto.graph (7) -> GraphProto.node (1) ->
// NodeProto.op_type (4) and NodeProto.domain (7).
function onnxOpTypes(file) {
  const buf = fs.readFileSync(file);
  function varint(b, pos) {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = b[pos++];
      v += (byte & 0x7f) * mul;
      if (!(byte & 0x80)) return [v, pos];
      mul *= 128;
    }
  }
  function fields(b, start, end, cb) {
    let pos = start;
    while (pos < end) {
      let key;
      [key, pos] = varint(b, pos);
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) {
        [, pos] = varint(b, pos);
      } else if (wire === 1) {
        pos += 8;
      } else if (wire === 5) {
        pos += 4;
      } else if (wire === 2) {
        let len;
        [len, pos] = varint(b, pos);
        cb(field, pos, pos + len);
        pos += len;
      } else {
        throw new Error(`unsupported protobuf wire type ${wire}`);
      }
    }
  }
  const counts = {};
  fields(buf, 0, buf.length, (f, s, e) => {
    if (f !== 7) return; // graph
    fields(buf, s, e, (gf, gs, ge) => {
      if (gf !== 1) return; // node
      let op = '';
      let domain = '';
      fields(buf, gs, ge, (nf, ns, ne) => {
        if (nf === 4) op = buf.toString('utf8', ns, ne);
        else if (nf === 7) domain = buf.toString('utf8', ns, ne);
      });
      const key = domain && domain !== 'ai.onnx' ? `${domain}.${op}` : op;
      counts[key] = (counts[key] || 0) + 1;
    });
  });
  return counts;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt(args.ortDir);

  const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  if (args.optimized) options.optimizedModelFilePath = path.resolve(args.optimized);
  let session;
  try {
    session = await ort.InferenceSession.create(path.resolve(args.model), options);
  } catch (e) {
    die(`ONNX Runtime cannot load ${args.model}: ${e.message}`);
  }

  const meta = {};
  for (const m of session.inputMetadata) meta[m.name] = m;

  // Bind inputs by position or by name.
  const feeds = {};
  args.inputs.forEach((spec, idx) => {
    const eq = spec.indexOf('=');
    let name;
    let file;
    if (eq > 0 && !fs.existsSync(spec)) {
      name = spec.slice(0, eq);
      file = spec.slice(eq + 1);
      if (!meta[name]) die(`the model has no input named '${name}' (inputs: ${session.inputNames.join(', ')})`);
    } else {
      if (idx >= session.inputNames.length) die(`more inputs than the model's ${session.inputNames.length}`);
      name = session.inputNames[idx];
      file = spec;
    }
    if (feeds[name]) die(`input '${name}' given twice`);
    feeds[name] = readNpy(file);
  });
  for (const name of session.inputNames) {
    if (!feeds[name]) die(`no .npy given for input '${name}'`);
  }

  // How many times to iterate the model over the leading dimension.
  let iterations = null;
  const per = {};
  for (const name of session.inputNames) {
    const t = feeds[name];
    const m = meta[name];
    if (t.type !== m.type) die(`input '${name}': the model expects ${m.type}, the .npy is ${t.type}`);
    const mshape = m.shape;
    const staticShape = mshape.every((d) => typeof d === 'number' && d > 0);
    let k = 1;
    let sliceShape = t.shape;
    if (staticShape) {
      if (t.shape.length !== mshape.length || t.shape.slice(1).some((d, i) => d !== mshape[i + 1])) {
        die(`input '${name}': shape [${t.shape}] does not match the model's [${mshape}]`);
      }
      if (mshape.length === 0 || t.shape[0] % mshape[0] !== 0) {
        die(`input '${name}': leading dimension ${t.shape[0]} is not a multiple of the model's ${mshape[0]}`);
      }
      k = t.shape[0] / mshape[0];
      sliceShape = mshape;
    }
    if (iterations !== null && k !== iterations) die('inputs iterate the model a different number of times');
    iterations = k;
    per[name] = { sliceShape, sliceSize: sliceShape.reduce((a, b) => a * b, 1) };
  }
  if (iterations === null) iterations = 1;

  const outputs = {};
  for (let it = 0; it < iterations; it++) {
    const feed = {};
    for (const name of session.inputNames) {
      const t = feeds[name];
      const { sliceShape, sliceSize } = per[name];
      const data = iterations === 1 ? t.data : t.data.subarray(it * sliceSize, (it + 1) * sliceSize);
      feed[name] = new ort.Tensor(t.type, data, sliceShape);
    }
    let result;
    try {
      result = await session.run(feed);
    } catch (e) {
      die(`ONNX Runtime failed to run ${args.model}: ${e.message}`);
    }
    for (const name of session.outputNames) {
      const r = result[name];
      if (!outputs[name]) outputs[name] = { type: r.type, dims: r.dims.slice(), parts: [] };
      // Copy: ORT may reuse the output buffer.
      outputs[name].parts.push(r.data.slice());
    }
  }

  const names = session.outputNames;
  const many = names.length > 1;
  if (many) fs.mkdirSync(args.output, { recursive: true });
  for (const name of names) {
    const o = outputs[name];
    const total = o.parts.reduce((a, p) => a + p.length, 0);
    const data = new o.parts[0].constructor(total);
    let off = 0;
    for (const p of o.parts) {
      data.set(p, off);
      off += p.length;
    }
    const shape = o.dims.slice();
    if (iterations > 1) {
      if (shape.length === 0) die(`output '${name}' is a scalar; cannot stack ${iterations} iterations`);
      shape[0] *= iterations;
    }
    const file = many ? path.join(args.output, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`) : args.output;
    writeNpy(file, o.type, shape, data);
  }

  if (args.optimized) {
    const counts = onnxOpTypes(args.optimized);
    const text = Object.keys(counts).sort().map((k) => `${k} x${counts[k]}`).join(', ');
    process.stdout.write(`ort: executed ops: ${text}\n`);
  }
  process.stdout.write(`ort: onnxruntime-node ${ort.env.versions.node}, ${iterations} run(s), outputs: ${names.join(', ')}\n`);
}

main().catch((e) => die(e.stack || String(e)));
