// cafeperks: a coffee chain's partner plugin for membergraph, written in Node.js to show that
// partners need not write Go. It speaks the same protocol as the Go SDK's plugins: the
// go-plugin handshake with automatic mTLS, the membergraph.partner.v1.Partner service, the
// health check and the controller. Its benefit: one free drink voucher per member and month.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const selfsigned = require('selfsigned');
const descriptors = require('./descriptors.json');

const COOKIE_KEY = 'MEMBERGRAPH_PARTNER_PLUGIN';
const COOKIE_VALUE = '2f6d1c0e-membergraph-partner';
const API_VERSION = 1;
const BENEFIT = 'FREE_DRINK';

if (process.env[COOKIE_KEY] !== COOKIE_VALUE) {
  process.stderr.write('This is a membergraph partner plugin: the membergraph server starts it.\n');
  process.exit(1);
}

const proto = grpc.loadPackageDefinition(protoLoader.fromJSON(descriptors, { keepCase: false, longs: Number, enums: String, defaults: true }));

// The grant book: a JSON file in the state directory, replaced atomically on every change.
let stateFile = null;
let state = { grants: {}, byKey: {}, monthly: {} };

function load(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  stateFile = path.join(dir, 'grants.json');
  if (fs.existsSync(stateFile)) state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
}

function save() {
  const tmp = stateFile + '.tmp';
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, JSON.stringify(state));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, stateFile);
}

function fail(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

const month = () => new Date().toISOString().slice(0, 7);
const endOfMonth = () => {
  const d = new Date();
  return Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000);
};

const partner = {
  Describe(call, cb) {
    cb(null, {
      key: 'cafeperks', name: 'Café perks', version: '1.0.0', apiVersions: [API_VERSION],
      benefits: [{ key: BENEFIT, name: 'A free drink every month', description: 'One voucher per calendar month, valid to its end.' }],
      configSchema: [],
    });
  },
  Configure(call, cb) {
    try {
      load(call.request.stateDir);
      cb(null, {});
    } catch (e) {
      cb(fail(grpc.status.INVALID_ARGUMENT, `state directory: ${e.message}`));
    }
  },
  CheckEligibility(call, cb) {
    if (call.request.benefitKey !== BENEFIT) return cb(fail(grpc.status.NOT_FOUND, `unknown benefit ${call.request.benefitKey}`));
    const who = call.request.member ? call.request.member.externalId : '';
    const used = state.monthly[`${who}|${month()}`];
    cb(null, used ? { eligible: false, reason: 'this month’s drink is claimed already' } : { eligible: true, reason: '' });
  },
  Grant(call, cb) {
    const req = call.request;
    if (req.benefitKey !== BENEFIT) return cb(fail(grpc.status.NOT_FOUND, `unknown benefit ${req.benefitKey}`));
    const prev = state.byKey[req.idempotencyKey];
    if (prev) return cb(null, response(state.grants[prev]));
    const who = req.member ? req.member.externalId : '';
    const slot = `${who}|${month()}`;
    if (state.monthly[slot]) return cb(fail(grpc.status.FAILED_PRECONDITION, 'this month’s drink is claimed already'));
    const id = crypto.randomBytes(12).toString('hex');
    const g = { id, key: req.idempotencyKey, externalId: who, code: `CAFE-${id.slice(0, 8).toUpperCase()}`, expiresAtUnix: endOfMonth(), revoked: false };
    state.grants[id] = g;
    state.byKey[req.idempotencyKey] = id;
    state.monthly[slot] = id;
    try {
      save();
    } catch (e) {
      delete state.grants[id];
      delete state.byKey[req.idempotencyKey];
      delete state.monthly[slot];
      return cb(fail(grpc.status.INTERNAL, `saving: ${e.message}`));
    }
    cb(null, response(g));
  },
  Revoke(call, cb) {
    const g = state.grants[call.request.grantId];
    if (!g) return cb(fail(grpc.status.NOT_FOUND, `unknown grant ${call.request.grantId}`));
    if (!g.revoked) {
      g.revoked = true;
      save();
    }
    cb(null, {});
  },
  Status(call, cb) {
    const g = state.grants[call.request.grantId];
    if (!g) return cb(fail(grpc.status.NOT_FOUND, `unknown grant ${call.request.grantId}`));
    let st = 'STATE_ACTIVE';
    if (g.revoked) st = 'STATE_REVOKED';
    else if (Date.now() / 1000 >= g.expiresAtUnix) st = 'STATE_EXPIRED';
    cb(null, { state: st, expiresAtUnix: g.expiresAtUnix, detail: '' });
  },
  Report(call, cb) {
    cb(fail(grpc.status.UNIMPLEMENTED, 'cafeperks takes no reports'));
  },
};

function response(g) {
  return { grantId: g.id, code: g.code, expiresAtUnix: g.expiresAtUnix, description: 'Show the code at any café until the month ends' };
}

async function main() {
  // Automatic mTLS: the host sends its certificate; we answer with ours in the handshake
  // and accept only clients holding the host's.
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  if (!clientCert) throw new Error('PLUGIN_CLIENT_CERT is missing: the host must run with AutoMTLS');
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
    ],
  });
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(clientCert),
    [{ private_key: Buffer.from(pems.private), cert_chain: Buffer.from(pems.cert) }], true);

  const server = new grpc.Server();
  server.addService(proto.membergraph.partner.v1.Partner.service, partner);
  server.addService(proto.grpc.health.v1.Health.service, {
    Check(call, cb) { cb(null, { status: 'SERVING' }); },
  });
  server.addService(proto.plugin.GRPCController.service, {
    Shutdown(call, cb) { cb(null, {}); setImmediate(() => process.exit(0)); },
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  const der = pems.cert.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '').replace(/=+$/, '');
  // The go-plugin handshake: core version | app version | network | address | protocol | cert.
  process.stdout.write(`1|${API_VERSION}|tcp|127.0.0.1:${port}|grpc|${der}\n`);

  // Exit when the host is gone, however it ended.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(3); }, 250).unref();
}

main().catch((e) => {
  process.stderr.write(`cafeperks: ${e.stack || e}\n`);
  process.exit(1);
});
