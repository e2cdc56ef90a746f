// Turns the protocol's .proto files into the JSON descriptors the bundled plugin loads, so
// the executable needs no files beside it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');

const root = new protobuf.Root();
root.loadSync([
  path.join(__dirname, '../../plugins/proto/partner/v1/partner.proto'),
  path.join(__dirname, 'health.proto'),
  path.join(__dirname, 'protocol.proto'),
], { keepCase: false });
fs.writeFileSync(path.join(__dirname, 'descriptors.json'), JSON.stringify(root.toJSON()));
