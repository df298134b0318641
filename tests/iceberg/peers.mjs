#!/usr/bin/env node
// Independent readers of the Iceberg tables lakehouse writes (test peers,
// pinned in tests/peers/package.json):
//
//   node tests/iceberg/peers.mjs avsc SCHEMAS_DIR FILE.avro...
//       Decodes each Avro container with avsc. Manifest lists are also
//       resolved against the spec's v2 manifest_file schema
//       (fixtures/iceberg/avro_schemas); manifests are checked field by
//       field id against the spec's manifest_entry schema (names and
//       types, besides the v1-only block_size_in_bytes and the partition
//       record, whose fields depend on the spec). Prints one JSON line per
//       file: {"file", "kind", "records", "meta": {header keys}, "rows"}.
//   node tests/iceberg/peers.mjs icebird DIR PORT TABLE_PATH
//       Serves DIR over HTTP on 127.0.0.1:PORT (with Range requests, as
//       hyparquet needs) and reads http://127.0.0.1:PORT/TABLE_PATH with
//       icebird (current snapshot). Prints the rows as NDJSON (longs as
//       numbers, dates as days since the epoch).
import { createRequire } from 'node:module'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const peers = process.env.LH_PEERS_DIR || path.join(here, '..', '..', '.npm-peers')
const require = createRequire(path.join(peers, 'node_modules', 'x.js'))

function jsonify(v) {
  return JSON.stringify(v, (k, x) => {
    if (typeof x === 'bigint') return Number(x)
    if (x instanceof Date) return Math.round(x.getTime() / 86400000)
    if (Buffer.isBuffer(x)) return x.toString('hex')
    if (x instanceof Uint8Array) return Buffer.from(x).toString('hex')
    return x
  })
}

function fieldsById(schema, out = new Map(), prefix = '') {
  const walk = (t, p) => {
    if (Array.isArray(t)) { t.forEach((b) => walk(b, p)); return }
    if (t && typeof t === 'object') {
      if (t.type === 'record') {
        for (const f of t.fields) {
          if (f['field-id'] !== undefined) out.set(f['field-id'], { name: f.name, type: f.type })
          walk(f.type, p + '.' + f.name)
        }
      } else if (t.type === 'array') walk(t.items, p)
      else if (t.type === 'map') walk(t.values, p)
    }
  }
  walk(schema, prefix)
  return out
}

function baseType(t) {
  if (Array.isArray(t)) t = t.find((b) => b !== 'null')
  if (t && typeof t === 'object') return t.type === 'array' ? 'array' : t.type
  return t
}

async function avsc(schemasDir, files) {
  const avro = require('avsc')
  const listSpec = JSON.parse(fs.readFileSync(path.join(schemasDir, 'avro_schema_manifest_file_v2.json')))
  const entrySpec = JSON.parse(fs.readFileSync(path.join(schemasDir, 'avro_schema_manifest_entry.json')))
  const entryIds = fieldsById(entrySpec)
  // Iceberg's longs (snapshot ids) pass 2^53: read them as BigInts.
  const longType = avro.types.LongType.__with({
    fromBuffer: (buf) => buf.readBigInt64LE(),
    toBuffer: (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b },
    fromJSON: BigInt,
    toJSON: Number,
    isValid: (n) => typeof n === 'bigint',
    compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
  })
  const longs = (schema) =>
    schema === 'long' || (schema && schema.type === 'long' && !schema.logicalType)
      ? longType : undefined
  let failed = false
  for (const file of files) {
    const rows = []
    let meta = {}
    let writer = null
    let rawSchema = null
    await new Promise((resolve, reject) => {
      avro.createFileDecoder(file, {
        codecs: { deflate: require('zlib').inflateRaw },
        parseHook: (schema) => avro.Type.forSchema(schema, { typeHook: longs }),
      })
        .on('metadata', (type, codec, header) => {
          writer = type
          rawSchema = JSON.parse(header.meta['avro.schema'].toString())
          for (const [k, v] of Object.entries(header.meta)) {
            if (!k.startsWith('avro.')) meta[k] = v.toString()
          }
        })
        .on('data', (r) => rows.push(r))
        .on('end', resolve)
        .on('error', reject)
    })
    const schema = rawSchema
    const isList = schema.name === 'manifest_file'
    const problems = []
    if (isList) {
      // Resolution against the spec's schema: every record reads.
      const reader = avro.Type.forSchema(listSpec, { typeHook: longs })
      const resolver = reader.createResolver(writer)
      for (const r of rows) reader.fromBuffer(writer.toBuffer(r), resolver)
    } else {
      const ours = fieldsById(schema)
      for (const [id, f] of entryIds) {
        if (f.name === 'block_size_in_bytes' || id === 102 || id >= 1000) continue
        const o = ours.get(id)
        if (!o) { if (!Array.isArray(f.type)) problems.push('missing required field ' + f.name); continue }
        if (o.name !== f.name) problems.push(`field ${id} is ${o.name}, the spec says ${f.name}`)
        if (baseType(o.type) !== baseType(f.type)) problems.push(`field ${f.name}: ${baseType(o.type)} vs ${baseType(f.type)}`)
      }
    }
    if (problems.length) { failed = true }
    process.stdout.write(jsonify({ file: path.basename(file), kind: isList ? 'list' : 'manifest', records: rows.length, meta, problems, rows }) + '\n')
  }
  process.exit(failed ? 1 : 0)
}

function serve(dir, port) {
  const server = http.createServer((req, res) => {
    const p = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname))
    if (!p.startsWith(dir) || !fs.existsSync(p) || fs.statSync(p).isDirectory()) {
      res.writeHead(404); res.end(); return
    }
    const size = fs.statSync(p).size
    const range = req.headers.range && /bytes=(\d*)-(\d*)/.exec(req.headers.range)
    if (range) {
      let start = range[1] === '' ? size - Number(range[2]) : Number(range[1])
      let end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1)
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' })
      if (req.method === 'HEAD') { res.end(); return }
      fs.createReadStream(p, { start, end }).pipe(res)
      return
    }
    res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes' })
    if (req.method === 'HEAD') { res.end(); return }
    fs.createReadStream(p).pipe(res)
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}

async function icebird(dir, port, table) {
  const server = await serve(path.resolve(dir), Number(port))
  try {
    const { icebergRead } = await import(path.join(peers, 'node_modules', 'icebird', 'src', 'index.js'))
    const rows = await icebergRead({ tableUrl: `http://127.0.0.1:${port}/${table}` })
    for (const r of rows) process.stdout.write(jsonify(r) + '\n')
  } finally {
    server.close()
  }
}

const [cmd, ...args] = process.argv.slice(2)
try {
  if (cmd === 'avsc') await avsc(args[0], args.slice(1))
  else if (cmd === 'icebird') await icebird(args[0], args[1], args[2])
  else { console.error('usage: peers.mjs avsc SCHEMAS FILE... | icebird DIR PORT TABLE'); process.exit(2) }
} catch (e) {
  console.error(String(e && e.stack || e))
  process.exit(1)
}
