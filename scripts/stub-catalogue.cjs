'use strict';
// Preloaded (NODE_OPTIONS=--require=<this file>) into `node-red-dev validate` by scripts/validate.sh.
// The Flow Library catalogue (catalogue.nodered.org) cannot be reached from CI, and node-red-dev aborts without it.
// This answers only that URL with an empty catalogue, so P08 and N01 (name clashes with published modules) pass
// vacuously; every other check runs for real. In any other process it does nothing.
const { dirname } = require('node:path');
const { realpathSync } = require('node:fs');

function nodeRedDevDir() {
  try {
    const main = realpathSync(process.argv[1] || '');
    return dirname(require.resolve('node-red-dev/package.json', { paths: [dirname(main)] }));
  } catch {
    return null;
  }
}

const dir = nodeRedDevDir();
if (dir && /node-red-dev/.test(realpathSync(process.argv[1]))) {
  const axios = require(require.resolve('axios', { paths: [dir] }));
  const realGet = axios.get.bind(axios);
  axios.get = (url, ...rest) =>
    /^https:\/\/catalogue\.nodered\.org\//.test(String(url))
      ? Promise.resolve({ status: 200, data: { name: 'Node-RED Community catalogue (offline stub)', modules: [] } })
      : realGet(url, ...rest);
}
