// The township side of the PouchDB peer: one timed push replication into express-pouchdb.
//
//   node replicate.js SERVER_URL DOCS DOC_BYTES [BATCH]
//
// Fills a local memory PouchDB with DOCS documents whose JSON is about DOC_BYTES long,
// creates the remote database, and only then starts the clock around a single
// PouchDB.replicate(source, remote, {batch_size: BATCH}). Prints one JSON line:
//   {"docs", "seconds", "docs_per_s", "doc_bytes", "batch", "written", "pouchdb"}
// and exits non-zero (message on stderr) if the remote does not end up with DOCS documents.
'use strict';

const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

const FILL_CHUNK = 5000;

function fail(message) {
  process.stderr.write(`replicate: ${message}\n`);
  process.exit(1);
}

function positive(text, name) {
  const value = Number.parseInt(text || '', 10);
  if (!Number.isInteger(value) || value <= 0) {
    fail(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

function makeDoc(i, docBytes) {
  const doc = { _id: `ev-${String(i).padStart(6, '0')}`, kind: 'event', seq: i, body: '' };
  // The filler is random hex, so neither a gzip on the wire nor the store can shrink it;
  // its length is whatever brings the whole JSON document to docBytes.
  const room = Math.max(0, docBytes - JSON.stringify(doc).length);
  doc.body = crypto.randomBytes(Math.ceil(room / 2)).toString('hex').slice(0, room);
  return doc;
}

async function main() {
  const [url, docsText, bytesText, batchText] = process.argv.slice(2);
  if (!url) {
    fail('usage: node replicate.js SERVER_URL DOCS DOC_BYTES [BATCH]');
  }
  const docs = positive(docsText, 'DOCS');
  const docBytes = positive(bytesText, 'DOC_BYTES');
  const batch = batchText === undefined ? 500 : positive(batchText, 'BATCH');

  const source = new PouchDB('township-source', { adapter: 'memory' });
  let totalBytes = 0;
  for (let start = 1; start <= docs; start += FILL_CHUNK) {
    const chunk = [];
    for (let i = start; i < Math.min(start + FILL_CHUNK, docs + 1); i++) {
      const doc = makeDoc(i, docBytes);
      totalBytes += JSON.stringify(doc).length;
      chunk.push(doc);
    }
    const results = await source.bulkDocs(chunk);
    const failed = results.find((r) => r.error);
    if (failed) {
      fail(`filling the source: ${JSON.stringify(failed)}`);
    }
  }

  const remote = new PouchDB(`${url.replace(/\/+$/, '')}/county-hub`);
  // Creating the database is setup, as the county hub's schema is: keep it out of the clock.
  await remote.info();

  const started = performance.now();
  const result = await PouchDB.replicate(source, remote, { batch_size: batch });
  const seconds = (performance.now() - started) / 1000;

  if (!result.ok || result.status !== 'complete') {
    fail(`replication did not complete: ${JSON.stringify(result)}`);
  }
  const info = await remote.info();
  if (info.doc_count !== docs) {
    fail(`the remote holds ${info.doc_count} documents, not ${docs}`);
  }
  process.stdout.write(
    JSON.stringify({
      docs,
      seconds,
      docs_per_s: docs / seconds,
      doc_bytes: Math.round(totalBytes / docs),
      batch,
      written: result.docs_written,
      pouchdb: PouchDB.version,
    }) + '\n',
  );
  await source.destroy();
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
