// The county side of the PouchDB peer: express-pouchdb on 127.0.0.1, PouchDB 9 underneath.
//
//   node server.js PORT        (0: any free port; the line printed names the one taken)
//
// Storage is the memory adapter, so every start is empty and nothing is left on disk.
// Prints "listening PORT" once ready; otherwise quiet (no request log), since the
// benchmark reads stdout for the ready line and a log would only cost time.
'use strict';

const express = require('express');
const expressPouchDB = require('express-pouchdb');
const PouchDB = require('pouchdb').plugin(require('pouchdb-adapter-memory'));

const port = Number.parseInt(process.argv[2] || '', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: node server.js PORT\n');
  process.exit(2);
}

// defaults() rather than a global adapter: the databases express-pouchdb opens by name
// must land in memory, not in leveldb folders under the working directory.
const MemoryPouchDB = PouchDB.defaults({ adapter: 'memory' });

// minimumForPouchDB: the routes replication needs and nothing that writes config.json or
// log.txt into the working directory (the full CouchDB mode does both).
const app = express();
app.use('/', expressPouchDB(MemoryPouchDB, { mode: 'minimumForPouchDB' }));

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`server: ${err.message}\n`);
  process.exit(1);
});

function stop() {
  server.close(() => process.exit(0));
  // Keep-alive sockets of the replicator may hold close() open; do not wait for them.
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
